#!/usr/bin/env bash
# Measures the tray app's memory (PSS of leakwatch-app and its WebKit child processes, from
# /proc/<pid>/smaps_rollup) with the window open, then after the window was closed (the app
# stays in the tray and drops the webview). Runs under Xvfb on a private D-Bus session, with
# --replay so no capture rights are needed.
#
# Usage: bench/app-memory.sh [path/to/leakwatch-app]   (default: $CARGO_TARGET_DIR/debug/leakwatch-app)
#
# With MODE=service (as root) the app runs as it normally does, as a client of the service: the
# script starts `leakwatch service` (LEAKWATCH=path, default: the leakwatch binary beside the
# app) on loopback with a private socket, and the app connects to it. The default mode is the
# app's own engine fed by --replay.
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
trap 'kill $PID ${SERVICE} 2>/dev/null || true; wait 2>/dev/null; rm -rf "$CONFIG"' EXIT
python3 bench/app_memory.py "$PID"
