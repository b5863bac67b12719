#!/usr/bin/env bash
# Gathers what the NSIS installer packs (packaging/windows/leakwatch.nsi) into STAGE: the
# Windows binaries of BUILD_DIR, stripped of their debug information (a debug leakwatch-app.exe
# is about 400 MB with it), WebView2Loader.dll when the build has it, the data, docs and
# licences. Usage: stage.sh BUILD_DIR STAGE
set -eu
build=${1:?usage: stage.sh BUILD_DIR STAGE}
stage=${2:?usage: stage.sh BUILD_DIR STAGE}
strip=x86_64-w64-mingw32-strip
command -v "$strip" >/dev/null || { echo "stage.sh: $strip is missing (Debian: binutils-mingw-w64-x86-64)" >&2; exit 1; }
for exe in leakwatch.exe leakwatch-app.exe; do
  [ -f "$build/$exe" ] || { echo "stage.sh: $build/$exe is missing: build it first (make cross-check or make windows)" >&2; exit 1; }
done
rm -rf "$stage"
mkdir -p "$stage/data" "$stage/docs"
for exe in leakwatch.exe leakwatch-app.exe; do
  "$strip" --strip-debug -o "$stage/$exe" "$build/$exe"
done
if [ -f "$build/WebView2Loader.dll" ]; then cp "$build/WebView2Loader.dll" "$stage/"; fi
cp icons/icon.ico LICENSE-MIT LICENSE-APACHE "$stage/"
cp data/asn-ipv4.csv.gz data/asn-ipv6.csv.gz data/geo-whois-asn-country.mmdb data/DBIP-LICENSE.txt \
   data/ROUTEVIEWS-LICENSE.txt data/NRO-LICENSE.txt data/UPSTREAM-MODIFICATIONS.txt data/README.md "$stage/data/"
cp docs/service.md docs/platforms.md "$stage/docs/"
du -sh "$stage" | sed 's/^/stage.sh: /'
