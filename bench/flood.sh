#!/usr/bin/env bash
# The flow flood (issue 8), full size: 2 million distinct destinations and ports (a SYN scan over
# IPv4 and IPv6 and DNS amplification replies, each naming a new address, unasked) with one real 4 MiB
# upload running through them, replayed by the release `leakwatch replay`.
#
# Checks that the upload's alert is still printed (destination 203.0.113.77 and its name) and
# that the replay's peak resident memory stays within the limit (150 MiB by default); prints peak
# RSS and packets/s. Baseline in the same run: the same upload alone, made as long as the flood
# (the same number of frames), so speed is also given as a ratio that does not depend on the
# machine. Each capture is replayed 3 times, interleaved; the median time counts.
#
# Usage: bench/flood.sh            (also run by `make test-all`; figures: docs/reliability.md)
# Environment: FLOOD_DESTINATIONS (2000000), FLOOD_RSS_LIMIT_MB (150), FLOOD_RUNS (3),
#              CARGO_TARGET_DIR (/var/cache/leakwatch-target), CARGO (cargo), TMPDIR.
set -euo pipefail

N=${FLOOD_DESTINATIONS:-2000000}
LIMIT_MB=${FLOOD_RSS_LIMIT_MB:-150}
RUNS=${FLOOD_RUNS:-3}
CARGO=${CARGO:-cargo}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/leakwatch-target}
cd "$(dirname "$0")/.."

say() { printf 'flood: %s\n' "$*"; }
die() {
    printf 'flood: FAIL: %s\n' "$*" >&2
    exit 1
}

if [[ ! -x /usr/bin/time ]]; then
    say '/usr/bin/time is missing: installing it (scripts/install-deps)'
    bash scripts/install-deps
fi
[[ -x /usr/bin/time ]] || die '/usr/bin/time (GNU time) is needed: install the "time" package'

say "cargo build --release --locked --bin leakwatch --example flood_capture"
"$CARGO" build --release --locked --bin leakwatch --example flood_capture
LW=$CARGO_TARGET_DIR/release/leakwatch
GEN=$CARGO_TARGET_DIR/release/examples/flood_capture

TMP=$(mktemp -d "${TMPDIR:-/tmp}/leakwatch-flood.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

say "writing the captures ($N destinations) in $TMP"
"$GEN" "$TMP/flood.pcap" "$N" >"$TMP/flood.gen"
"$GEN" "$TMP/upload.pcap" "$N" --upload-only >"$TMP/upload.gen"
frames() { sed -n 's/^frames=\([0-9]*\).*/\1/p' "$1"; }
FLOOD_FRAMES=$(frames "$TMP/flood.gen")
UPLOAD_FRAMES=$(frames "$TMP/upload.gen")
say "flood: $FLOOD_FRAMES frames, $(du -m "$TMP/flood.pcap" | cut -f1) MB; upload alone: $UPLOAD_FRAMES frames, $(du -m "$TMP/upload.pcap" | cut -f1) MB"
# Into the page cache, so the disk does not count.
cat "$TMP/flood.pcap" "$TMP/upload.pcap" >/dev/null

# replay NAME RUN: one timed run; appends "seconds peak_kb" to $TMP/NAME.times.
replay() {
    local name=$1 run=$2 start end
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$TMP/$name.$run.time" "$LW" replay --no-progress --json "$TMP/$name.pcap" \
        >"$TMP/$name.$run.out" 2>"$TMP/$name.$run.err" ||
        die "leakwatch replay $name.pcap failed: $(cat "$TMP/$name.$run.err")"
    end=$(date +%s.%N)
    local kb
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' "$TMP/$name.$run.time")
    awk -v s="$start" -v e="$end" -v kb="$kb" 'BEGIN { printf "%.3f %d\n", e - s, kb }' >>"$TMP/$name.times"
}

for run in $(seq 1 "$RUNS"); do
    replay upload "$run"
    replay flood "$run"
done

# The alert must be there in every flood run, with its destination and name.
for run in $(seq 1 "$RUNS"); do
    out=$TMP/flood.$run.out
    grep -q '"dstip":"203.0.113.77"' "$out" || die "run $run: no alert for the upload (203.0.113.77) in the flood: $(cat "$out")"
    grep -q '"hostname":"upload.flood.test"' "$out" || die "run $run: the upload's alert lost its host name: $(cat "$out")"
    [[ $(grep -c '' "$out") -eq 1 ]] || die "run $run: expected exactly one alert: $(cat "$out")"
done
sed -n 's/^leakwatch: //p' "$TMP/flood.1.err" | sed 's/^/flood: replay said: /'

# median FILE COLUMN
median() { sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }
max() { sort -g -k"$2","$2" "$1" | tail -1 | awk -v c="$2" '{ print $c }'; }
F_S=$(median "$TMP/flood.times" 1)
U_S=$(median "$TMP/upload.times" 1)
F_KB=$(max "$TMP/flood.times" 2)
U_KB=$(max "$TMP/upload.times" 2)
awk -v n="$N" -v ff="$FLOOD_FRAMES" -v fs="$F_S" -v fk="$F_KB" -v uf="$UPLOAD_FRAMES" -v us="$U_S" -v uk="$U_KB" \
    -v runs="$RUNS" 'BEGIN {
    printf "flood: flood (%d destinations): %d frames in %.2f s (median of %d): %.0f packets/s; peak RSS %.1f MiB\n",
        n, ff, fs, runs, ff / fs, fk / 1024
    printf "flood: upload alone:             %d frames in %.2f s (median of %d): %.0f packets/s; peak RSS %.1f MiB\n",
        uf, us, runs, uf / us, uk / 1024
    printf "flood: speed ratio (flood / upload alone, packets/s): %.2f\n", (ff / fs) / (uf / us)
}'
if ((F_KB > LIMIT_MB * 1024)); then
    die "peak RSS $((F_KB / 1024)) MiB is over the limit of $LIMIT_MB MiB"
fi
say "OK: alert present, peak RSS within $LIMIT_MB MiB"
