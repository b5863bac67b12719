"""The soak's peer, run inside namespace B: a DNS responder (UDP 53 on 10.200.N.2), a sink that
drains TCP port 9000 (bursts, steady and trickle uploads) and a tiny HTTP server on port 8080
for the short connections (reads one request, answers 204, closes). Dual-stack sockets bound to
'::' inside B, so only B's own addresses are ever served. Stops by itself after `lifetime` s.

usage: peer.py CONFIG LIFETIME_S
"""

import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schedule  # noqa: E402

cfg = schedule.load(sys.argv[1])
DEADLINE = time.monotonic() + float(sys.argv[2])
names = {k.encode(): v for k, v in schedule.burst_name_to_addr(cfg).items()}
stats = {"dns_q": 0, "dns_a": 0, "drained_conns": 0, "short_conns": 0}


def encode_name(name):
    return b"".join(bytes([len(p)]) + p for p in name.split(b".") if p) + b"\x00"


def rr(name_ptr, rtype, rdata, ttl=300):
    return name_ptr + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def answer(q):
    """The reply to query q (bytes), or None."""
    if len(q) < 17:
        return None
    end = 12
    labels = []
    while end < len(q) and q[end] != 0 and len(labels) < 64:
        ln = q[end]
        labels.append(q[end + 1 : end + 1 + ln])
        end += ln + 1
    if end + 5 > len(q):
        return None
    question = q[12 : end + 5]
    qtype = struct.unpack(">H", q[end + 1 : end + 3])[0]
    name = b".".join(labels).lower()
    answers = []
    if name.endswith(b".in-addr.arpa") or name.endswith(b".ip6.arpa"):
        if qtype == 12:
            answers.append(rr(b"\xc0\x0c", 12, encode_name(b"rdns.soak.test")))
    elif name in names:
        addr = names[name]
        if qtype == 1 and ":" not in addr:
            answers.append(rr(b"\xc0\x0c", 1, socket.inet_pton(socket.AF_INET, addr)))
        elif qtype == 28 and ":" in addr:
            answers.append(rr(b"\xc0\x0c", 28, socket.inet_pton(socket.AF_INET6, addr)))
    elif name.startswith(b"q") and name.endswith(b".soak.test") and qtype in (1, 28):
        try:
            seq = int(name[1:].split(b".")[0])
        except ValueError:
            seq = None
        if seq is not None:
            addr = schedule.bulk_answer(cfg, seq, qtype)
            fam = socket.AF_INET if qtype == 1 else socket.AF_INET6
            rdata = socket.inet_pton(fam, addr)
            if seq % 4 == 3:
                # a CNAME chain: q<seq> -> c<seq> -> address
                target = b"c" + name
                answers.append(rr(b"\xc0\x0c", 5, encode_name(target)))
                # the target name sits right after the CNAME's fixed part
                off = 12 + len(question) + 12
                answers.append(rr(struct.pack(">H", 0xC000 | off), qtype, rdata))
            else:
                answers.append(rr(b"\xc0\x0c", qtype, rdata))
    hdr = q[:2] + b"\x81\x80" + struct.pack(">HHHH", 1, len(answers), 0, 0)
    return hdr + question + b"".join(answers)


def dns_loop():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((schedule.dns_server(cfg), 53))
    s.settimeout(1.0)
    while time.monotonic() < DEADLINE:
        try:
            q, a = s.recvfrom(512)
        except socket.timeout:
            continue
        stats["dns_q"] += 1
        r = answer(q)
        if r is not None:
            stats["dns_a"] += 1
            s.sendto(r, a)


def listener(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(256)
    s.settimeout(1.0)
    return s


def drain(c):
    c.settimeout(60)
    try:
        while time.monotonic() < DEADLINE and c.recv(65536):
            pass
    except OSError:
        pass
    c.close()


def short_one(c):
    c.settimeout(5)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf and len(buf) < 4096:
            d = c.recv(4096)
            if not d:
                break
            buf += d
        c.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    c.close()


def accept_loop(port, handler, counter):
    """Accepts on `port` until the deadline, one thread per connection running `handler`."""
    s = listener(port)
    while time.monotonic() < DEADLINE:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        stats[counter] += 1
        threading.Thread(target=handler, args=(c,), daemon=True).start()


threads = [
    threading.Thread(target=dns_loop, daemon=True),
    threading.Thread(target=accept_loop, args=(9000, drain, "drained_conns"), daemon=True),
    threading.Thread(target=accept_loop, args=(8080, short_one, "short_conns"), daemon=True),
]
for t in threads:
    t.start()
time.sleep(0.3)
print("listening", flush=True)
while time.monotonic() < DEADLINE and all(t.is_alive() for t in threads):
    time.sleep(1)
print("peer:", stats, flush=True)
