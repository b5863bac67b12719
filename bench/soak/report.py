"""The soak's verdict: compares the alerts leakwatch gave (its `run --json` stdout, and what the
legacy client fetched with get_alert) with schedule.expected(), and summarises memory and CPU
from the samples. Prints the figures; exits 1 when RSS grew by 5 MB or more after warm-up, or
when any alert was missed, duplicated or unexpected (on either channel).

usage: report.py WORKDIR
  WORKDIR holds config.json, run.stdout, run.stderr, legacy.jsonl, samples.tsv, traffic.json,
  client.json, meta.json (written by bench/soak.sh)
"""

import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schedule  # noqa: E402

W = sys.argv[1]
cfg = schedule.load(f"{W}/config.json")
meta = json.load(open(f"{W}/meta.json"))
exp = schedule.expected(cfg)
GROWTH_LIMIT_KB = 5 * 1024


def read_json_lines(path):
    out = []
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"unparsable": line})
    return out


def one_json(path):
    try:
        return json.loads(open(path).read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return {}


failures = []

# ---- alerts --------------------------------------------------------------------------------
# "… to host (ADDR, port N)." or, unnamed, "… to ADDR, port N."
IP = re.compile(r"([0-9a-fA-F:.]+), port \d+")


def legacy_dst(a):
    m = IP.search(a.get("message_full", "").replace("\u2068", "").replace("\u2069", ""))
    try:
        return schedule.norm(m.group(1)) if m else None
    except ValueError:
        return None


def compare(label, seen):
    """seen: [(dst or None, kind or None, hostname or None)]"""
    by = collections.defaultdict(list)
    for s in seen:
        by[s[0]].append(s)
    missed = sorted(d for d in exp if d not in by)
    dup = sorted(d for d in exp if len(by.get(d, [])) > 1)
    unexpected = sorted(str(d) for d in by if d not in exp)
    wrong_kind = sorted(d for d in exp if d in by and by[d][0][1] is not None and by[d][0][1] != exp[d]["kind"])
    wrong_name = sorted(
        f"{d}: {by[d][0][2]!r} (expected {exp[d]['hostname']!r})"
        for d in exp
        if d in by and exp[d]["hostname"] is not None and by[d][0][2] is not None and by[d][0][2] != exp[d]["hostname"]
    )
    print(f"  {label}: expected {len(exp)}, seen {len(seen)} ({len(by)} destinations), "
          f"missed {len(missed)}, duplicated {len(dup)}, unexpected {len(unexpected)}"
          + (f", wrong kind {len(wrong_kind)}" if wrong_kind else "")
          + (f", other host name {len(wrong_name)}" if wrong_name else ""))
    for what, lst in (("missed", missed), ("duplicated", dup), ("unexpected", unexpected),
                      ("wrong kind", wrong_kind), ("other host name", wrong_name)):
        for d in lst[:20]:
            extra = f" ({exp[d]['what']})" if d in exp else ""
            print(f"    {what}: {d}{extra}")
    if missed or dup or unexpected:
        failures.append(f"{label}: {len(missed)} missed, {len(dup)} duplicated, {len(unexpected)} unexpected")
    return {"seen": len(seen), "missed": len(missed), "duplicated": len(dup), "unexpected": len(unexpected),
            "wrong_kind": len(wrong_kind), "other_name": len(wrong_name)}


print("Alerts (expected: 1 steady 'active' + 1 'sudden' per distinct burst destination; "
      "repeats, trickle, short connections and DNS: none)")
run_lines = read_json_lines(f"{W}/run.stdout")
run_seen = []
for v in run_lines:
    if "dstip" in v:
        run_seen.append((schedule.norm(v["dstip"]), (v.get("kind") or "").lower() or None, v.get("hostname")))
    else:
        run_seen.append((None, None, None))
res_run = compare("run --json", run_seen)
leg = read_json_lines(f"{W}/legacy.jsonl")
leg_seen = []
for rec in leg:
    a = rec.get("alert", {})
    d = legacy_dst(a)
    # the legacy object has no kind or host fields: only the address is compared
    leg_seen.append((d, None, None))
res_leg = compare("legacy get_alert", leg_seen)
named = sum(1 for (d, k, h) in run_seen if d in exp and exp[d]["hostname"] and h == exp[d]["hostname"])
print(f"  host names as expected (run --json): {named} of {sum(1 for d in exp if exp[d]['hostname'])} named destinations")

# ---- memory and CPU ------------------------------------------------------------------------
samples = []
for line in open(f"{W}/samples.tsv"):
    p = line.split()
    if len(p) in (3, 5):
        # (seconds, VmRSS, ticks, RssAnon, RssFile); older files have no split: 0, 0.
        samples.append((float(p[0]), int(p[1]), int(p[2]), *(int(x) for x in p[3:5]), *([0, 0] if len(p) == 3 else [])))
hz = meta["hz"]
warm = meta["warmup"]
print(f"Memory and CPU of leakwatch (pid {meta['pid']}; {len(samples)} samples every 10 s)")
if samples:
    after = [s for s in samples if s[0] >= warm] or samples[-1:]
    w = after[0]
    end = samples[-1]
    peak = max(s[1] for s in samples)
    hwm = meta.get("vmhwm_kb") or 0
    growth = end[1] - w[1]
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    growth2 = end[1] - half[0][1] if half else 0
    cpu_s = (end[2] - samples[0][2]) / hz
    wall = end[0] - samples[0][0]
    cpu_w = (end[2] - w[2]) / hz
    wall_w = end[0] - w[0]
    print(f"  RSS at {w[0]:.0f} s (after warm-up): {w[1] / 1024:.1f} MiB ({w[1]} kB)")
    print(f"  RSS at the end ({end[0]:.0f} s): {end[1] / 1024:.1f} MiB ({end[1]} kB)")
    print(f"  growth after warm-up: {growth / 1024:+.2f} MiB ({growth:+d} kB); "
          f"over the second half: {growth2 / 1024:+.2f} MiB")
    print(f"  peak RSS: {peak / 1024:.1f} MiB sampled ({peak} kB); VmHWM {hwm / 1024:.1f} MiB "
          f"(the kernel's high-water mark, start-up included)")
    by_min = {}
    for s in samples:
        by_min.setdefault(int(s[0] // 60), s[1])
    print("  RSS by minute (MiB): " + " ".join(f"{m}:{kb / 1024:.1f}" for m, kb in sorted(by_min.items())))
    if end[3] or end[4]:
        print(f"  of which anonymous (heap): {w[3] / 1024:.1f} -> {end[3] / 1024:.1f} MiB ({(end[3] - w[3]) / 1024:+.2f}); "
              f"mapped files: {w[4] / 1024:.1f} -> {end[4] / 1024:.1f} MiB ({(end[4] - w[4]) / 1024:+.2f})")
    print(f"  CPU: {cpu_s:.1f} s user+system over {wall:.0f} s = {100 * cpu_s / max(wall, 1):.2f} % of one core "
          f"(after warm-up: {100 * cpu_w / max(wall_w, 1):.2f} %)")
    if growth >= GROWTH_LIMIT_KB:
        failures.append(f"RSS grew by {growth} kB after warm-up (limit {GROWTH_LIMIT_KB} kB)")
else:
    failures.append("no RSS samples")

# ---- traffic and client --------------------------------------------------------------------
t = one_json(f"{W}/traffic.json")
cl = one_json(f"{W}/client.json")
print("Traffic generated (namespace A -> B)")
print(f"  bursts: {t.get('bursts_done')} done, {t.get('bursts_failed')} failed, {t.get('burst_bytes')} B; "
      f"steady: {t.get('steady_bytes')} B ({t.get('steady_reconnects')} reconnects); "
      f"trickle: {t.get('trickle_sends')} sends")
print(f"  short connections: {t.get('short_ok')} ok, {t.get('short_failed')} failed; "
      f"DNS: {t.get('dns_queries')} queries, {t.get('dns_answers')} answers, {t.get('dns_wrong')} wrong")
for e in (t.get("errors") or [])[:10]:
    print(f"    generator error: {e}")
print("Legacy client")
print(f"  polls: {cl.get('polls')} (every 500 ms; {cl.get('slow_polls')} overran their tick), get_alert sent: "
      f"{cl.get('get_alert')}, alerts: {cl.get('alerts')}, reconnects: {cl.get('reconnects')}, "
      f"slowest reply: {cl.get('max_reply_ms')} ms")
for e in (cl.get("errors") or [])[:10]:
    print(f"    client error: {e}")
stderr = open(f"{W}/run.stderr").read().splitlines() if os.path.exists(f"{W}/run.stderr") else []
for line in stderr:
    if "stopped:" in line or "warning" in line or "error" in line:
        print(f"  leakwatch: {line.removeprefix('leakwatch: ')}")
if t.get("bursts_failed") or not t:
    failures.append("the generator failed some bursts (see its errors)")

json.dump({"run": res_run, "legacy": res_leg, "failures": failures}, open(f"{W}/result.json", "w"))
print()
if failures:
    print("SOAK FAILED: " + "; ".join(failures))
    sys.exit(1)
print("SOAK PASSED")
