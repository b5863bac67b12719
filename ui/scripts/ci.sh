#!/usr/bin/env bash
# Build and test the web UI (ui/).
#   ui/scripts/ci.sh build   npm ci when node_modules is missing or the lockfile changed, then
#                            npm run build (type check + Vite) → ui/dist
#   ui/scripts/ci.sh test    build, then Vitest (unit and component tests), then the browser
#                            tests of ui/dist in Debian's headless Chromium (/usr/bin/chromium,
#                            IPC mocked); screenshots to ${UI_SHOTS_DIR:-ui/test-results/shots}
# Ends with one line `ui: N passed, N failed, N skipped`; exits non-zero on any failure.
set -uo pipefail

UI="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$UI/.." && pwd)"
cmd="${1:-test}"
export TZ=UTC
export CI="${CI:-}"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

die() { echo "ui: $*" >&2; exit 2; }

check_node() {
  command -v node >/dev/null || die "node not found: install Node.js 20.19+ with npm"
  command -v npm >/dev/null || die "npm not found"
  local v major minor
  v="$(node -p 'process.versions.node')"
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  if (( major < 20 || (major == 20 && minor < 19) )); then
    die "Node.js $v is too old: Vite 7 needs 20.19 or newer"
  fi
}

install() {
  check_node
  local want have=""
  want="$(sha256sum "$UI/package-lock.json" | cut -d' ' -f1) node-$(node -p 'process.versions.node')"
  [[ -f "$UI/node_modules/.leakwatch-lock" ]] && have="$(cat "$UI/node_modules/.leakwatch-lock")"
  if [[ ! -d "$UI/node_modules" || "$have" != "$want" ]]; then
    echo "ui: npm ci"
    (cd "$UI" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
    echo "$want" > "$UI/node_modules/.leakwatch-lock"
  fi
}

build() {
  install
  echo "ui: build"
  (cd "$UI" && npm run --silent build) || die "build failed"
}

run_tests() {
  local out passed=0 failed=0 skipped=0 rc=0
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' RETURN

  if ! build; then
    echo "ui: 0 passed, 1 failed, 0 skipped"
    return 1
  fi

  echo "ui: unit and component tests (Vitest)"
  (cd "$UI" && npx vitest run --reporter=default --reporter=json --outputFile.json="$out/vitest.json") || rc=1
  if [[ -f "$out/vitest.json" ]]; then
    read -r p f s < <(node -e '
      const r = require(process.argv[1]);
      console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites || 0) + (r.success || r.numFailedTests ? 0 : 1), r.numPendingTests + r.numTodoTests);
    ' "$out/vitest.json")
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  else
    failed=$((failed + 1))
  fi

  echo "ui: browser tests (playwright-core, $(/usr/bin/chromium --version 2>/dev/null || echo 'no chromium'))"
  local shots="${UI_SHOTS_DIR:-ui/test-results/shots}"
  [[ "$shots" = /* ]] || shots="$REPO/$shots"
  if [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
    echo "ui: ${CHROMIUM:-/usr/bin/chromium} is missing: install Debian's chromium (apt-get install -y chromium)" >&2
    failed=$((failed + 1)); rc=1
  else
    (cd "$UI" && UI_SHOTS_DIR="$shots" E2E_SUMMARY="$out/e2e.json" node e2e/run.mjs) || rc=1
    if [[ -f "$out/e2e.json" ]]; then
      read -r p f s < <(node -e 'const r = require(process.argv[1]); console.log(r.passed, r.failed, r.skipped)' "$out/e2e.json")
      passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    else
      failed=$((failed + 1))
    fi
  fi

  (( failed > 0 )) && rc=1
  echo "ui: $passed passed, $failed failed, $skipped skipped"
  return $rc
}

case "$cmd" in
  build) build ;;
  test) run_tests ;;
  *) die "usage: $0 build|test" ;;
esac
