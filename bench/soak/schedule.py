"""The soak's traffic schedule, shared by the generator (traffic.py), the peer (peer.py) and the
checker (report.py), so the expected alert list is known before the run starts.

Everything is a pure function of the configuration (a JSON file written by bench/soak.sh):
    {"duration": 600, "net": 199, "burst_every": 20, "first_burst": 30, ...}

Addresses (N = net): namespace A is 10.200.N.1 / fd00:200::N:1, namespace B is 10.200.N.2 /
fd00:200::N:2 plus the extra addresses listed by `extra_b_addresses`. Nothing else is ever used.

Destinations and what they must give (paranoid mode, default thresholds):
  10.200.N.2:53 UDP     DNS queries in batches every 5 s                 -> no alert
  10.200.N.3:9000       trickle: 1000 B every >= 2.5 s (3 s slots)       -> no alert
  fd00:200::N:4:9000    steady: 500 B every 100 ms for the whole run     -> exactly one "active"
  10.200.N.5:8080 and   short connections: batches of `short_batch`      -> no alert
  fd00:200::N:5:8080      every 5 s, alternating v4 / v6, ~60 B each
  10.200.N.(10+i) and   bursts: 300 KB in ~1 s, one destination each,    -> exactly one "sudden"
  fd00:200::N:(1000+i)    every 5th burst repeats the previous                per distinct
                          destination (inside --realert-after: no new        destination
                          alert)
  10.200.N.(200+k%50),  only named in DNS answers (bulk names), never sent to
  fd00:200::N:(2000+k%50)
"""

import ipaddress
import json
import sys

BURST_BYTES = 300_000
MAX_UNIQUE_V4 = 190  # 10.200.N.10 .. 10.200.N.199


def load(path):
    with open(path) as f:
        return json.load(f)


def v4(cfg, host):
    return f"10.200.{cfg['net']}.{host}"


def v6(cfg, group):
    return f"fd00:200::{cfg['net']}:{group}"


def dns_server(cfg):
    return v4(cfg, 2)


def trickle_dst(cfg):
    return v4(cfg, 3)


def steady_dst(cfg):
    return v6(cfg, 4)


def short_dsts(cfg):
    return [v4(cfg, 5), v6(cfg, 5)]


def unique_dst(cfg, u):
    """The u-th distinct burst destination: even u on IPv4, odd u on IPv6."""
    return v4(cfg, 10 + u // 2) if u % 2 == 0 else v6(cfg, 1000 + u // 2)


NAMINGS = ["dns", "tls", "http", "none"]


def bursts(cfg):
    """[(t, dst, naming, name, repeat)]: every burst, in order; t in seconds from the start."""
    out = []
    t = cfg["first_burst"]
    k = 0
    u = -1
    last = None
    # the last burst starts at least 20 s before the end, so its alert is polled in time
    while t <= cfg["duration"] - 20 and len(out) < cfg["max_bursts"]:
        if k % 5 == 4 and last is not None:
            dst, naming, name = last
            out.append((t, dst, naming, name, True))
        else:
            u += 1
            if u // 2 >= MAX_UNIQUE_V4:
                break
            dst = unique_dst(cfg, u)
            # each family gets each naming in turn
            naming = NAMINGS[(u // 2 + u % 2) % 4]
            name = None if naming == "none" else f"{naming}-{u}.soak.test"
            last = (dst, naming, name)
            out.append((t, dst, naming, name, False))
        k += 1
        t += cfg["burst_every"]
    return out


def burst_name_to_addr(cfg):
    """DNS names of the bursts named by DNS -> their address (the peer answers them)."""
    return {name: dst for (_, dst, naming, name, _) in bursts(cfg) if naming == "dns"}


def bulk_answer(cfg, seq, qtype):
    """The address the peer answers for the bulk name q<seq>.soak.test."""
    return v4(cfg, 200 + seq % 50) if qtype == 1 else v6(cfg, 2000 + seq % 50)


def extra_b_addresses(cfg):
    """Addresses B needs besides .2 / ::2 (with prefix length)."""
    addrs = {f"{trickle_dst(cfg)}/24", f"{steady_dst(cfg)}/64"}
    addrs.update(f"{a}/24" if ":" not in a else f"{a}/64" for a in short_dsts(cfg))
    addrs.update(f"{d}/24" if ":" not in d else f"{d}/64" for (_, d, _, _, _) in bursts(cfg))
    return sorted(addrs)


def norm(ip):
    return str(ipaddress.ip_address(ip))


def expected(cfg):
    """{dst: {"kind": ..., "hostname": expected name or None (not checked)}}"""
    exp = {norm(steady_dst(cfg)): {"kind": "active", "hostname": "steady.soak.test", "what": "steady upload"}}
    for (t, dst, naming, name, repeat) in bursts(cfg):
        if not repeat:
            exp[norm(dst)] = {"kind": "sudden", "hostname": name, "what": f"burst at {t} s ({naming})"}
    return exp


def check_addresses(cfg):
    """Every address the schedule uses is inside 10.200.0.0/16 or fd00:200::/64."""
    nets = [ipaddress.ip_network("10.200.0.0/16"), ipaddress.ip_network("fd00:200::/64")]
    used = [a.split("/")[0] for a in extra_b_addresses(cfg)] + [dns_server(cfg), v4(cfg, 1), v6(cfg, 1), v6(cfg, 2)]
    for k in range(50):
        used += [bulk_answer(cfg, k, 1), bulk_answer(cfg, k, 28)]
    for a in used:
        ip = ipaddress.ip_address(a)
        assert any(ip in n for n in nets), f"{a} is outside the soak's networks"


if __name__ == "__main__":
    cmd, path = sys.argv[1], sys.argv[2]
    c = load(path)
    check_addresses(c)
    if cmd == "addresses":
        print("\n".join(extra_b_addresses(c)))
    elif cmd == "expected":
        for d, e in expected(c).items():
            print(d, e["kind"], e["hostname"] or "-", e["what"])
    else:
        sys.exit(f"unknown command {cmd}")
