#!/usr/bin/env bash
# Live capture CPU: leakwatch against bandwhich, on the same TCP traffic, in the same run.
#
# Run by hand as root (not in CI):   sudo bench/live-cpu.sh
#
# All traffic stays inside two network namespaces created here (lwbenchA 10.200.250.1/24,
# lwbenchB 10.200.250.2/24, joined by a veth pair) and removed on exit. Each iperf3 pass is
# bounded to $SECS seconds (default 10). See bench/README.md, "Live capture CPU against
# bandwhich", for the method.
#
# Environment:
#   CARGO_TARGET_DIR   leakwatch build dir (default /var/cache/leakwatch-target); the result
#                      table is appended to $CARGO_TARGET_DIR/leakwatch-live-bench.txt
#   TOOLS_ROOT         cargo install root for bandwhich (default /var/cache/leakwatch-bench-tools)
#   SECS               seconds per iperf3 pass (default 10)
#   SKIP_BUILD=1       use the existing leakwatch release binary as is
set -euo pipefail
# shellcheck source=bench/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

[ "$(id -u)" = 0 ] || { echo "live-cpu: must run as root" >&2; exit 1; }

HERE=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/leakwatch-target}
TOOLS_ROOT=${TOOLS_ROOT:-/var/cache/leakwatch-bench-tools}
SECS=${SECS:-10}
NS_A=lwbenchA
NS_B=lwbenchB
IF_A=lwbA
IF_B=lwbB
IP_A=10.200.250.1
IP_B=10.200.250.2
HZ=$(getconf CLK_TCK)
RESULTS="$CARGO_TARGET_DIR/leakwatch-live-bench.txt"

# ---- tools ---------------------------------------------------------------------------------
apt_need=()
command -v iperf3 >/dev/null || apt_need+=(iperf3)
# ethtool turns off TSO/GSO/GRO on the veth, so that the capture sees real <=1514-byte frames
# (with offloads on, AF_PACKET sees up-to-64 KB super-packets and the per-packet cost vanishes).
command -v ethtool >/dev/null || apt_need+=(ethtool)
command -v jq >/dev/null || apt_need+=(jq)
if [ ${#apt_need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${apt_need[@]}"
fi
BANDWHICH="$TOOLS_ROOT/bin/bandwhich"
if [ ! -x "$BANDWHICH" ]; then
    cargo install bandwhich --locked --root "$TOOLS_ROOT"
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    (cd "$HERE" && cargo build --release --bin leakwatch)
fi
LEAKWATCH="$CARGO_TARGET_DIR/release/leakwatch"
[ -x "$LEAKWATCH" ] || { echo "live-cpu: no $LEAKWATCH" >&2; exit 1; }

# bandwhich 0.23 spells it --interface; older/newer versions may differ.
bw_help=$("$BANDWHICH" --help 2>&1 || true)
if grep -q -- '--interfaces' <<<"$bw_help"; then BW_IF=--interfaces; else BW_IF=--interface; fi
BW_ARGS=(--raw "$BW_IF" "$IF_A")
grep -q -- '--no-resolve' <<<"$bw_help" && BW_ARGS+=(--no-resolve)

# ---- namespaces ----------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/lw-live-bench.XXXXXX)
TOOL_PID=
cleanup() {
    set +e
    if [ -n "$TOOL_PID" ] && kill -0 "$TOOL_PID" 2>/dev/null; then kill -KILL "$TOOL_PID"; fi
    netns_down  # anything still running inside our namespaces, then the namespaces
    rm -rf "$WORK"
}
trap cleanup EXIT

netns_pair_up

# ---- helpers -------------------------------------------------------------------------------
cpu_ticks() { # utime+stime of a live process (all its threads), in clock ticks
    local s
    s=$(cat "/proc/$1/stat")
    s=${s##*) }            # drop "pid (comm) ", comm may contain spaces
    # shellcheck disable=SC2086
    set -- $s              # now $1 = state (field 3), so utime = field 14 -> $12, stime -> $13
    echo $(( ${12} + ${13} ))
}
link_packets() { # rx+tx packets on lwbA
    ip -n "$NS_A" -s -j link show "$IF_A" | jq '.[0].stats64 | .rx.packets + .tx.packets'
}
link_drops() {
    ip -n "$NS_A" -s -j link show "$IF_A" | jq '.[0].stats64 | .rx.dropped + .tx.dropped'
}
# One iperf3 pass; prints "bytes seconds" (sender side).
iperf_pass() { # $1 = tag, rest = extra client args
    local tag=$1; shift
    ip netns exec "$NS_B" timeout $((SECS + 20)) iperf3 -s -1 -B "$IP_B" >"$WORK/srv-$tag.log" 2>&1 &
    local srv=$!
    for _ in $(seq 50); do
        ip netns exec "$NS_B" ss -Htln "sport = :5201" | grep -q . && break
        sleep 0.1
    done
    ip netns exec "$NS_A" timeout $((SECS + 20)) \
        iperf3 -c "$IP_B" -B "$IP_A" -t "$SECS" -M 1460 --json "$@" >"$WORK/cli-$tag.json"
    wait "$srv" || true
    jq -r '"\(.end.sum_sent.bytes) \(.end.sum_sent.seconds) \(.end.sum_sent.retransmits // 0)"' "$WORK/cli-$tag.json"
}
stop_tool() {
    local pid=$1
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; sleep 1; fi
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}

# ---- runs ----------------------------------------------------------------------------------
declare -A BYTES CPU DUR RETR PKTS SEEN SUMMARY
PASSES=(max 1g)
# A fresh tool process for each (pass, tool), so that leakwatch's exit summary (packets seen,
# dropped batches, kernel drops) belongs to one pass.
run_tool() { # $1 = name, $2 = pass
    local name=$1 pass=$2
    case $name in
        leakwatch)
            rm -rf "$WORK/lwconf"; mkdir -p "$WORK/lwconf"
            # `ip netns exec`, `env` and `exec` all replace the process: $! is leakwatch itself.
            ip netns exec "$NS_A" env LEAKWATCH_CONFIG_DIR="$WORK/lwconf" \
                bash -c 'exec "$@"' _ "$LEAKWATCH" run --interface "$IF_A" --mode paranoid --json \
                >"$WORK/leakwatch.out" 2>"$WORK/leakwatch.err" &
            ;;
        bandwhich)
            ip netns exec "$NS_A" bash -c 'exec "$@"' _ "$BANDWHICH" "${BW_ARGS[@]}" \
                >"$WORK/bandwhich.out" 2>"$WORK/bandwhich.err" &
            ;;
    esac
    TOOL_PID=$!
    sleep 1.5
    if ! kill -0 "$TOOL_PID" 2>/dev/null; then
        echo "live-cpu: $name exited early:" >&2; cat "$WORK/$name.err" >&2; exit 1
    fi
    local comm; comm=$(cat "/proc/$TOOL_PID/comm")
    case $comm in "$name"*) ;; *) echo "live-cpu: pid $TOOL_PID is '$comm', not $name" >&2; exit 1;; esac
    local extra=()
    [ "$pass" = 1g ] && extra=(-b 1G)
    local c0 p0 c1 p1 out b d r
    p0=$(link_packets)
    c0=$(cpu_ticks "$TOOL_PID")
    out=$(iperf_pass "$name-$pass" "${extra[@]}")
    c1=$(cpu_ticks "$TOOL_PID")
    p1=$(link_packets)
    read -r b d r <<<"$out"
    BYTES[$name,$pass]=$b DUR[$name,$pass]=$d RETR[$name,$pass]=$r
    CPU[$name,$pass]=$(( c1 - c0 ))
    PKTS[$name,$pass]=$(( p1 - p0 ))
    stop_tool "$TOOL_PID"
    TOOL_PID=
    SEEN[$name,$pass]=-
    if [ "$name" = leakwatch ]; then
        # "leakwatch: stopped: N IP packets, N other, N unparsable, N flows, N alerts,
        #  N dropped batches, N kernel drops"
        SUMMARY[$pass]=$(grep 'stopped:' "$WORK/leakwatch.err" | tail -n 1 || true)
        SEEN[$name,$pass]=$(awk '/stopped:/ { print $3 + $6 + $8 }' "$WORK/leakwatch.err" | tail -n 1)
    fi
    echo "live-cpu: $name $pass: $b bytes in $d s, $(( c1 - c0 )) ticks, $(( p1 - p0 )) packets on $IF_A, seen ${SEEN[$name,$pass]}" >&2
}

drops0=$(link_drops)
for pass in "${PASSES[@]}"; do
    for name in leakwatch bandwhich; do
        run_tool "$name" "$pass"
    done
done
drops1=$(link_drops)

# ---- report --------------------------------------------------------------------------------
table=$(
    printf '%s  %s cores  %s  bandwhich %s  %s s per pass, TCP MSS 1460 (1500-byte packets), offloads off\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(uname -r)" \
        "$("$BANDWHICH" --version 2>/dev/null | awk '{print $2}')" "$SECS"
    printf '%-10s %-5s %9s %9s %10s %10s %8s %12s %8s\n' tool pass GB Gbit/s 'link pkts' 'seen pkts' 'CPU s' 'CPU s/GB' retrans
    for name in leakwatch bandwhich; do
        for pass in "${PASSES[@]}"; do
            awk -v n="$name" -v p="$pass" -v b="${BYTES[$name,$pass]}" -v s="${DUR[$name,$pass]}" \
                -v t="${CPU[$name,$pass]}" -v hz="$HZ" -v k="${PKTS[$name,$pass]}" -v r="${RETR[$name,$pass]}" -v v="${SEEN[$name,$pass]}" \
                'BEGIN { gb = b / 1e9; c = t / hz;
                         printf "%-10s %-5s %9.2f %9.2f %10d %10s %8.2f %12.3f %8d\n", n, p, gb, b * 8 / s / 1e9, k, v, c, c / gb, r }'
        done
    done
    for pass in "${PASSES[@]}"; do
        awk -v p="$pass" -v hz="$HZ" \
            -v lb="${BYTES[leakwatch,$pass]}" -v lt="${CPU[leakwatch,$pass]}" \
            -v bb="${BYTES[bandwhich,$pass]}" -v bt="${CPU[bandwhich,$pass]}" \
            'BEGIN { l = lt / hz / (lb / 1e9); w = bt / hz / (bb / 1e9);
                     if (w > 0) printf "ratio leakwatch/bandwhich CPU per GB (%s) = %.2f (target <= 0.5)\n", p, l / w;
                     else printf "ratio leakwatch/bandwhich CPU per GB (%s) = n/a (bandwhich used 0 ticks)\n", p }'
    done
    for pass in "${PASSES[@]}"; do echo "leakwatch $pass: ${SUMMARY[$pass]#leakwatch: }"; done
    echo "$IF_A interface drops during the run (rx+tx): $(( drops1 - drops0 ))"
)
echo "$table"
mkdir -p "$CARGO_TARGET_DIR"
{ echo "$table"; echo; } >>"$RESULTS"
echo "(appended to $RESULTS)"
