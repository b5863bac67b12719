#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from real captures and pattern files (run once, then `cargo fuzz cmin`).

    python3 fuzz/seed_corpus.py OUT_DIR CAPTURE... -- JSON_FILE...

Frames (pcap or pcapng, Ethernet/Linux SLL/raw IP) give the `packet` seeds; their DNS, TLS
ClientHello and HTTP request payloads give the `dns`, `sni`, `http_host` and `extractor` seeds;
the JSON files (pattern, filter and ignore files) give the `patterns` seeds, and each filter in
them one `session` seed (`ignore_tmp` followed by the filter). Standard library only.
"""

import hashlib
import json
import os
import struct
import sys

# Index into the packet target's LINKS array, by pcap link type.
LINK_SEL = {1: 0, 0: 1, 108: 2, 101: 3, 12: 3, 14: 3, 228: 3, 229: 3, 113: 4, 276: 5}
METHODS = (b"GET ", b"POST ", b"PUT ", b"HEAD ", b"OPTIONS ", b"DELETE ", b"PATCH ", b"CONNECT ")


def frames(path):
    """Yields (linktype, frame bytes) of a pcap or pcapng file."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
        at = 24
        while at + 16 <= len(data):
            incl = struct.unpack(e + "I", data[at + 8 : at + 12])[0]
            yield link, data[at + 16 : at + 16 + incl]
            at += 16 + incl
    elif magic == b"\x0a\x0d\x0d\x0a":
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        links, at = [], 0
        while at + 12 <= len(data):
            ty, blen = struct.unpack(e + "II", data[at : at + 8])
            body = data[at + 8 : at + blen - 4]
            if ty == 1:
                links.append(struct.unpack(e + "H", body[:2])[0])
            elif ty == 6:
                iface, _, _, incl = struct.unpack(e + "IIII", body[:16])
                yield links[iface], body[20 : 20 + incl]
            elif ty == 3:
                yield links[0], body[4:]
            if blen < 12:
                break
            at += blen


def transport(link, frame):
    """(proto, sport, dport, seq, payload) of a TCP/UDP frame, or None."""
    if link == 1:
        at, ethertype = 14, struct.unpack(">H", frame[12:14])[0]
        while ethertype in (0x8100, 0x88A8) and len(frame) >= at + 4:
            ethertype, at = struct.unpack(">H", frame[at + 2 : at + 4])[0], at + 4
    elif link == 113:
        at, ethertype = 16, struct.unpack(">H", frame[14:16])[0]
    elif link in (101, 12, 14, 228, 229):
        at, ethertype = 0, 0x0800 if frame[:1] and frame[0] >> 4 == 4 else 0x86DD
    else:
        return None
    ip = frame[at:]
    if ethertype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        if struct.unpack(">H", ip[6:8])[0] & 0x1FFF:
            return None
        proto, l4 = ip[9], ip[ihl:total]
    elif ethertype == 0x86DD and len(ip) >= 40:
        proto, l4 = ip[6], ip[40 : 40 + struct.unpack(">H", ip[4:6])[0]]
    else:
        return None
    if proto == 6 and len(l4) >= 20:
        sport, dport, seq = struct.unpack(">HHI", l4[:8])
        return "tcp", sport, dport, seq, l4[(l4[12] >> 4) * 4 :]
    if proto == 17 and len(l4) >= 8:
        sport, dport = struct.unpack(">HH", l4[:4])
        return "udp", sport, dport, 0, l4[8:]
    return None


def save(out, target, data, seen):
    h = hashlib.sha1(data).hexdigest()
    if (target, h) in seen:
        return
    seen.add((target, h))
    os.makedirs(os.path.join(out, target), exist_ok=True)
    open(os.path.join(out, target, "seed-" + h), "wb").write(data)


def extractor_seed(segments):
    """The extractor target's input format: [flags, seq(4), dt, len] + payload, len <= 255."""
    out = bytearray()
    for flags, seq, payload in segments:
        for i in range(0, len(payload), 255):
            chunk = payload[i : i + 255]
            out += bytes([flags]) + struct.pack(">I", (seq + i) & 0xFFFFFFFF) + bytes([1, len(chunk)]) + chunk
    return bytes(out)


def main():
    args = sys.argv[1:]
    out, rest = args[0], args[1:]
    caps, jsons = (rest[: rest.index("--")], rest[rest.index("--") + 1 :]) if "--" in rest else (rest, [])
    seen = set()
    per_file = 400  # frames per capture used as packet seeds (cmin keeps what adds coverage)
    for cap in caps:
        hellos = {}
        for n, (link, frame) in enumerate(frames(cap)):
            if link in LINK_SEL and n < per_file:
                save(out, "packet", bytes([LINK_SEL[link]]) + struct.pack(">H", len(frame)) + frame, seen)
            t = transport(link, frame)
            if not t:
                continue
            proto, sport, dport, seq, payload = t
            if not payload:
                continue
            if 53 in (sport, dport):
                if proto == "udp":
                    save(out, "dns", payload, seen)
                else:
                    save(out, "dns", payload, seen)
                    if sport == 53:
                        save(out, "extractor", extractor_seed([(0x01, seq, payload)]), seen)
            elif proto == "tcp" and payload[:2] == b"\x16\x03" and len(payload) > 5 and payload[5] == 1:
                save(out, "sni", payload, seen)
                hellos.setdefault((sport, dport), (seq, payload))
            elif proto == "tcp" and payload.startswith(METHODS):
                save(out, "http_host", payload[:2048], seen)
        # ClientHellos for the reassembly, in segments of at most 255 bytes.
        for seq, hello in list(hellos.values())[:20]:
            save(out, "extractor", extractor_seed([(0x00, seq, hello)]), seen)
    for path in jsons:
        text = open(path, "rb").read()
        save(out, "patterns", text, seen)
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        for f in (doc.get("filters") or [])[:30] if isinstance(doc, dict) else []:
            compact = json.dumps(f, separators=(",", ":")).encode()
            save(out, "patterns", compact, seen)
            save(out, "session", b"\x00ping\nignore_tmp\n" + compact + b"\nget_alert\nquit\n", seen)
    for s in (
        b"ping\nget_alert\nget_info\ngrab_all_user_ignores\ndelete_user_ignore\n1\nquit\n",
        b"\x01PING\r\nget_alert\r\n\r\n",
        b"ignore_permanent\n{\"name\":\"everything\",\"pattern\":{}}\ndelete_user_ignore\nnope\n",
        b"x" * 300 + b"\rping\r\n",
    ):
        save(out, "session", s, seen)


if __name__ == "__main__":
    main()
