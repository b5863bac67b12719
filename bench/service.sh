#!/usr/bin/env bash
# The service against `leakwatch run`, in the same run, on the same traffic:
#   1. CPU per GB of live capture: `leakwatch service` (with a client subscribed to its events)
#      against `leakwatch run --json` (the baseline), iperf3 at 1 Gbit/s through a veth pair;
#      the ratio service/run should be at most 1.10.
#   2. Alert delay: how long after the packet that crossed the threshold (its capture time,
#      `alert.at`) and after the service sent the event (`sent_us`) a client connected to the
#      API has the alert, over ROUNDS uploads of 200 KB each.
#
# Run by hand as root (not in CI):   sudo bench/service.sh
#
# All traffic stays inside two network namespaces created here (lwsvcA 10.200.249.1/24,
# lwsvcB 10.200.249.2/24, joined by a veth pair) and removed on exit; every pass is bounded.
#
# Environment:
#   CARGO_TARGET_DIR   build dir (default /var/cache/leakwatch-target); results are appended to
#                      $CARGO_TARGET_DIR/leakwatch-service-bench.txt
#   SECS               seconds per iperf3 pass (default 10)
#   ROUNDS             uploads for the alert delay (default 20)
#   SKIP_BUILD=1       use the existing release binary as is
set -euo pipefail
# shellcheck source=bench/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

[ "$(id -u)" = 0 ] || { echo "service bench: must run as root" >&2; exit 1; }

HERE=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/leakwatch-target}
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-20}
NS_A=lwsvcA
NS_B=lwsvcB
IF_A=lwsA
IF_B=lwsB
IP_A=10.200.249.1
IP_B=10.200.249.2
HZ=$(getconf CLK_TCK)
RESULTS="$CARGO_TARGET_DIR/leakwatch-service-bench.txt"

apt_need=()
command -v iperf3 >/dev/null || apt_need+=(iperf3)
command -v ethtool >/dev/null || apt_need+=(ethtool)
command -v jq >/dev/null || apt_need+=(jq)
if [ ${#apt_need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${apt_need[@]}"
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    (cd "$HERE" && cargo build --release --locked --bin leakwatch)
fi
LEAKWATCH="$CARGO_TARGET_DIR/release/leakwatch"
[ -x "$LEAKWATCH" ] || { echo "service bench: no $LEAKWATCH" >&2; exit 1; }

WORK=$(mktemp -d /tmp/lw-service-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    netns_down  # anything still running inside our namespaces, then the namespaces
    rm -rf "$WORK"
}
trap cleanup EXIT

netns_pair_up

cat >"$WORK/leakwatch.toml" <<EOF
mode = "paranoid"
interfaces = ["$IF_A"]
reverse_dns = false
legacy = false
ignores = "$WORK/ignores.user.json"
history = "$WORK/history.sqlite"
socket = "$WORK/api.sock"
EOF

cpu_ticks() {
    local s
    s=$(cat "/proc/$1/stat")
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $(( ${12} + ${13} ))
}
iperf_pass() { # prints "bytes seconds"
    ip netns exec "$NS_B" timeout $((SECS + 20)) iperf3 -s -1 -B "$IP_B" >"$WORK/srv.log" 2>&1 &
    local srv=$!
    for _ in $(seq 50); do
        ip netns exec "$NS_B" ss -Htln "sport = :5201" | grep -q . && break
        sleep 0.1
    done
    ip netns exec "$NS_A" timeout $((SECS + 20)) iperf3 -c "$IP_B" -B "$IP_A" -t "$SECS" -M 1460 -b 1G --json >"$WORK/cli.json"
    wait "$srv" || true
    jq -r '"\(.end.sum_sent.bytes) \(.end.sum_sent.seconds)"' "$WORK/cli.json"
}
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
wait_for() { # $1 = file, $2 = text
    for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
    echo "service bench: no '$2' in $1:" >&2; cat "$1" >&2; exit 1
}

# An API client: subscribes to alerts, prints "<recv_us> <sent_us> <alert.at>" per new alert.
cat >"$WORK/client.py" <<'EOF'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
f.readline()  # greeting
f.write(b'{"id":1,"method":"subscribe","params":{"events":["alert"]}}\n'); f.flush()
for line in f:
    now = time.time_ns() // 1000
    v = json.loads(line)
    if v.get("event") == "alert" and v["data"]["phase"] == "new":
        print(now, v["data"]["sent_us"], v["data"]["alert"]["at"], flush=True)
EOF

declare -A CPU BYTES
for tool in run service; do
    if [ "$tool" = run ]; then
        ip netns exec "$NS_A" env LEAKWATCH_CONFIG_DIR="$WORK/runconf" LEAKWATCH_HISTORY_DIR="$WORK/runconf" \
            bash -c 'exec "$@"' _ "$LEAKWATCH" run --interface "$IF_A" --mode paranoid --json --no-legacy \
            >"$WORK/run.out" 2>"$WORK/run.err" &
        pid=$!; PIDS+=("$pid")
        wait_for "$WORK/run.err" "capturing on $IF_A"
    else
        ip netns exec "$NS_A" bash -c 'exec "$@"' _ "$LEAKWATCH" service --config "$WORK/leakwatch.toml" \
            >/dev/null 2>"$WORK/service.err" &
        pid=$!; PIDS+=("$pid")
        wait_for "$WORK/service.err" "capturing on $IF_A"
        python3 "$WORK/client.py" "$WORK/api.sock" >"$WORK/cpu-client.out" &
        PIDS+=("$!")
    fi
    sleep 1
    c0=$(cpu_ticks "$pid")
    read -r b d <<<"$(iperf_pass)"
    c1=$(cpu_ticks "$pid")
    CPU[$tool]=$(( c1 - c0 )) BYTES[$tool]=$b
    echo "service bench: $tool: $b bytes in $d s, $(( c1 - c0 )) ticks" >&2
    stop_pid "$pid"
done

# Alert delay: a fresh service, a client, ROUNDS uploads of 200 KB to distinct ports (one
# alert each: each port is a new destination... the threat is program x address, so a new
# sender each round keeps them distinct).
ip netns exec "$NS_A" bash -c 'exec "$@"' _ "$LEAKWATCH" service --config "$WORK/leakwatch.toml" \
    >/dev/null 2>"$WORK/service2.err" &
svc=$!; PIDS+=("$svc")
wait_for "$WORK/service2.err" "capturing on $IF_A"
python3 "$WORK/client.py" "$WORK/api.sock" >"$WORK/delay.out" &
PIDS+=("$!")
ip netns exec "$NS_B" timeout 120 python3 -c "
import socket,threading
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('$IP_B',9100)); s.listen(64)
def d(c):
    while c.recv(65536): pass
while True:
    c,_=s.accept(); threading.Thread(target=d,args=(c,),daemon=True).start()
" &
PIDS+=("$!")
disown "$!"  # killed at the end on purpose: no job notice
sleep 1
for i in $(seq "$ROUNDS"); do
    # A distinct program each round (its own pid: its own threat).
    ip netns exec "$NS_A" timeout 20 python3 -c "
import socket
s=socket.create_connection(('$IP_B',9100)); s.sendall(b'x'*200000); s.close()"
    sleep 0.3
done
sleep 1
stop_pid "$svc"

table=$(
    printf '%s  %s cores  %s  %s s per pass at 1 Gbit/s, %s uploads for the delay\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(uname -r)" "$SECS" "$ROUNDS"
    for tool in run service; do
        awk -v n="$tool" -v b="${BYTES[$tool]}" -v t="${CPU[$tool]}" -v hz="$HZ" \
            'BEGIN { printf "%-8s %6.2f GB  %6.2f CPU s  %6.3f CPU s/GB\n", n, b / 1e9, t / hz, t / hz / (b / 1e9) }'
    done
    awk -v hz="$HZ" -v rb="${BYTES[run]}" -v rt="${CPU[run]}" -v sb="${BYTES[service]}" -v st="${CPU[service]}" \
        'BEGIN { printf "ratio service/run CPU per GB = %.2f (target <= 1.10)\n", (st / sb) / (rt / rb) }'
    python3 - "$WORK/delay.out" "$ROUNDS" <<'EOF'
import sys, datetime
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def us(t): return int(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1e6)
hop = sorted((int(r[0]) - int(r[1])) / 1000 for r in rows)
full = sorted((int(r[0]) - us(r[2])) / 1000 for r in rows)
def p(v, q): return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")
print(f"alerts received by the client: {len(rows)} of {sys.argv[2]} uploads")
print(f"delay from the service sending to the client (ms): median {p(hop,.5):.2f}, max {max(hop or [0]):.2f}")
print(f"delay from the packet that crossed the threshold to the client (ms): median {p(full,.5):.1f}, "
      f"p90 {p(full,.9):.1f}, max {max(full or [0]):.1f} (target < 100; `at` has ms precision)")
EOF
)
echo "$table"
{ echo "$table"; echo; } >>"$RESULTS"
echo "(appended to $RESULTS)"
