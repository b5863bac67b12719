#!/usr/bin/env bash
# Memory of `leakwatch run` while the machine starts many short-lived programs.
#
# Connection tracing remembers the name each `execve` gives, by pid (at most 16,384), so that a
# program gone before /proc could be read is still named. This script shows what that costs:
# it starts `leakwatch run` capturing on loopback only (no history, no legacy socket, no reverse
# DNS; nothing is sent anywhere), then runs /bin/true N times, twice, and prints resident memory
# before, after N and after 2N. The table is bounded, so the second N must add (almost) nothing.
#
# Run by hand as root (connection tracing needs it):  sudo bench/exec-rss.sh [BINARY] [N]
#   BINARY  default $CARGO_TARGET_DIR/release/leakwatch (/var/cache/leakwatch-target by default)
#   N       default 20000
#
# LAST RESULT, 2026-11-29 05:35 UTC, 2 cores, idle, N=20000, the two binaries run alternately,
# three times each (engine code of 86134e5 = 72bf3ad; 1b0424a is the build before the fix):
#   72bf3ad (names inline, table sized once):  +644, +680, +644 kB after 20,000 execs;
#                                              +656, +680, +648 kB after 40,000
#   1b0424a (heap strings, table grown):      +2,128 kB after 20,000 (all three runs);
#                                              +2,140 kB after 40,000 (all three runs)
set -euo pipefail
BIN=${1:-${CARGO_TARGET_DIR:-/var/cache/leakwatch-target}/release/leakwatch}
N=${2:-20000}
[[ $(id -u) -eq 0 ]] || { echo "exec-rss: needs root (connection tracing); run with sudo" >&2; exit 2; }
[[ -x $BIN ]] || { echo "exec-rss: no binary at $BIN; build it with: cargo build --release --bin leakwatch" >&2; exit 2; }
home=$(mktemp -d)
export HOME=$home XDG_CONFIG_HOME=$home/config XDG_DATA_HOME=$home/data
"$BIN" run -i lo --loopback --no-history --no-legacy --no-reverse-dns --json >/dev/null 2>"$home/stderr" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$home"' EXIT
sleep 8
kill -0 $pid 2>/dev/null || { echo "exec-rss: leakwatch exited:" >&2; cat "$home/stderr" >&2; exit 2; }
if grep -q "connection tracing is off" "$home/stderr"; then
    echo "exec-rss: connection tracing is off, so this measures nothing:" >&2
    grep "connection tracing is off" "$home/stderr" >&2
    exit 2
fi
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
before=$(rss)
for ((i = 0; i < N; i++)); do /bin/true; done
sleep 3
once=$(rss)
for ((i = 0; i < N; i++)); do /bin/true; done
sleep 3
twice=$(rss)
echo "$(basename "$BIN"): RSS before ${before} kB; after $N programs ${once} kB (+$((once - before))); after $((2 * N)) ${twice} kB (+$((twice - before)))"
