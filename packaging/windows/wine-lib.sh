# Shared by wine-service-test.sh and wine-installer-test.sh (sourced, not run): checks with a
# count, wine with a time limit, the service's state from `sc query`, a free port block, and a
# keeper process.
#
# Why the keeper: wineserver ends the system processes (services.exe, and with it every running
# service) a few seconds after the last ordinary Wine process of the prefix exits, and the next
# `wine` command boots the prefix again and starts the auto-start services anew. A test that waits
# without a Wine process would see its service vanish and come back. The keeper is a `cmd.exe`
# reading a pipe that stays open until keeper_stop.
: "${WINEPREFIX:?set WINEPREFIX (as the Makefile does: WINE_PREFIX)}"
export WINEPREFIX WINEDEBUG=-all
name=${name:-wine}
for tool in wine ss timeout; do
  command -v "$tool" >/dev/null || { echo "$name: skipped: $tool is not installed"; echo 'wine: 0 passed, 0 failed, 1 skipped'; exit 0; }
done
passed=0 failed=0
ok() { echo "$name: ok: $*"; passed=$((passed + 1)); }
bad() { echo "$name: FAIL: $*" >&2; failed=$((failed + 1)); }
# wine with a time limit (T seconds, 60 by default), CRs removed; its exit status.
w() { timeout "${T:-60}" wine "$@" 2>&1 | tr -d '\r'; return "${PIPESTATUS[0]}"; }
state() { w sc query leakwatch | sed -n 's/^ *STATE *: *[0-9]* *\([A-Z_]*\).*/\1/p'; }
exit_code() { w sc query leakwatch | sed -n 's/^ *SERVICE_EXIT_CODE *: *\([0-9]*\).*/\1/p'; }
# Waits up to $2 seconds for state $1; prints the last state seen.
wait_state() {
  local want=$1 deadline=$((SECONDS + $2)) s
  while :; do
    s=$(state)
    if [ "$s" = "$want" ] || [ $SECONDS -ge $deadline ]; then echo "$s"; return; fi
    sleep 0.5
  done
}
# The first of two free TCP ports from $1 to $2 in steps of 11; fails when none is.
free_port() {
  local p q
  for p in $(seq "$1" 11 "$2"); do
    q=$((p + 1))
    if ! ss -Htln | awk '{print $4}' | grep -Eq ":($p|$q)\$"; then echo "$p"; return 0; fi
  done
  return 1
}
# What listens on TCP port $1 (waits up to 10 s for it), as "addr:port addr:port".
listening() {
  local l='' i
  for i in $(seq 1 40); do
    l=$(ss -Htln | awk '{print $4}' | grep -E ":$1\$" | sort | tr '\n' ' ')
    [ -n "$l" ] && break
    sleep 0.25
  done
  echo "$l"
}
# Checks that port $1 is open on loopback only and greets like the legacy daemon.
check_legacy_port() {
  local port=$1 l greeting
  l=$(listening "$port")
  case "$l" in
    '') bad "nothing listens on port $port (legacy protocol)";;
    *0.0.0.0:*|*'[::]:'*|*'*:'*) bad "port $port is open beyond loopback: $l";;
    *) ok "legacy protocol listens on loopback only: $l";;
  esac
  greeting=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; head -c 27 <&3" 2>/dev/null)
  if [ "$greeting" = ':::daemon_protocol_start:::' ]; then ok "127.0.0.1:$port answers $greeting"
  else bad "127.0.0.1:$port answered '$greeting'"; fi
}
keeper_pidfile=$(mktemp)
keeper_start() {
  { sleep 900 & echo $! > "$keeper_pidfile"; wait; } | wine cmd /c 'set /p x=' >/dev/null 2>&1 &
  sleep 1
}
keeper_stop() {
  local pid
  pid=$(cat "$keeper_pidfile" 2>/dev/null)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -f "$keeper_pidfile"
}
summary() {
  echo "wine: $passed passed, $failed failed, 0 skipped"
  [ "$failed" -eq 0 ]
}
