#!/usr/bin/env bash
# Measures the tray app's memory: PSS (from /proc/<pid>/smaps_rollup) summed over leakwatch-app
# and all its descendants, with the window open, then after the window was closed with
# WM_DELETE_WINDOW. Runs under Xvfb on a private D-Bus session.
#
# Usage: bench/app-memory.sh [path/to/leakwatch-app]   (default: $CARGO_TARGET_DIR/debug/leakwatch-app)
#
# With MODE=service (as root) the app runs as it normally does, as a client of the service: the
# script starts `leakwatch service` (LEAKWATCH=path, default: the leakwatch binary beside the
# app) on loopback with a private socket, and the app connects to it. On Linux that app is two
# processes: the resident tray process (no GTK or WebKit) and, while the window is open, the
# window process `leakwatch-app --window` below it with WebKit's processes below that; closing
# the window ends the window process. The private session has no StatusNotifierWatcher, so the
# tray process opens the window at start by itself (as it does on a desktop without a tray).
# The default mode is the single process of --replay (the app's own engine, tray and window in
# one process, which stays after the window closes).
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
SERVICE=
if [[ ${MODE:-replay} == service ]]; then
    LEAKWATCH=${LEAKWATCH:-$(dirname "$APP")/leakwatch}
    printf 'interfaces = ["lo"]\nloopback = true\nlegacy = false\nreverse_dns = false\nignores = "%s/ignores.user.json"\nhistory = "%s/history.sqlite"\nsocket = "%s/api.sock"\n' \
        "$CONFIG" "$CONFIG" "$CONFIG" >"$CONFIG/leakwatch.toml"
    "$LEAKWATCH" service --config "$CONFIG/leakwatch.toml" >"$CONFIG/service.log" 2>&1 &
    SERVICE=$!
    for _ in $(seq 100); do [[ -S $CONFIG/api.sock ]] && break; sleep 0.1; done
    export LEAKWATCH_SOCKET=$CONFIG/api.sock
    "$APP" --no-notifications >/dev/null 2>&1 &
else
    "$APP" --replay samples/ookla.pcap --speed 5 --no-reverse-dns --no-notifications >/dev/null 2>&1 &
fi
PID=$!
# The window process (if still open) first, then the app and the service.
trap 'kill $(ps -o pid= --ppid $PID 2>/dev/null) $PID ${SERVICE} 2>/dev/null || true; wait 2>/dev/null; rm -rf "$CONFIG"' EXIT
python3 bench/app_memory.py "$PID"
