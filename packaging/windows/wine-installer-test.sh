#!/usr/bin/env bash
# The NSIS installer under Wine (make windows-installer-check): installs silently into a scratch
# folder, checks the files, the Start-menu entry, the "Apps & features" entry and the service
# (registered and RUNNING, its legacy port on loopback), then uninstalls silently and checks that
# all of it is gone while the user's configuration in ProgramData stays.
#
# Wine 8 has no AF_UNIX sockets: a configuration with `socket = ""` is put in ProgramData first
# (it is also what shows that the installer keeps an existing configuration).
#
# Usage: WINEPREFIX=… wine-installer-test.sh SETUP.exe
# Prints `wine: N passed, N failed, 0 skipped`. Bounded waits; the scratch install and the service
# are removed at the end whatever failed.
set -u
setup=${1:?usage: wine-installer-test.sh Leakwatch-setup.exe}
name=wine-installer
. "$(dirname "$0")/wine-lib.sh"
c="$WINEPREFIX/drive_c"
inst="$c/lw-installer-test"
winst='C:\lw-installer-test'
data="$c/ProgramData/Leakwatch"
menu="$c/ProgramData/Microsoft/Windows/Start Menu/Programs/Leakwatch/Leakwatch.lnk"
key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\Leakwatch'

cleanup() {
  [ -x "$inst/leakwatch.exe" ] && w "$inst/leakwatch.exe" service uninstall >/dev/null
  rm -rf "$inst" "$data/leakwatch.toml" "$c/ProgramData/Microsoft/Windows/Start Menu/Programs/Leakwatch"
  w reg delete "$key" /f >/dev/null
}
trap 'cleanup; keeper_stop' EXIT
keeper_start
cleanup

port=$(free_port 47705 48200) || { echo 'wine-installer: no free port between 47705 and 48200' >&2; exit 1; }
mkdir -p "$data"
printf '# wine-installer-test.sh\nlegacy_ports = "%s-%s"\nreverse_dns = false\nsocket = ""\n' "$port" "$((port + 10))" \
  > "$data/leakwatch.toml"

# 1. silent install
start=$SECONDS
out=$(T=180 w "$setup" /S "/D=$winst"); rc=$?
if [ $rc -eq 0 ]; then ok "silent install, exit 0 ($((SECONDS - start)) s)"; else bad "silent install: exit $rc: $out"; fi
missing=''
for f in leakwatch.exe leakwatch-app.exe uninstall.exe icon.ico LICENSE-MIT LICENSE-APACHE \
         data/asn-ipv4.csv.gz data/asn-ipv6.csv.gz data/geo-whois-asn-country.mmdb data/DBIP-LICENSE.txt \
         docs/service.md; do
  [ -s "$inst/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "the files are in $winst"; else bad "missing in $winst:$missing"; fi
if [ -s "$menu" ]; then ok "Start-menu entry Leakwatch\\Leakwatch.lnk"; else bad "no Start-menu entry ($menu)"; fi
reg=$(w reg query "$key")
if grep -q 'UninstallString' <<<"$reg" && grep -qi 'lw-installer-test\\uninstall.exe' <<<"$reg"; then
  ok "\"Apps & features\" entry with its uninstaller"
else bad "no uninstall entry: $reg"; fi

# 2. the service: registered, running, its legacy port on loopback; the configuration was kept
s=''
for _ in $(seq 1 60); do s=$(state); [ "$s" = RUNNING ] && break; sleep 0.5; done
if [ "$s" = RUNNING ]; then ok "the installer registered and started the service (RUNNING)"; else bad "service state after install: '$s'"; fi
check_legacy_port "$port"
if grep -q 'wine-installer-test.sh' "$data/leakwatch.toml" 2>/dev/null; then ok "the existing configuration was kept"; else bad "the configuration in ProgramData was replaced"; fi

# 3. silent uninstall (it copies itself to %TEMP% and returns at once: wait for the files to go)
w "$inst/uninstall.exe" /S >/dev/null
deadline=$((SECONDS + 60))
while [ -e "$inst/leakwatch.exe" ] || [ -e "$inst/uninstall.exe" ]; do
  [ $SECONDS -ge $deadline ] && break; sleep 0.5
done
left=$(find "$inst" 2>/dev/null | head -5 | tr '\n' ' ')
if [ -z "$left" ]; then ok "silent uninstall removed $winst"; else bad "left after uninstall: $left"; fi
if w sc query leakwatch | grep -q SERVICE_NAME; then bad "the service is still registered"; else ok "the service is removed"; fi
if [ -e "$menu" ]; then bad "the Start-menu entry is still there"; else ok "the Start-menu entry is removed"; fi
if w reg query "$key" | grep -q UninstallString; then bad "the uninstall entry is still there"; else ok "the uninstall entry is removed"; fi
if [ -s "$data/leakwatch.toml" ]; then ok "the user's configuration in ProgramData stays (no /PURGE)"; else bad "the uninstaller deleted the configuration without /PURGE"; fi

summary
