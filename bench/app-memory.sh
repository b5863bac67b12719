#!/usr/bin/env bash
# Measures the tray app's memory (PSS of leakwatch-app and its WebKit child processes, from
# /proc/<pid>/smaps_rollup) with the window open, then after the window was closed (the app
# stays in the tray and drops the webview). Runs under Xvfb on a private D-Bus session, with
# --replay so no capture rights are needed.
#
# Usage: bench/app-memory.sh [path/to/leakwatch-app]   (default: $CARGO_TARGET_DIR/debug/leakwatch-app)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
APP=${1:-${CARGO_TARGET_DIR:-/var/cache/leakwatch-target}/debug/leakwatch-app}
[[ -x $APP ]] || { echo "app-memory: $APP not built (make app)" >&2; exit 1; }
if [[ -z ${LEAKWATCH_BENCH_INSIDE:-} ]]; then
    export LEAKWATCH_BENCH_INSIDE=1
    exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$0" "$APP"
fi
export NO_AT_BRIDGE=1
CONFIG=$(mktemp -d)
export LEAKWATCH_CONFIG_DIR=$CONFIG
"$APP" --replay samples/ookla.pcap --speed 5 --no-reverse-dns --no-notifications >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$CONFIG"' EXIT
exec python3 bench/app_memory.py "$PID"
