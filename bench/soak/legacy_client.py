"""The soak's legacy-protocol client, run inside namespace A: connects to leakwatch's legacy port
on 127.0.0.1 and polls every 500 ms with `get_alert` (repeated within a poll until the queue says
:::daemon_protocol_no_msg:::, at most 100 times), like an old GUI. Every alert object is written
to OUT_JSONL with the time it was received. Stops when STOP_FILE exists (after one last poll) or
after LIFETIME_S; prints its counters as one JSON line.

usage: legacy_client.py PORT OUT_JSONL STOP_FILE LIFETIME_S
"""

import json
import os
import socket
import sys
import time

port, out_path, stop_file, lifetime = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
T0 = time.monotonic()
DEADLINE = T0 + lifetime
out = open(out_path, "a", buffering=1)
c = {"polls": 0, "get_alert": 0, "alerts": 0, "no_msg": 0, "other_replies": 0, "reconnects": 0,
     "slow_polls": 0, "max_reply_ms": 0.0, "errors": []}


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.f = self.s.makefile("rb")
        greeting = self.f.readline()
        if greeting != b":::daemon_protocol_start:::\n":
            raise OSError(f"bad greeting {greeting!r}")

    def ask(self, line):
        t = time.monotonic()
        self.s.sendall(line.encode() + b"\n")
        r = self.f.readline()
        if not r.endswith(b"\n"):
            raise OSError("connection closed")
        c["max_reply_ms"] = max(c["max_reply_ms"], round((time.monotonic() - t) * 1000, 2))
        return r.decode().strip()

    def close(self):
        try:
            self.ask("quit")
        except OSError:
            pass
        self.s.close()


def poll(conn):
    c["polls"] += 1
    for _ in range(100):
        c["get_alert"] += 1
        r = conn.ask("get_alert")
        if r == ":::daemon_protocol_no_msg:::":
            c["no_msg"] += 1
            return
        try:
            alert = json.loads(r)
        except ValueError:
            c["other_replies"] += 1
            return
        c["alerts"] += 1
        out.write(json.dumps({"t": round(time.monotonic() - T0, 2), "alert": alert}) + "\n")


conn = None
k = 0
stopping = False
while time.monotonic() < DEADLINE and k < 10_000_000:
    stopping = os.path.exists(stop_file)
    try:
        if conn is None:
            conn = Conn()
        poll(conn)
    except OSError as e:
        if len(c["errors"]) < 50:
            c["errors"].append(f"{time.monotonic() - T0:.1f}s {e}")
        conn = None
        c["reconnects"] += 1
        if c["reconnects"] > 50:
            break
    if stopping:
        break
    k += 1
    # the next 500 ms tick; a poll that overran its tick is counted, ticks are not caught up
    nxt = T0 + 0.5 * k
    if time.monotonic() > nxt:
        c["slow_polls"] += 1
        k = int((time.monotonic() - T0) / 0.5) + 1
        nxt = T0 + 0.5 * k
    time.sleep(max(0, nxt - time.monotonic()))
if conn is not None:
    conn.close()
c["seconds"] = round(time.monotonic() - T0, 1)
print(json.dumps(c), flush=True)
