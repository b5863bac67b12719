#!/usr/bin/env bash
# Checks a Leakwatch .deb (made by `make deb` or `make deb-check`) with dpkg-deb:
#   - it ships the service (unit, default config, sysusers file, docs), the leakwatch CLI and the
#     tray app, and nothing under /etc (the config is copied there by postinst, never replaced);
#   - its control file depends on adduser and no longer on libcap2-bin;
#   - no maintainer script sets a capability on anything;
#   - the maintainer scripts do what they say, run against a scratch root (DPKG_ROOT) with
#     stand-ins that record each call for every command that would touch the machine (groups,
#     users, systemd): nothing on this machine changes.
# Prints one line per check and `deb: N passed, N failed, 0 skipped` (counted by `make test`).
#
# Usage: packaging/check-deb.sh FILE.deb   (KEEP_TMP=1 keeps the scratch directory for a look)
set -uo pipefail

deb="${1:?usage: packaging/check-deb.sh FILE.deb}"
[[ $# -eq 1 && -f $deb ]] || { echo "check-deb: expected one .deb file, got: $*" >&2; exit 2; }
for tool in dpkg-deb tar; do
    command -v "$tool" >/dev/null || { echo "check-deb: $tool is missing (Debian: dpkg, tar)" >&2; exit 2; }
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1" >&2; }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds.
    local what="$1"; shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/leakwatch-check-deb.XXXXXX")"
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
echo "check-deb: $deb ($(du -h "$deb" | cut -f1))"

# --- Contents ------------------------------------------------------------------------------
dpkg-deb -c "$deb" >"$tmp/contents" || { echo "check-deb: dpkg-deb -c failed" >&2; exit 1; }
# "MODE OWNER SIZE DATE TIME ./PATH" → "MODE PATH"
awk '{ p = $6; sub(/^\.?\/?/, "/", p); print $1, p }' "$tmp/contents" >"$tmp/files"
# Member names as the archive spells them ("./usr/…" or "usr/…").
pre=''
grep -q ' \./usr/' "$tmp/contents" && pre='./'
has() { grep -qE "^$2 $1\$" "$tmp/files"; }
exe='-rwxr-xr-x' reg='-rw-r--r--'
check "ships /usr/bin/leakwatch (the CLI and service), mode 0755" has /usr/bin/leakwatch "$exe"
check "ships /usr/bin/leakwatch-app (the tray app), mode 0755" has /usr/bin/leakwatch-app "$exe"
check "ships /usr/bin/leakwatch-tray (the tray app's resident tray process), mode 0755" has /usr/bin/leakwatch-tray "$exe"
check "ships the unit /lib/systemd/system/leakwatch.service" has /lib/systemd/system/leakwatch.service "$reg"
check "ships the default config /usr/share/leakwatch/leakwatch.toml" has /usr/share/leakwatch/leakwatch.toml "$reg"
check "ships /usr/lib/sysusers.d/leakwatch.conf" has /usr/lib/sysusers.d/leakwatch.conf "$reg"
check "ships /usr/share/doc/leakwatch/service.md" has /usr/share/doc/leakwatch/service.md "$reg"
check "ships the ASN data in /usr/share/leakwatch" has /usr/share/leakwatch/asn-ipv4.csv.gz "$reg"
check "ships the manual page /usr/share/man/man1/leakwatch.1" has /usr/share/man/man1/leakwatch.1 "$reg"
check "ships a manual page per subcommand (leakwatch-run.1)" has /usr/share/man/man1/leakwatch-run.1 "$reg"
check "ships the app's manual page /usr/share/man/man1/leakwatch-app.1" has /usr/share/man/man1/leakwatch-app.1 "$reg"
check "ships bash completions" has /usr/share/bash-completion/completions/leakwatch "$reg"
check "ships zsh completions" has /usr/share/zsh/vendor-completions/_leakwatch "$reg"
check "ships fish completions" has /usr/share/fish/vendor_completions.d/leakwatch.fish "$reg"
check "ships nothing under /etc (postinst copies the config there once)" \
    bash -c '! grep -qE "^-\S* /etc/" "$1"' _ "$tmp/files"

# The files whose content matters, out of the data archive (not the big binaries' bytes).
mkdir -p "$tmp/root"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/root" "${pre}lib/systemd/system/leakwatch.service" \
    "${pre}usr/share/leakwatch/leakwatch.toml" "${pre}usr/lib/sysusers.d/leakwatch.conf" "${pre}usr/bin/leakwatch"
root="$tmp/root"
check "the unit is packaging/systemd/leakwatch.service, byte for byte" \
    cmp -s "$root/lib/systemd/system/leakwatch.service" "$here/systemd/leakwatch.service"
check "the default config is packaging/leakwatch.toml, byte for byte" \
    cmp -s "$root/usr/share/leakwatch/leakwatch.toml" "$here/leakwatch.toml"
check "the unit starts /usr/bin/leakwatch service" \
    grep -qx 'ExecStart=/usr/bin/leakwatch service --config /etc/leakwatch/leakwatch.toml' \
    "$root/lib/systemd/system/leakwatch.service"
check "the shipped leakwatch knows 'leakwatch service' (service --help exits 0)" \
    bash -c '"$1" service --help >/dev/null 2>&1' _ "$root/usr/bin/leakwatch"
rm -f "$root/usr/bin/leakwatch"

# --- Control -------------------------------------------------------------------------------
dpkg-deb -e "$deb" "$tmp/control" || { echo "check-deb: dpkg-deb -e failed" >&2; exit 1; }
depends="$(sed -n 's/^Depends: //p' "$tmp/control/control")"
echo "     Depends: $depends"
check "Package: leakwatch" grep -qx 'Package: leakwatch' "$tmp/control/control"
check "depends on adduser (postinst: addgroup, adduser)" grep -qE '(^|, )adduser(,|$| )' <<<"$depends"
check "no longer depends on libcap2-bin (no setcap)" bash -c '! grep -q libcap2-bin <<<"$1"' _ "$depends"
for script in postinst prerm postrm; do
    check "has a $script" test -x "$tmp/control/$script"
    check "$script parses (sh -n)" sh -n "$tmp/control/$script"
done
# Not one capability anywhere: no setcap, no cap_* names, no libcap tools.
check "no maintainer script sets a capability (setcap, capsh, cap_*)" \
    bash -c '! grep -rniE "setcap|capsh|cap_[a-z]" "$1"' _ "$tmp/control"

# --- Maintainer scripts, run against a scratch root ----------------------------------------
# PATH holds only stand-ins and a few plain tools, so no real addgroup/adduser/systemctl can run.
bin="$tmp/bin"
mkdir -p "$bin"
for tool in sh cat cp mkdir chmod rm tr grep cut dirname printf; do
    path="$(command -v "$tool")" && [[ $path == /* ]] && ln -s "$path" "$bin/$tool"
done
# The stand-ins log "NAME ARGS" to $CALLS; groups live in $FAKE/group ("name:members").
cat >"$bin/_stub" <<'EOF'
#!/bin/sh
name="${0##*/}"
echo "$name $*" >>"$CALLS"
case "$name" in
getent)
    case "$1" in
    group) grep "^$2:" "$FAKE/group"; exit ;;
    passwd) grep -E "^$2:|^[^:]*:[^:]*:$2:" "$FAKE/passwd"; exit ;;
    *) exit 2 ;;
    esac ;;
id)
    [ "$1" = -nG ] || exit 2
    grep -q "^$2:" "$FAKE/passwd" || exit 1
    printf '%s' "$2"; grep -E "^[^:]*:(.*,)?$2(,|\$)" "$FAKE/group" | cut -d: -f1 | while read -r g; do printf ' %s' "$g"; done; echo ;;
addgroup) # addgroup --system --quiet NAME
    for a; do g="$a"; done; echo "$g:" >>"$FAKE/group" ;;
adduser) # adduser --quiet USER GROUP
    u="$2"; g="$3"
    grep -v "^$g:" "$FAKE/group" >"$FAKE/group.new"; members="$(grep "^$g:" "$FAKE/group" | cut -d: -f2)"
    echo "$g:${members:+$members,}$u" >>"$FAKE/group.new"; cat "$FAKE/group.new" >"$FAKE/group" ;;
delgroup | groupdel)
    for a; do g="$a"; done; grep -v "^$g:" "$FAKE/group" >"$FAKE/group.new"; cat "$FAKE/group.new" >"$FAKE/group" ;;
deb-systemd-helper)
    case "$*" in *was-enabled*) exit 0 ;; esac ;;
esac
exit 0
EOF
chmod +x "$bin/_stub"
for stub in getent id addgroup adduser delgroup groupdel deb-systemd-helper deb-systemd-invoke systemctl; do
    ln -s _stub "$bin/$stub"
done

fake="$tmp/fake"
mkdir -p "$fake"
printf 'alice:x:1000:1000::/home/alice:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n' >"$fake/passwd"
: >"$fake/group"

# run SCRIPT ARGS...: runs a maintainer script of the package; its output in $tmp/out, calls in $tmp/calls.
run() {
    local script="$1"; shift
    : >"$tmp/calls"
    env -i PATH="$bin" CALLS="$tmp/calls" FAKE="$fake" DPKG_ROOT="$root" \
        ${SUDO_USER_FOR_TEST:+SUDO_USER="$SUDO_USER_FOR_TEST"} ${PKEXEC_UID_FOR_TEST:+PKEXEC_UID="$PKEXEC_UID_FOR_TEST"} \
        sh "$tmp/control/$script" "$@" >"$tmp/out" 2>&1
}
called() { grep -qxF "$1" "$tmp/calls"; }
not_called() { ! grep -qF "$1" "$tmp/calls"; }
said() { grep -qF "$1" "$tmp/out"; }
config="$root/etc/leakwatch/leakwatch.toml"

# First install by `sudo apt install` as alice, systemd not running.
SUDO_USER_FOR_TEST=alice run postinst configure
check "postinst configure (first install) exits 0" test $? -eq 0
sed 's/^/     | /' "$tmp/out"
check "  creates the system group leakwatch" called "addgroup --system --quiet leakwatch"
check "  adds the installing user (SUDO_USER=alice) to it" called "adduser --quiet alice leakwatch"
check "  says so, and to log in again" said "added alice to group leakwatch; log out and in again"
check "  copies the default config to /etc/leakwatch/leakwatch.toml" \
    cmp -s "$config" "$root/usr/share/leakwatch/leakwatch.toml"
check "  enables leakwatch.service" called "deb-systemd-helper enable leakwatch.service"
check "  without systemd: does not start it, says how to" \
    bash -c '! grep -q "deb-systemd-invoke\|systemctl" "$1" && grep -qF "sudo leakwatch service" "$2"' _ "$tmp/calls" "$tmp/out"

# Upgrade under systemd, with a config the service has changed.
mkdir -p "$root/run/systemd/system"
echo '# changed by the service' >>"$config"
cp "$config" "$tmp/config.changed"
SUDO_USER_FOR_TEST=alice run postinst configure 0.1.0
check "postinst configure OLD-VERSION (upgrade) exits 0" test $? -eq 0
check "  keeps the changed /etc/leakwatch/leakwatch.toml" cmp -s "$config" "$tmp/config.changed"
check "  does not re-create the group nor re-add alice" not_called "add"
check "  restarts the service (systemd running)" called "deb-systemd-invoke restart leakwatch.service"

# Installed from a software centre (pkexec) by bob.
PKEXEC_UID_FOR_TEST=1001 run postinst configure
check "postinst with PKEXEC_UID=1001 adds bob" called "adduser --quiet bob leakwatch"
check "  and starts the service on a first install" called "deb-systemd-invoke start leakwatch.service"

# Installed by root itself: no user to add, a hint instead.
run postinst configure
check "postinst as plain root names the command to add a user" said "sudo usermod -aG leakwatch USER"

run prerm upgrade 0.1.1
check "prerm upgrade leaves the service running (postinst restarts it)" not_called "stop"
run prerm remove
check "prerm remove stops the service" called "deb-systemd-invoke stop leakwatch.service"
mkdir -p "$root/var/lib/leakwatch"
: >"$root/var/lib/leakwatch/history.sqlite"
run postrm remove
check "postrm remove keeps the config and the history" test -e "$config" -a -e "$root/var/lib/leakwatch/history.sqlite"
check "  and the group" grep -q '^leakwatch:' "$fake/group"
run postrm purge
check "postrm purge removes /etc/leakwatch and /var/lib/leakwatch" test ! -e "$root/etc/leakwatch" -a ! -e "$root/var/lib/leakwatch"
check "  and the group leakwatch" bash -c '! grep -q "^leakwatch:" "$1"' _ "$fake/group"
check "  and the unit's enablement state" called "deb-systemd-helper purge leakwatch.service"

echo "deb: $passed passed, $failed failed, 0 skipped"
[[ $failed -eq 0 ]]
