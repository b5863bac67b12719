#!/usr/bin/env bash
# The Windows service under Wine's service control manager (make wine-service, run by
# make wine-test): `leakwatch.exe service install`, `net start` until the SCM says RUNNING, the
# legacy port answering on 127.0.0.1 only, `net stop` until STOPPED with exit code 0 (the
# service logged a clean stop asked by the manager), a bad configuration reported to the SCM as
# the service's exit code, then `service uninstall` and the service gone.
#
# Wine 8 has no AF_UNIX sockets, so the service runs here with `socket = ""` (no local API);
# a real Windows machine is needed for the API socket (docs/platforms.md).
#
# Usage: WINEPREFIX=… wine-service-test.sh PATH/leakwatch.exe
# Prints `wine: N passed, N failed, 0 skipped` for make test's total. Every wait is bounded and
# the service is always removed at the end, whatever failed.
set -u
exe=${1:?usage: wine-service-test.sh leakwatch.exe}
name=wine-service
. "$(dirname "$0")/wine-lib.sh"
dir="$WINEPREFIX/drive_c/ProgramData/Leakwatch"
log="$dir/logs/service.log"

cleanup() {
  w "$exe" service uninstall >/dev/null
  rm -f "$dir/leakwatch.toml"
  keeper_stop
}
trap cleanup EXIT
keeper_start

# A free block of ports for the legacy protocol (not 5000: other programs and tests use it).
port=$(free_port 47150 47700) || { echo 'wine-service: no free port between 47150 and 47700' >&2; exit 1; }
mkdir -p "$dir"
rm -f "$log"
printf '# wine-service-test.sh\nlegacy_ports = "%s-%s"\nreverse_dns = false\nsocket = ""\n' "$port" "$((port + 10))" \
  > "$dir/leakwatch.toml"

# 0. the SCM's entry run from a console by mistake: a clear refusal, in the console
out=$(T=20 w "$exe" service --windows-service); rc=$?
if [ $rc -eq 2 ] && grep -q 'leave it out' <<<"$out"; then ok "--windows-service from a console: exit 2, says to leave it out"
else bad "--windows-service from a console (exit $rc): $out"; fi

# 1. install --no-start: registered, stopped
out=$(w "$exe" service install --no-start); rc=$?
if [ $rc -eq 0 ] && grep -q 'installed the Windows service leakwatch' <<<"$out"; then ok "service install: $out"
else bad "service install (exit $rc): $out"; fi
s=$(state)
if [ "$s" = STOPPED ]; then ok "the SCM knows the service, not started (STOPPED)"; else bad "sc query leakwatch after install --no-start: '$s'"; fi

# 2. net start -> RUNNING, the legacy port on loopback only, answering with its greeting
out=$(w net start leakwatch); rc=$?
s=$(wait_state RUNNING 30)
if [ "$s" = RUNNING ]; then ok "net start: RUNNING"; else bad "net start (exit $rc: $out): state $s after 30 s"; fi
check_legacy_port "$port"

# 3. net stop -> STOPPED, exit code 0, the same clean stop as Ctrl-C
out=$(w net stop leakwatch); rc=$?
s=$(wait_state STOPPED 30)
code=$(exit_code)
if [ "$s" = STOPPED ] && [ "$code" = 0 ]; then ok "net stop: STOPPED, exit code 0"
else bad "net stop (exit $rc: $out): state $s, exit code '$code'"; fi
if grep -q 'stopping (asked by the service manager)' "$log" 2>/dev/null && grep -q '^leakwatch: stopped: ' "$log"; then
  ok "the service stopped cleanly (log: $(grep -c '' "$log") lines in ProgramData\\Leakwatch\\logs\\service.log)"
else bad "no clean stop in $log: $(tail -5 "$log" 2>/dev/null)"; fi
sleep 1
if ss -Htln | awk '{print $4}' | grep -Eq ":$port\$"; then bad "port $port still open after net stop"; else ok "port $port closed"; fi

# 4. a bad configuration: the service stops at once and the SCM has its exit code (2)
printf 'mode = "sleepy"\nsocket = ""\nlegacy = false\n' > "$dir/leakwatch.toml"
w net start leakwatch >/dev/null
s=$(wait_state STOPPED 30)
code=$(exit_code)
if [ "$s" = STOPPED ] && [ "$code" = 2 ]; then ok "bad configuration: STOPPED with service exit code 2"
else bad "bad configuration: state $s, service exit code '$code' (expected STOPPED, 2)"; fi
if grep -q '`mode`' "$log" 2>/dev/null; then ok "the log names the bad key (mode)"; else bad "the log does not name \`mode\`: $(tail -3 "$log" 2>/dev/null)"; fi

# 5. uninstall -> gone
out=$(w "$exe" service uninstall); rc=$?
if [ $rc -eq 0 ] && grep -q 'removed the Windows service leakwatch' <<<"$out"; then ok "service uninstall: $out"
else bad "service uninstall (exit $rc): $out"; fi
if w sc query leakwatch | grep -q 'SERVICE_NAME'; then bad "sc query still lists leakwatch"; else ok "sc query no longer lists leakwatch"; fi
out=$(w "$exe" service uninstall); rc=$?
if [ $rc -eq 0 ] && grep -q 'not installed' <<<"$out"; then ok "a second uninstall says it is not installed"
else bad "second uninstall (exit $rc): $out"; fi

summary
