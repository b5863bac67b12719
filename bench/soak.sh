#!/usr/bin/env bash
# Soak: hours-long mixed live traffic against `leakwatch run`, with the legacy socket polled.
#
# Run by hand as root (not in CI):   sudo bench/soak.sh            (one hour, the default)
#                                    sudo DURATION=600 bench/soak.sh   (ten minutes)
#
# LAST RESULT: one hour (the default), 2026-11-29 02:30-03:31 UTC, release build of commit 72bf3ad,
# Debian 12, 2 cores, nothing else running: SOAK PASSED.
#   RSS after warm-up (120 s) 74.5 MiB, at the end (3606 s) 76.2 MiB: growth +1.66 MiB
#   (+0.19 MiB over the second half; all heap, mapped files flat at 41.1 MiB); peak 76.2 MiB.
#   CPU 49.2 s in 3606 s = 1.36 % of one core.
#   Alerts: 144 expected (1 active + 143 sudden); run --json and legacy get_alert each 144 seen,
#   0 missed, 0 duplicated, 0 unexpected; 108 of 108 host names as expected. 7,212 polls, slowest
#   reply 2.61 ms, no reconnect. Traffic: 178 bursts 53.4 MB, steady 18.0 MB, 14,400 short
#   connections, 5,812 DNS queries; 136,588 packets, 19,129 flows, 0 dropped, 0 kernel drops.
# Earlier one-hour runs (docs/reliability.md#soak): 485f379 grew +12.6 MiB (the bounded tables'
# (key, slot) index; fixed in ce80c62); ce80c62 stepped up with builds beside it (connection
# tracing's execve name table: +2.1 MiB per 20,000 programs started, +0.65 MiB since 72bf3ad;
# bench/exec-rss.sh).
#
# What it does. Two network namespaces created here (lwsoak<pid>a: 10.200.N.1/24,
# fd00:200::N:1/64; lwsoak<pid>b: 10.200.N.2/24, fd00:200::N:2/64 and the extra addresses of the
# schedule, all inside 10.200.N.0/24 and fd00:200::/64), joined by a veth pair created directly
# inside them (as tests/netns does), and removed on exit whatever happens (trap). Nothing is sent
# anywhere else: A's resolv.conf (/etc/netns/<A>/resolv.conf) names B as its only name server.
#   * B runs bench/soak/peer.py: a DNS responder, a TCP sink (9000), a tiny HTTP server (8080);
#   * A runs the release `leakwatch run --json --interface <A's veth> --mode paranoid` (legacy
#     socket on, default ports 5000-5010 inside A), bench/soak/legacy_client.py polling it every
#     500 ms with get_alert, and bench/soak/traffic.py for DURATION seconds:
#       - steady upload: 500 B every 100 ms over IPv6 for the whole run -> exactly 1 "active" alert;
#       - trickle: 1000 B every 3 s over IPv4                          -> no alert;
#       - bursts: 300 KB in ~1 s every BURST_EVERY s, each to a distinct destination (alternately
#         IPv4 and IPv6, named by a DNS answer, a TLS ClientHello, an HTTP Host header or nothing),
#         every 5th repeating the previous one                         -> exactly 1 "sudden" per
#         distinct destination, none for the repeats (inside --realert-after);
#       - short connections: SHORT_BATCH every 5 s (4/s by default, v4 and v6 in turn; thousands)
#                                                                      -> no alert;
#       - DNS: DNS_BATCH queries every 5 s, each a new name (some CNAME chains) -> no alert.
#     The schedule is a pure function of the settings (bench/soak/schedule.py), so the expected
#     alert list is known in advance: `python3 bench/soak/schedule.py expected CONFIG`.
#   * Every 10 s it samples leakwatch's VmRSS (/proc/PID/status) and utime+stime (/proc/PID/stat).
#   * At the end bench/soak/report.py compares the alerts of both channels (stdout JSON lines and
#     get_alert) with the expected list and prints RSS after warm-up / at the end / growth / peak,
#     CPU seconds and average CPU %, alerts expected / seen / missed / duplicated / unexpected,
#     and the legacy polls made. Exit 1 when RSS grew by 5 MB or more after warm-up or any alert
#     was missed, duplicated or unexpected; 2 on a setup error.
#
# Environment:
#   DURATION      seconds of traffic (default 3600)
#   WARMUP        seconds after leakwatch's start at which the reference RSS is taken (default 120)
#   BURST_EVERY   seconds between bursts (default 20)
#   SHORT_BATCH   short connections per 5 s batch (default 20); SHORT_MAX caps them (default 50000)
#   DNS_BATCH     DNS queries per 5 s batch (default 8)
#   SOAK_NET      N, the third octet / group of the addresses (default 199)
#   CARGO_TARGET_DIR  build dir (default /var/cache/leakwatch-target); SKIP_BUILD=1 uses the
#                 existing release binary; LEAKWATCH=PATH uses that binary instead
#   KEEP=DIR      copy the work files (outputs, samples, report) to DIR
#   NICE          niceness for leakwatch and the helpers (default 0)
#   LW_ARGS       extra arguments for `leakwatch run` (e.g. --no-history); LW_ENV extra
#                 VAR=value words for its environment (e.g. MALLOC_ARENA_MAX=2)
#
# Results: put new figures at the top of this comment and in docs/reliability.md.
set -euo pipefail
# shellcheck source=bench/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

[ "$(id -u)" = 0 ] || { echo "soak: must run as root (network namespaces, capture)" >&2; exit 2; }
command -v ip >/dev/null && command -v python3 >/dev/null || { echo "soak: needs ip (iproute2) and python3" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")/.." && pwd)
SOAK="$HERE/bench/soak"
DURATION=${DURATION:-3600}
WARMUP=${WARMUP:-120}
BURST_EVERY=${BURST_EVERY:-20}
SHORT_BATCH=${SHORT_BATCH:-20}
SHORT_MAX=${SHORT_MAX:-50000}
DNS_BATCH=${DNS_BATCH:-8}
N=${SOAK_NET:-199}
NICE=${NICE:-0}
LW_ARGS=${LW_ARGS:-}
LW_ENV=${LW_ENV:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/leakwatch-target}
HZ=$(getconf CLK_TCK)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
for v in DURATION WARMUP BURST_EVERY SHORT_BATCH SHORT_MAX DNS_BATCH N NICE; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "soak: $v must be a whole number" >&2; exit 2; }
done
[ "$N" -ge 1 ] && [ "$N" -le 254 ] || { echo "soak: SOAK_NET must be 1..254" >&2; exit 2; }
[ "$DURATION" -ge 60 ] && [ "$DURATION" -le 86400 ] || { echo "soak: DURATION must be 60..86400" >&2; exit 2; }

if [ -z "${LEAKWATCH:-}" ]; then
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
        (cd "$HERE" && nice -n "$NICE" cargo build --release --bin leakwatch)
    fi
    LEAKWATCH="$CARGO_TARGET_DIR/release/leakwatch"
fi
[ -x "$LEAKWATCH" ] || { echo "soak: no $LEAKWATCH" >&2; exit 2; }

NS_A=lwsoak$$a
NS_B=lwsoak$$b
IF_A=lwsoak-a
IF_B=lwsoak-b
W=$(mktemp -d /tmp/lw-soak.XXXXXX)
PIDS=()
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    netns_down  # anything still running inside our namespaces, then the namespaces
    rm -rf "/etc/netns/$NS_A"
    if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp -r "$W"/. "$KEEP"/ && echo "soak: work files kept in $KEEP"; fi
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$W/config.json" <<JSON
{"duration": $DURATION, "net": $N, "burst_every": $BURST_EVERY, "first_burst": 30, "max_bursts": 1000,
 "short_batch": $SHORT_BATCH, "short_max": $SHORT_MAX, "dns_batch": $DNS_BATCH}
JSON
# Refuses any address outside 10.200.0.0/16 and fd00:200::/64 (asserted in schedule.py).
"$PY" "$SOAK/schedule.py" expected "$W/config.json" >"$W/expected.txt"
"$PY" "$SOAK/schedule.py" addresses "$W/config.json" >"$W/addresses.txt"

# ---- namespaces ----------------------------------------------------------------------------
ip netns add "$NS_A"
ip netns add "$NS_B"
for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B"
ip -n "$NS_A" addr add "10.200.$N.1/24" dev "$IF_A"
ip -n "$NS_A" addr add "fd00:200::$N:1/64" dev "$IF_A" nodad
ip -n "$NS_B" addr add "10.200.$N.2/24" dev "$IF_B"
ip -n "$NS_B" addr add "fd00:200::$N:2/64" dev "$IF_B" nodad
while read -r a; do
    case "$a" in
        *:*) ip -n "$NS_B" addr add "$a" dev "$IF_B" nodad ;;
        *) ip -n "$NS_B" addr add "$a" dev "$IF_B" ;;
    esac
done <"$W/addresses.txt"
ip -n "$NS_A" link set "$IF_A" up
ip -n "$NS_B" link set "$IF_B" up
mkdir -p "/etc/netns/$NS_A"
echo "nameserver 10.200.$N.2" >"/etc/netns/$NS_A/resolv.conf"
echo "soak: namespaces $NS_A / $NS_B, $(wc -l <"$W/addresses.txt") extra addresses on B, work dir $W"
echo "soak: $(wc -l <"$W/expected.txt") alerts expected over ${DURATION} s"

# Waits (bounded, $2 s) for a line matching $3 in file $1.
wait_for() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        grep -q -- "$3" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "soak: no '$3' in $1 within $2 s:" >&2
    cat "$1" >&2
    return 1
}

LIFE=$((DURATION + 300))
ip netns exec "$NS_B" nice -n "$NICE" "$PY" "$SOAK/peer.py" "$W/config.json" "$LIFE" >"$W/peer.out" 2>&1 &
PIDS+=($!)
disown $!
wait_for "$W/peer.out" 10 listening

mkdir -p "$W/config" "$W/history"
# `ip netns exec`, `nice` and `env` exec, so $! is leakwatch's own pid.
# shellcheck disable=SC2086 # LW_ENV and LW_ARGS are word lists on purpose
ip netns exec "$NS_A" nice -n "$NICE" env LC_ALL=C.UTF-8 LEAKWATCH_CONFIG_DIR="$W/config" \
    LEAKWATCH_HISTORY_DIR="$W/history" $LW_ENV "$LEAKWATCH" run --json --interface "$IF_A" --mode paranoid \
    $LW_ARGS </dev/null >"$W/run.stdout" 2>"$W/run.stderr" &
LW=$!
PIDS+=("$LW")
START=$(date +%s.%N)
wait_for "$W/run.stderr" 20 "capturing on $IF_A"
wait_for "$W/run.stderr" 20 "legacy protocol for old GUIs on port"
PORT=$(sed -n 's/.*legacy protocol for old GUIs on port \([0-9]*\).*/\1/p' "$W/run.stderr" | head -1)
echo "soak: leakwatch pid $LW capturing on $IF_A, legacy port $PORT"

# Samples every 10 s: seconds since start, VmRSS kB, utime+stime ticks, then RssAnon and RssFile
# kB (heap and the like / mapped files such as the organisation database and SQLite's).
sample() {
    local now rss st parts
    now=$(date +%s.%N)
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$LW/status" 2>/dev/null) || return 0
    st=$(sed 's/.*) //' "/proc/$LW/stat" 2>/dev/null | awk '{print $12 + $13}') || return 0
    parts=$(awk '/^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {print a, f}' "/proc/$LW/status" 2>/dev/null) || return 0
    [ -n "$rss" ] && [ -n "$st" ] && echo "$(echo "$now - $START" | bc) $rss $st $parts" >>"$W/samples.tsv"
}
(
    for ((i = 0; i <= LIFE / 10 + 1; i++)); do
        kill -0 "$LW" 2>/dev/null || exit 0
        sample
        sleep 10
    done
) &
SAMPLER=$!
PIDS+=("$SAMPLER")
disown "$SAMPLER"

ip netns exec "$NS_A" nice -n "$NICE" "$PY" "$SOAK/legacy_client.py" "$PORT" "$W/legacy.jsonl" "$W/stop" "$LIFE" \
    >"$W/client.json" 2>"$W/client.err" &
CLIENT=$!
PIDS+=("$CLIENT")

echo "soak: traffic for $DURATION s (started $(date -u +%H:%M:%S) UTC)"
ip netns exec "$NS_A" nice -n "$NICE" "$PY" "$SOAK/traffic.py" "$W/config.json" "$W/bursts.jsonl" \
    >"$W/traffic.json" 2>"$W/traffic.err" || echo "soak: the generator exited with an error" >&2
# Let the last alerts reach both channels, then a last poll, then stop leakwatch.
sleep 5
touch "$W/stop"
for ((i = 0; i < 100; i++)); do kill -0 "$CLIENT" 2>/dev/null || break; sleep 0.1; done
sample
awk '/^VmHWM:/ {print $2}' "/proc/$LW/status" >"$W/vmhwm" 2>/dev/null || true
kill "$SAMPLER" 2>/dev/null || true
kill -INT "$LW"
for ((i = 0; i < 200; i++)); do kill -0 "$LW" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$LW" 2>/dev/null; then
    echo "soak: leakwatch did not stop within 20 s of SIGINT" >&2
    kill -KILL "$LW"
fi
wait "$LW" 2>/dev/null && LW_RC=0 || LW_RC=$?
cat >"$W/meta.json" <<JSON
{"pid": $LW, "hz": $HZ, "warmup": $WARMUP, "vmhwm_kb": $(cat "$W/vmhwm" 2>/dev/null || echo 0), "exit": $LW_RC}
JSON
echo "soak: leakwatch exited with $LW_RC"
echo
set +e
"$PY" "$SOAK/report.py" "$W" | tee "$W/report.txt"
RC=${PIPESTATUS[0]}
[ "$LW_RC" = 0 ] || { echo "soak: leakwatch exited with $LW_RC (expected 0)"; RC=1; }
exit "$RC"
