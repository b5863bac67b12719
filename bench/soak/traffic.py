"""The soak's traffic generator, run inside namespace A (one python3 process, so every threat
is this program to one destination). Follows schedule.py for `duration` seconds, then prints
its counters as one JSON line. Every loop is bounded in count and time.

usage: traffic.py CONFIG LOG_JSONL
"""

import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schedule  # noqa: E402

cfg = schedule.load(sys.argv[1])
log = open(sys.argv[2], "a", buffering=1)
T0 = time.monotonic()
END = T0 + cfg["duration"]
lock = threading.Lock()
c = {
    "steady_bytes": 0, "steady_reconnects": 0, "trickle_bytes": 0, "trickle_sends": 0,
    "short_ok": 0, "short_failed": 0, "dns_queries": 0, "dns_answers": 0, "dns_wrong": 0,
    "bursts_done": 0, "bursts_failed": 0, "burst_bytes": 0, "errors": [],
}


def count(key, n=1):
    with lock:
        c[key] += n


def error(what):
    with lock:
        if len(c["errors"]) < 50:
            c["errors"].append(f"{time.monotonic() - T0:.1f}s {what}")


def now():
    return time.monotonic() - T0


def sleep_until(t):
    """Sleeps until t seconds after start (or the end); False when the end came first."""
    d = min(T0 + t, END) - time.monotonic()
    if d > 0:
        time.sleep(d)
    return time.monotonic() < END and now() >= t - 0.001


def connect(dst, port, timeout=5):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((dst, port))
    return s


# ---- DNS -----------------------------------------------------------------------------------
def dns_query(name, qtype, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p for p in name.encode().split(b".")) + b"\x00"
    q += struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        count("dns_queries")
        s.sendto(q, (schedule.dns_server(cfg), 53))
        r, _ = s.recvfrom(512)
        count("dns_answers")
        return r
    except OSError as e:
        error(f"dns {name}: {e}")
        return None
    finally:
        s.close()


def last_address(r):
    """The address in the last answer record of reply r (A or AAAA), or None."""
    if r is None or len(r) < 16:
        return None
    if r[-6:-4] == b"\x00\x04" and len(r) >= 4:
        return socket.inet_ntop(socket.AF_INET, r[-4:])
    if r[-18:-16] == b"\x00\x10":
        return socket.inet_ntop(socket.AF_INET6, r[-16:])
    return None


def dns_loop():
    seq = 0
    k = 0
    while k < 100_000:
        if not sleep_until(2 + 5 * k):
            break
        for _ in range(cfg["dns_batch"]):
            qtype = 1 if seq % 2 == 0 else 28
            r = dns_query(f"q{seq}.soak.test", qtype, seq & 0xFFFF)
            if r is not None and last_address(r) != schedule.bulk_answer(cfg, seq, qtype):
                count("dns_wrong")
            seq += 1
        k = max(k + 1, int((now() - 2) // 5) + 1)


# ---- steady and trickle --------------------------------------------------------------------
def steady_loop():
    dst = schedule.steady_dst(cfg)
    head = b"PUT /steady HTTP/1.1\r\nHost: steady.soak.test\r\nContent-Length: 1000000000\r\n\r\n"
    tick = 0
    reconnects = 0
    while time.monotonic() < END and reconnects <= 10:
        try:
            s = connect(dst, 9000)
            s.sendall(head)
            while tick < 10_000_000:
                if not sleep_until(1 + tick * 0.1):
                    break
                s.sendall(b"s" * 500)
                count("steady_bytes", 500)
                # the next 100 ms slot; slots missed during a stall are skipped, not caught up
                tick = max(tick + 1, int((now() - 1) / 0.1) + 1)
            s.close()
            return
        except OSError as e:
            error(f"steady: {e}")
            reconnects += 1
            count("steady_reconnects")
            time.sleep(1)


def trickle_loop():
    dst = schedule.trickle_dst(cfg)
    try:
        s = connect(dst, 9000)
    except OSError as e:
        error(f"trickle connect: {e}")
        return
    k = 0
    last = -10.0
    while k < 10_000_000:
        # 3 s slots, never closer than 2.5 s (a gap > 2 s ends an active run)
        if not sleep_until(max(1.5 + 3 * k, last + 2.5)):
            break
        last = now()
        try:
            s.sendall(b"t" * 1000)
        except OSError as e:
            error(f"trickle: {e}")
            return
        count("trickle_bytes", 1000)
        count("trickle_sends")
        k = int((now() - 1.5) // 3) + 1
    s.close()


# ---- short connections ---------------------------------------------------------------------
def short_one(dst, i):
    try:
        s = connect(dst, 8080, timeout=3)
        s.sendall(f"GET /s/{i} HTTP/1.1\r\nHost: short.soak.test\r\n\r\n".encode())
        r = s.recv(1024)
        s.close()
        if r.startswith(b"HTTP/1.1 204"):
            count("short_ok")
        else:
            count("short_failed")
    except OSError as e:
        count("short_failed")
        error(f"short {dst}: {e}")


def short_loop():
    dsts = schedule.short_dsts(cfg)
    i = 0
    k = 0
    last_end = -10.0
    while i < cfg["short_max"]:
        if not sleep_until(max(3 + 5 * k, last_end + 2.5)):
            break
        dst = dsts[k % 2]
        for _ in range(cfg["short_batch"]):
            if time.monotonic() >= END or i >= cfg["short_max"]:
                break
            short_one(dst, i)
            i += 1
        last_end = now()
        k = int((now() - 3) // 5) + 1


# ---- bursts ---------------------------------------------------------------------------------
def client_hello(host):
    ctx = ssl.create_default_context()
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = ctx.wrap_bio(i, o, server_hostname=host)
    try:
        t.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return o.read()


def burst(dst, naming, name):
    if naming == "dns":
        qtype = 28 if ":" in dst else 1
        r = dns_query(name, qtype, 0x4242)
        if last_address(r) != schedule.norm(dst):
            error(f"burst dns {name}: answer {last_address(r)} != {dst}")
    s = connect(dst, 9000)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if naming == "tls":
        s.sendall(client_hello(name))
        time.sleep(0.05)
    elif naming == "http":
        s.sendall(f"POST /burst HTTP/1.1\r\nHost: {name}\r\nContent-Length: {schedule.BURST_BYTES}\r\n\r\n".encode())
    chunk = b"b" * (schedule.BURST_BYTES // 30)
    for _ in range(30):
        s.sendall(chunk)
        count("burst_bytes", len(chunk))
        time.sleep(0.03)
    s.close()


def burst_loop():
    for (t, dst, naming, name, repeat) in schedule.bursts(cfg):
        if not sleep_until(t):
            break
        late = now() - t
        try:
            burst(dst, naming, name)
            count("bursts_done")
            log.write(json.dumps({"t": round(now(), 2), "late": round(late, 2), "dst": dst, "naming": naming,
                                  "name": name, "repeat": repeat}) + "\n")
        except OSError as e:
            count("bursts_failed")
            error(f"burst {dst}: {e}")


threads = [threading.Thread(target=f, daemon=True)
           for f in (dns_loop, steady_loop, trickle_loop, short_loop, burst_loop)]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=max(0, END - time.monotonic()) + 30)
c["alive_at_end"] = [t.name for t in threads if t.is_alive()]
c["seconds"] = round(now(), 1)
print(json.dumps(c), flush=True)
