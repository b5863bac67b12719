# Leakwatch — build, run and test.  `make help` lists the targets.
#
# Run as root, or as a user with `sudo make …`: the build directory below is
# outside the checkout (so CI and fresh clones reuse earlier builds), and
# `deps`/`install` need root anyway.

.DEFAULT_GOAL := help

# bash for PIPESTATUS in `test` (cargo's exit code through tee).
SHELL := /bin/bash

# Cargo's build directory: fixed, outside the checkout, shared by every clone.
export CARGO_TARGET_DIR ?= /var/cache/leakwatch-target

# Integration tests find the shared test data (captures, ASN data) here.
export LEAKWATCH_SHARED ?= $(abspath $(CURDIR)/../shared)

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(DESTDIR)$(PREFIX)/bin
DATADIR := $(DESTDIR)$(PREFIX)/share/leakwatch

# What `make run` passes to leakwatch: live capture on every up interface, alerts
# in the terminal (the tray app replaces this once it exists). Override with
# `make run ARGS="replay samples/ookla.pcap"` to analyse the bundled capture.
ARGS ?= run

# --- Finding cargo ---------------------------------------------------------
# Under `sudo`, root's PATH and HOME usually lack the user's toolchain. Look in
# PATH, then $HOME/.cargo/bin, then /root/.cargo/bin, then the sudo user's
# ~/.cargo/bin. Override with `make CARGO=/path/to/cargo`.
SUDO_USER_HOME := $(if $(SUDO_USER),$(shell getent passwd '$(SUDO_USER)' 2>/dev/null | cut -d: -f6))
ifeq ($(origin CARGO),undefined)
CARGO := $(firstword $(shell command -v cargo 2>/dev/null) \
                     $(wildcard $(HOME)/.cargo/bin/cargo) \
                     $(wildcard /root/.cargo/bin/cargo) \
                     $(if $(SUDO_USER_HOME),$(wildcard $(SUDO_USER_HOME)/.cargo/bin/cargo)))
endif

ifneq ($(CARGO),)
CARGO_BIN_DIR := $(patsubst %/,%,$(dir $(CARGO)))
# rustc, rustfmt and clippy-driver live next to cargo: put them on PATH when
# cargo was not found there.
ifeq ($(filter $(CARGO_BIN_DIR),$(subst :, ,$(PATH))),)
export PATH := $(CARGO_BIN_DIR):$(PATH)
endif
# A rustup toolchain taken from the sudo user's home needs that user's
# RUSTUP_HOME (root's ~/.rustup does not have it).
ifeq ($(origin RUSTUP_HOME),undefined)
ifneq ($(SUDO_USER_HOME),)
ifeq ($(CARGO_BIN_DIR),$(SUDO_USER_HOME)/.cargo/bin)
ifneq ($(wildcard $(SUDO_USER_HOME)/.rustup),)
export RUSTUP_HOME := $(SUDO_USER_HOME)/.rustup
endif
endif
endif
endif
endif

LEAKWATCH := $(CARGO_TARGET_DIR)/release/leakwatch
# The tray app (src-tauri/, crate leakwatch-app): a debug build is what `make run` and the
# end-to-end tests use; `make deb` builds the release and the package.
APP := $(CARGO_TARGET_DIR)/debug/leakwatch-app
# Tools installed once and reused across runs (tauri-driver for the end-to-end test).
TOOLS_ROOT ?= /var/cache/leakwatch-tools
export TAURI_DRIVER ?= $(TOOLS_ROOT)/bin/tauri-driver
# The web UI's build (ui/scripts/ci.sh comes with the UI; absent until it lands).
UI_CI := ui/scripts/ci.sh
# A desktop session: `make run` starts the tray app, otherwise the command line.
HAVE_DISPLAY := $(if $(DISPLAY)$(WAYLAND_DISPLAY),yes,)

# `make test` copies cargo test's output here to print one total at the end
# (the last cargo run, the doc tests, may well report 0 tests on its own).
TEST_LOG := $(or $(TMPDIR),/tmp)/leakwatch-test.$(shell echo $$PPID).log

# Prints a header line before each step.
step = @printf '\n==> %s\n' $(1)

.PHONY: help deps build run test test-all fuzz-short bench install clean check-cargo target-dir app ui tauri-driver deb

help:
	@echo 'Leakwatch: watches outgoing traffic and says when a program sends data out.'
	@echo
	@echo 'Usage: make TARGET   (as root, or: sudo make TARGET)'
	@echo
	@echo '  run      with a display: the tray app (leakwatch-app); without: leakwatch run (Ctrl-C stops)'
	@echo '           (CLI arguments: make run ARGS="replay samples/ookla.pcap";'
	@echo '            app arguments: make run APP_ARGS="--replay samples/ookla.pcap --speed 5")'
	@echo '  app      debug build of the tray app (builds ui/ first when it is there)'
	@echo '  deb      release .deb of the tray app (binary with capture capability, desktop entry)'
	@echo '  test     rustfmt check, clippy, all tests and benches (test mode), doc tests'
	@echo '  test-all test, then the long checks (bench/flood.sh: 2 million destinations; fuzz-short)'
	@echo '  fuzz-short  each cargo-fuzz target of fuzz/ for FUZZ_TIME s (default 30) from its committed'
	@echo '           corpus; fails on any crash, timeout or OOM (nightly + cargo-fuzz; docs/reliability.md)'
	@echo '  build    release build of the leakwatch binary'
	@echo '  bench    run the benchmarks (replay, patterns, asn_load, history; see bench/README.md)'
	@echo '  deps     install missing system packages (scripts/install-deps)'
	@echo '  install  install leakwatch to $$(PREFIX)/bin (data to $$(PREFIX)/share/leakwatch)'
	@echo '           and let it capture without root'
	@echo '  clean    remove the build directory'
	@echo '  help     this text'
	@echo
	@echo 'Variables:'
	@echo '  CARGO_TARGET_DIR = $(CARGO_TARGET_DIR)'
	@echo '  LEAKWATCH_SHARED = $(LEAKWATCH_SHARED)'
	@echo '  PREFIX           = $(PREFIX)'
	@echo '  CARGO            = $(or $(CARGO),(not found: run make deps))'

deps:
	$(call step,'install system packages (scripts/install-deps)')
	bash scripts/install-deps

# Fails early, with a hint, when no cargo was found.
check-cargo:
	@test -n '$(CARGO)' || { \
	  echo 'make: no cargo found (PATH, ~/.cargo/bin, /root/.cargo/bin, the sudo user'"'"'s ~/.cargo/bin).' >&2; \
	  echo '      Run scripts/install-deps for how to install Rust, or pass CARGO=/path/to/cargo.' >&2; \
	  exit 1; }

# Cargo decides freshness by modification times alone, and the paths compiled into the tests
# (env!("CARGO_MANIFEST_DIR")) are the checkout's. When this build directory was last used by
# another checkout (CI's, a second clone) with newer builds than our sources, cargo would run
# its binaries, which look for data in that other checkout: touching our sources makes cargo
# rebuild our own crates (not the dependencies) once.
target-dir:
	@mkdir -p '$(CARGO_TARGET_DIR)' 2>/dev/null || { \
	  echo 'make: cannot create $(CARGO_TARGET_DIR): run as root (sudo make …) or set CARGO_TARGET_DIR.' >&2; \
	  exit 1; }
	@last="$$(cat '$(CARGO_TARGET_DIR)/.leakwatch-checkout' 2>/dev/null)"; \
	if [ "$$last" != '$(CURDIR)' ]; then \
	  echo "make: $(CARGO_TARGET_DIR) was last used by $${last:-an unknown checkout}: rebuilding this checkout's crates"; \
	  find src tests benches examples src-tauri/src src-tauri/tests src-tauri/build.rs \
	    -name '*.rs' -exec touch {} + 2>/dev/null; \
	  echo '$(CURDIR)' > '$(CARGO_TARGET_DIR)/.leakwatch-checkout'; \
	fi

build: deps check-cargo target-dir
	$(call step,'cargo build --release --locked --bin leakwatch')
	$(CARGO) build --release --locked --bin leakwatch

ifeq ($(HAVE_DISPLAY),yes)
run: deps app
	$(call step,'leakwatch-app $(APP_ARGS)')
	$(APP) $(APP_ARGS)
else
run: deps build
	$(call step,'no display: leakwatch $(ARGS)')
	$(LEAKWATCH) $(ARGS)
endif

# Builds the web UI when it is in the tree (the app embeds ui/dist at compile time).
ui:
	@if [ -x '$(UI_CI)' ]; then printf '\n==> %s\n' '$(UI_CI) build'; '$(UI_CI)' build; \
	 else echo 'make: $(UI_CI) not found: the app shows its placeholder page'; fi

app: check-cargo target-dir ui
	$(call step,'cargo build --locked -p leakwatch-app')
	$(CARGO) build --locked -p leakwatch-app

# tauri-driver (WebDriver for Tauri apps), installed once into $(TOOLS_ROOT) and reused.
tauri-driver: check-cargo
	@if [ -x '$(TAURI_DRIVER)' ]; then echo 'tauri-driver: $(TAURI_DRIVER)'; else \
	  printf '\n==> %s\n' 'cargo install tauri-driver --locked --root $(TOOLS_ROOT)'; \
	  CARGO_TARGET_DIR='$(TOOLS_ROOT)/build' $(CARGO) install tauri-driver --locked --root '$(TOOLS_ROOT)' && \
	  rm -rf '$(TOOLS_ROOT)/build'; fi

# The release .deb: leakwatch-app with the capture capability (postinst setcap) and a desktop
# entry, plus the ASN data. Needs the built UI (no placeholder in a package) and npm.
deb: deps check-cargo target-dir ui
	@test -f ui/dist/index.html || { echo 'make: ui/dist is missing: the .deb needs the web UI' >&2; exit 1; }
	$(call step,'cargo tauri build --bundles deb (@tauri-apps/cli from npm)')
	cd src-tauri && LEAKWATCH_REQUIRE_UI=1 npx --yes @tauri-apps/cli@2 build --bundles deb
	@ls -1 $(CARGO_TARGET_DIR)/release/bundle/deb/*.deb

test: deps check-cargo target-dir ui tauri-driver
	$(call step,'cargo fmt --all --check')
	$(CARGO) fmt --all --check
	$(call step,'cargo clippy --all-targets --locked -- -D warnings')
	$(CARGO) clippy --all-targets --locked -- -D warnings
	$(call step,'cargo test --locked --all-targets')
	$(CARGO) test --locked --all-targets 2>&1 | tee '$(TEST_LOG)'; exit $${PIPESTATUS[0]}
	$(call step,'cargo test --locked --doc')
	$(CARGO) test --locked --doc 2>&1 | tee -a '$(TEST_LOG)'; exit $${PIPESTATUS[0]}
	$(call step,'cargo clippy --locked -p leakwatch-app --all-targets -- -D warnings')
	$(CARGO) clippy --locked -p leakwatch-app --all-targets -- -D warnings
	$(call step,'cargo test --locked -p leakwatch-app (tray app; display tests under xvfb-run + dbus-run-session)')
	$(CARGO) test --locked -p leakwatch-app 2>&1 | tee -a '$(TEST_LOG)'; exit $${PIPESTATUS[0]}
	$(call step,'ui/scripts/ci.sh test (web UI: Vitest, then the built UI in headless Chromium)')
	@if node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a==20&&b>=19)?0:1)' 2>/dev/null; then \
	  UI_SHOTS_DIR='$(CARGO_TARGET_DIR)/ui-shots' ui/scripts/ci.sh test 2>&1 | tee -a '$(TEST_LOG)'; exit $${PIPESTATUS[0]}; \
	else \
	  echo "ui: skipped: the web UI needs Node.js 20.19 or newer (found: $$(node --version 2>/dev/null || echo none))" | tee -a '$(TEST_LOG)'; \
	  echo 'ui: 0 passed, 0 failed, 1 skipped' | tee -a '$(TEST_LOG)'; \
	fi
	@awk '/^test result:/ { for (i = 2; i < NF; i++) { \
	         if ($$(i+1) ~ /^passed/) p += $$i; \
	         if ($$(i+1) ~ /^failed/) f += $$i; \
	         if ($$(i+1) ~ /^ignored/) s += $$i } } \
	     /^ui: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped/ { p += $$2; f += $$4; s += $$6 } \
	     END { printf "\ntotal: %d passed, %d failed, %d skipped\n", p, f, s }' '$(TEST_LOG)'
	@rm -f '$(TEST_LOG)'

# The cargo-fuzz targets of fuzz/ (its own workspace; nightly + cargo-fuzz), each run for
# FUZZ_TIME seconds from its committed corpus fuzz/corpus/TARGET. New inputs go to a scratch
# directory, not the checkout; a finding is saved under fuzz/artifacts/TARGET/ and fails the run.
FUZZ_TARGETS := $(sort $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs))))
FUZZ_TIME ?= 30
FUZZ_TARGET_DIR ?= $(CARGO_TARGET_DIR)/fuzz
FUZZ_SCRATCH ?= $(or $(TMPDIR),/tmp)/leakwatch-fuzz-short

fuzz-short: check-cargo target-dir
	@$(CARGO) +nightly fuzz --version >/dev/null 2>&1 || { \
	  echo 'make: fuzz-short needs the nightly toolchain and cargo-fuzz:' >&2; \
	  echo '      rustup toolchain install nightly && cargo install cargo-fuzz --locked' >&2; exit 1; }
	@mkdir -p '$(FUZZ_SCRATCH)'
	@for t in $(FUZZ_TARGETS); do \
	  printf '\n==> %s\n' "cargo +nightly fuzz run $$t ($(FUZZ_TIME) s)"; \
	  rm -rf '$(FUZZ_SCRATCH)'/$$t && mkdir -p '$(FUZZ_SCRATCH)'/$$t || exit 1; \
	  (cd fuzz && nice -n 19 $(CARGO) +nightly fuzz run --target-dir '$(FUZZ_TARGET_DIR)' $$t \
	    '$(FUZZ_SCRATCH)'/$$t corpus/$$t -- -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1) >'$(FUZZ_SCRATCH)'/$$t.log 2>&1; rc=$$?; \
	  grep -E '^#[0-9]+[[:space:]]+DONE|^Done |^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' '$(FUZZ_SCRATCH)'/$$t.log; \
	  if [ $$rc -ne 0 ]; then tail -n 60 '$(FUZZ_SCRATCH)'/$$t.log; \
	    echo "fuzz-short: $$t failed (exit $$rc; the input is in fuzz/artifacts/$$t/)" >&2; exit 1; fi; \
	  rm -rf '$(FUZZ_SCRATCH)'/$$t '$(FUZZ_SCRATCH)'/$$t.log; \
	done; echo; echo 'fuzz-short: no findings in $(words $(FUZZ_TARGETS)) targets ($(FUZZ_TARGETS))'

# The long checks, after `test`; their last figures are in docs/reliability.md.
test-all: test
	$(call step,'bench/flood.sh (flow flood: 2 million destinations, peak RSS and replay speed)')
	CARGO='$(CARGO)' bash bench/flood.sh
	@$(MAKE) --no-print-directory fuzz-short

bench: deps check-cargo target-dir
	$(call step,'cargo bench --locked (replay, patterns, asn_load, history)')
	$(CARGO) bench --locked --bench replay --bench patterns --bench asn_load --bench history

# Installs the release binary and gives it the capture capabilities:
# cap_net_raw lets a non-root user open raw/packet sockets (libpcap capture),
# cap_net_admin lets it set capture options on interfaces (e.g. promiscuous
# mode). With these the binary captures as a normal user, so nothing
# (and certainly not the UI) has to run as root.
install: build
	$(call step,'install $(LEAKWATCH) to $(BINDIR)')
	install -d '$(BINDIR)'
	install -m 0755 '$(LEAKWATCH)' '$(BINDIR)/leakwatch'
	$(call step,'install data/ to $(DATADIR)')
	install -d '$(DATADIR)'
	install -m 0644 data/asn-ipv4.csv.gz data/asn-ipv6.csv.gz data/geo-whois-asn-country.mmdb \
	  data/DBIP-LICENSE.txt data/ROUTEVIEWS-LICENSE.txt data/NRO-LICENSE.txt \
	  data/UPSTREAM-MODIFICATIONS.txt data/README.md '$(DATADIR)/'
	@command -v setcap >/dev/null 2>&1 || { \
	  echo 'make: setcap not found (Debian/Ubuntu: libcap2-bin; Fedora/Arch: libcap).' >&2; exit 1; }
	setcap cap_net_raw,cap_net_admin,cap_perfmon+eip '$(BINDIR)/leakwatch'

clean:
	$(call step,'remove $(CARGO_TARGET_DIR)')
	$(if $(CARGO),$(CARGO) clean,rm -rf '$(CARGO_TARGET_DIR)')
