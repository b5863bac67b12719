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
DOCDIR := $(DESTDIR)$(PREFIX)/share/doc/leakwatch
MANDIR := $(DESTDIR)$(PREFIX)/share/man/man1
BASHCOMPDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR := $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
# The service (docs/service.md): its unit, its group and its fixed paths. The config and state
# directories are not under PREFIX: the service looks for them there whatever the prefix.
UNITDIR ?= /etc/systemd/system
SYSUSERSDIR ?= /etc/sysusers.d
CONFDIR := $(DESTDIR)/etc/leakwatch
STATEDIR := $(DESTDIR)/var/lib/leakwatch
SERVICE_UNIT := packaging/systemd/leakwatch.service
SERVICE_CONFIG := packaging/leakwatch.toml
SERVICE_GROUP := leakwatch
# `make uninstall PURGE=1` also removes the config, the history and the group.
PURGE ?=
# Where `make deb`/`deb-check` put the leakwatch binary for Tauri's bundler: its `files` map
# (src-tauri/tauri.conf.json) takes paths relative to src-tauri/, and the build directory is
# outside the checkout. Git-ignored.
DEB_STAGE := src-tauri/target-stage
# `make test` runs `deb-check` (debug .deb from the existing debug builds, inspected) unless
# DEB_CHECK=no.
DEB_CHECK ?= yes
# The Tauri CLI from npm (brings its prebuilt binary), pinned in ui/package-lock.json and
# installed by `npm ci` with the UI's other tools (make ui).
TAURI_CLI := $(CURDIR)/ui/node_modules/.bin/tauri

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
# tauri-driver at an exact version, built from its own Cargo.lock (--locked).
TAURI_DRIVER_VERSION := 2.1.0
# cargo-deny (supply-chain policy in deny.toml), the same way.
CARGO_DENY := $(TOOLS_ROOT)/bin/cargo-deny
CARGO_DENY_VERSION := 0.20.2
# The web UI's build (ui/scripts/ci.sh comes with the UI; absent until it lands).
UI_CI := ui/scripts/ci.sh
# A desktop session: `make run` starts the tray app, otherwise the command line.
HAVE_DISPLAY := $(if $(DISPLAY)$(WAYLAND_DISPLAY),yes,)

# `make test` copies cargo test's output here to print one total at the end
# (the last cargo run, the doc tests, may well report 0 tests on its own).
TEST_LOG := $(or $(TMPDIR),/tmp)/leakwatch-test.$(shell echo $$PPID).log
# A test that cannot run here (not root, a tool missing) still passes in cargo's count; it writes
# a line here (tests/skip/mod.rs) and the total moves it from "passed" to "skipped".
export LEAKWATCH_SKIP_LOG := $(TEST_LOG).skips

# Prints a header line before each step.
step = @printf '\n==> %s\n' $(1)

.PHONY: cross-check windows-lib wine-prefix wine-test wine-replay windows wine-service windows-installer-check
.PHONY: help deps build run test test-all fuzz-short bench install uninstall clean check-cargo target-dir app ui \
        tauri-driver deb deb-check deb-stage-docs deny check-service-config

help:
	@echo 'Leakwatch: watches outgoing traffic and says when a program sends data out.'
	@echo
	@echo 'Usage: make TARGET   (as root, or: sudo make TARGET)'
	@echo
	@echo '  run      with a display: the service (the installed one, or this build'"'"'s for this run) and the tray app as the desktop user; without: leakwatch run (Ctrl-C stops)'
	@echo '           (CLI arguments: make run ARGS="replay samples/ookla.pcap";'
	@echo '            app arguments: make run APP_ARGS="--replay samples/ookla.pcap --speed 5")'
	@echo '  app      debug build of the tray app (builds ui/ first when it is there)'
	@echo '  deb      release .deb: the service (unit, config, group), the leakwatch CLI and the tray app'
	@echo '           (no capability on any binary; docs/service.md)'
	@echo '  deb-check  debug .deb from the existing debug builds, then packaging/check-deb.sh on it'
	@echo '  test     rustfmt check, clippy, all tests and benches (test mode), doc tests, the UI tests,'
	@echo '           deb-check (skip it with DEB_CHECK=no), cargo deny (deny.toml)'
	@echo '           cross-check (Windows build, macOS check, clippy for both) and wine-test (the'
	@echo '           engine'"'"'s tests as Windows programs under Wine; skip with WINE_TEST=no)'
	@echo '  cross-check  the workspace built for Windows (mingw-w64), checked for macOS; clippy for both'
	@echo '  wine-test  the engine'"'"'s platform-independent tests as .exe under Wine, and replay compared;'
	@echo '           then wine-service and windows-installer-check'
	@echo '  wine-service  the Windows service under Wine'"'"'s service manager (install, net start/stop, uninstall)'
	@echo '  windows-installer-check  the NSIS installer from the debug builds, installed and removed under Wine'
	@echo '  windows  the release Windows installer (NSIS, Debian'"'"'s makensis): CLI, service, tray app, data'
	@echo '  test-all test, then the long checks (bench/flood.sh: 2 million destinations; fuzz-short)'
	@echo '  fuzz-short  each cargo-fuzz target of fuzz/ for FUZZ_TIME s (default 30) from its committed'
	@echo '           corpus; fails on any crash, timeout or OOM (nightly + cargo-fuzz; docs/reliability.md)'
	@echo '  build    release build of the leakwatch binary'
	@echo '  bench    run the benchmarks (replay, patterns, asn_load, history; see bench/README.md)'
	@echo '  deps     install missing system packages (scripts/install-deps)'
	@echo '  install  install leakwatch to $$(PREFIX)/bin (data to $$(PREFIX)/share/leakwatch), the service'
	@echo '           unit to $(UNITDIR), the default config to /etc/leakwatch (kept if there),'
	@echo '           group leakwatch (with $$SUDO_USER in it); then enable and start the service'
	@echo '  uninstall  stop and remove the service, leakwatch and its data; keeps /etc/leakwatch and'
	@echo '           /var/lib/leakwatch unless PURGE=1 (which also removes group leakwatch)'
	@echo '  clean    remove the build directory'
	@echo '  help     this text'
	@echo
	@echo 'Variables:'
	@echo '  CARGO_TARGET_DIR = $(CARGO_TARGET_DIR)'
	@echo '  LEAKWATCH_SHARED = $(LEAKWATCH_SHARED)'
	@echo '  PREFIX           = $(PREFIX)'
	@echo '  DESTDIR          = $(DESTDIR)  (staged install: no group, no systemctl)'
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
# The app as the desktop user, fed by the installed service or, when none runs, by this build's
# service started for this run (scripts/run-app).
run: deps app
	$(call step,'cargo build --locked --bin leakwatch (the service)')
	$(CARGO) build --locked --bin leakwatch
	$(call step,'scripts/run-app: the service, then leakwatch-app $(APP_ARGS)')
	bash scripts/run-app '$(CARGO_TARGET_DIR)/debug/leakwatch' '$(APP)' $(APP_ARGS)
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
	@if [ -x '$(TAURI_DRIVER)' ] && { [ '$(TAURI_DRIVER)' != '$(TOOLS_ROOT)/bin/tauri-driver' ] || \
	     grep -qF '"tauri-driver $(TAURI_DRIVER_VERSION) ' '$(TOOLS_ROOT)/.crates.toml' 2>/dev/null; }; then \
	  echo 'tauri-driver: $(TAURI_DRIVER)'; else \
	  printf '\n==> %s\n' 'cargo install tauri-driver --version $(TAURI_DRIVER_VERSION) --locked --root $(TOOLS_ROOT)'; \
	  CARGO_TARGET_DIR='$(TOOLS_ROOT)/build' $(CARGO) install tauri-driver --version '$(TAURI_DRIVER_VERSION)' --locked --root '$(TOOLS_ROOT)' && \
	  rm -rf '$(TOOLS_ROOT)/build'; fi

$(CARGO_DENY):
	$(call step,'cargo install cargo-deny --version $(CARGO_DENY_VERSION) --locked --root $(TOOLS_ROOT)')
	CARGO_TARGET_DIR='$(TOOLS_ROOT)/build' $(CARGO) install cargo-deny --version '$(CARGO_DENY_VERSION)' --locked \
	  --root '$(TOOLS_ROOT)' && rm -rf '$(TOOLS_ROOT)/build'

# The supply-chain policy (deny.toml): licences, bans and sources always; advisories when a copy
# of the RustSec database is in cargo-deny's cache ($$CARGO_HOME/advisory-dbs: it comes from
# GitHub, which these machines cannot reach; `cargo deny fetch` where it can). Prints
# `deny: N passed, N failed, N skipped` for the total of make test.
ADVISORY_DBS := $(or $(CARGO_HOME),$(HOME)/.cargo)/advisory-dbs
deny: check-cargo $(CARGO_DENY)
	$(call step,'cargo deny check licenses bans sources (deny.toml)')
	@passed=0; failed=0; skipped=0; \
	for c in licenses bans sources; do \
	  if '$(CARGO_DENY)' --workspace check --hide-inclusion-graph $$c; then passed=$$((passed+1)); \
	  else failed=$$((failed+1)); echo "deny: FAIL $$c" >&2; fi; \
	done; \
	if [ -n "$$(ls -A '$(ADVISORY_DBS)' 2>/dev/null)" ]; then \
	  if '$(CARGO_DENY)' --workspace check --hide-inclusion-graph --disable-fetch advisories; then passed=$$((passed+1)); \
	  else failed=$$((failed+1)); echo 'deny: FAIL advisories' >&2; fi; \
	else \
	  echo 'deny: skipped: advisories (no copy of the RustSec database in $(ADVISORY_DBS); these machines cannot fetch it from GitHub: run `cargo deny fetch` where you can)'; \
	  skipped=$$((skipped+1)); \
	fi; \
	echo "deny: $$passed passed, $$failed failed, $$skipped skipped"; \
	[ $$failed -eq 0 ]

# Fails early when the service's default config (written with the service) is not in the tree.
check-service-config:
	@test -f '$(SERVICE_CONFIG)' || { echo 'make: $(SERVICE_CONFIG) is missing: the service'"'"'s default config' >&2; exit 1; }

# The release .deb: the service (unit, default config, sysusers file, docs/service.md), the
# leakwatch CLI, the tray app (leakwatch-app, and leakwatch-tray, its resident tray process
# without GTK or WebKit) with its desktop entry, and the ASN data. Its maintainer scripts
# (src-tauri/deb/) create group leakwatch, add the installing user, and enable and start the
# service; no binary gets a capability. Needs the built UI (no placeholder in a package) and npm.
deb: deps check-cargo target-dir ui check-service-config
	@test -f ui/dist/index.html || { echo 'make: ui/dist is missing: the .deb needs the web UI' >&2; exit 1; }
	$(call step,'cargo build --release --locked --bin leakwatch (the CLI and service, for the .deb)')
	$(CARGO) build --release --locked --bin leakwatch
	install -D -m 0755 '$(CARGO_TARGET_DIR)/release/leakwatch' '$(DEB_STAGE)/leakwatch'
	$(call step,'cargo build --release --locked -p leakwatch-app --bin leakwatch-tray (the tray process, for the .deb)')
	$(CARGO) build --release --locked -p leakwatch-app --bin leakwatch-tray
	install -D -m 0755 '$(CARGO_TARGET_DIR)/release/leakwatch-tray' '$(DEB_STAGE)/leakwatch-tray'
	$(MAKE) --no-print-directory deb-stage-docs
	$(call step,'cargo tauri build --bundles deb (@tauri-apps/cli from npm)')
	cd src-tauri && LEAKWATCH_REQUIRE_UI=1 $(TAURI_CLI) build --bundles deb
	rm -rf '$(DEB_STAGE)'
	bash packaging/check-deb.sh $(CARGO_TARGET_DIR)/release/bundle/deb/*.deb
	@ls -1 $(CARGO_TARGET_DIR)/release/bundle/deb/*.deb

# The same package from the debug builds that `make test` has just made, then
# packaging/check-deb.sh: contents, control, maintainer scripts run against a scratch root.
# `cargo test --no-run` with the test step's own arguments finds those builds fresh (a `cargo
# build` would link other ones: the test profile differs). `tauri bundle` compiles nothing, but
# it rewrites the app binary in place (a running one fails with "Text file busy"), so it packs
# a copy in $(DEB_CHECK_DIR). Warm: about 35 s.
DEB_CHECK_DIR := $(CARGO_TARGET_DIR)/deb-check
deb-check: check-cargo target-dir ui check-service-config
	$(call step,'debug builds of leakwatch and leakwatch-app (those of the tests)')
	$(CARGO) test --locked --all-targets --no-run
	$(CARGO) test --locked -p leakwatch-app --no-run
	rm -rf '$(DEB_CHECK_DIR)'
	install -D -m 0755 '$(CARGO_TARGET_DIR)/debug/leakwatch-app' '$(DEB_CHECK_DIR)/debug/leakwatch-app'
	@# The bundler packs every binary of the crate from its target directory: the tray's too.
	install -D -m 0755 '$(CARGO_TARGET_DIR)/debug/leakwatch-tray' '$(DEB_CHECK_DIR)/debug/leakwatch-tray'
	install -D -m 0755 '$(CARGO_TARGET_DIR)/debug/leakwatch' '$(DEB_STAGE)/leakwatch'
	install -D -m 0755 '$(CARGO_TARGET_DIR)/debug/leakwatch-tray' '$(DEB_STAGE)/leakwatch-tray'
	$(MAKE) --no-print-directory deb-stage-docs
	$(call step,'cargo tauri bundle --debug --bundles deb')
	cd src-tauri && CARGO_TARGET_DIR='$(DEB_CHECK_DIR)' $(TAURI_CLI) bundle --debug --bundles deb
	@# The copies (about 1 GiB with the bundler's unpacked tree); the .deb stays for a look.
	rm -rf '$(DEB_STAGE)' '$(DEB_CHECK_DIR)/debug/leakwatch-app' '$(DEB_CHECK_DIR)/debug/leakwatch-tray' $$(find '$(DEB_CHECK_DIR)/debug/bundle/deb' -mindepth 1 -maxdepth 1 -type d)
	$(call step,'packaging/check-deb.sh (dpkg-deb: contents, control, maintainer scripts)')
	bash packaging/check-deb.sh $(DEB_CHECK_DIR)/debug/bundle/deb/*.deb

# Manual pages and shell completions for the package, made by the staged leakwatch binary
# (src-tauri/tauri.conf.json maps target-stage/man and target-stage/completions); the tray
# binary writes leakwatch-app.1 (it parses the app's flags).
deb-stage-docs:
	'$(DEB_STAGE)/leakwatch' man '$(DEB_STAGE)/man'
	'$(DEB_STAGE)/leakwatch-tray' --man '$(DEB_STAGE)/man'
	install -d '$(DEB_STAGE)/completions'
	'$(DEB_STAGE)/leakwatch' completions bash > '$(DEB_STAGE)/completions/leakwatch'
	'$(DEB_STAGE)/leakwatch' completions zsh > '$(DEB_STAGE)/completions/_leakwatch'
	'$(DEB_STAGE)/leakwatch' completions fish > '$(DEB_STAGE)/completions/leakwatch.fish'

test: deps check-cargo target-dir ui tauri-driver
	$(call step,'cargo fmt --all --check')
	$(CARGO) fmt --all --check
	$(call step,'cargo clippy --all-targets --locked -- -D warnings')
	$(CARGO) clippy --all-targets --locked -- -D warnings
	$(call step,'cargo test --locked --all-targets')
	@rm -f '$(LEAKWATCH_SKIP_LOG)'
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
	@if [ '$(DEB_CHECK)' = no ]; then \
	  echo 'deb: skipped: DEB_CHECK=no' | tee -a '$(TEST_LOG)'; echo 'deb: 0 passed, 0 failed, 1 skipped' | tee -a '$(TEST_LOG)'; \
	else \
	  $(MAKE) --no-print-directory deb-check 2>&1 | tee -a '$(TEST_LOG)'; exit $${PIPESTATUS[0]}; \
	fi
	$(MAKE) --no-print-directory deny 2>&1 | tee -a '$(TEST_LOG)'; exit $${PIPESTATUS[0]}
	$(MAKE) --no-print-directory cross-check 2>&1 | tee -a '$(TEST_LOG)'; exit $${PIPESTATUS[0]}
	@if [ '$(WINE_TEST)' = no ]; then \
	  echo 'wine: skipped: WINE_TEST=no' | tee -a '$(TEST_LOG)'; echo 'wine: 0 passed, 0 failed, 1 skipped' | tee -a '$(TEST_LOG)'; \
	else \
	  $(MAKE) --no-print-directory wine-test 2>&1 | tee -a '$(TEST_LOG)'; exit $${PIPESTATUS[0]}; \
	fi
	@k=0; if [ -s '$(LEAKWATCH_SKIP_LOG)' ]; then k=$$(wc -l <'$(LEAKWATCH_SKIP_LOG)'); \
	  printf '\nskipped tests (cargo counted them as passed; run as root with scripts/install-deps to run them):\n'; \
	  sed 's/^/  /' '$(LEAKWATCH_SKIP_LOG)'; fi; \
	awk -v k=$$k '/^test result:/ { for (i = 2; i < NF; i++) { \
	         if ($$(i+1) ~ /^passed/) p += $$i; \
	         if ($$(i+1) ~ /^failed/) f += $$i; \
	         if ($$(i+1) ~ /^ignored/) s += $$i } } \
	     /^(ui|deb|deny|wine): [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped/ { p += $$2; f += $$4; s += $$6 } \
	     END { printf "\ntotal: %d passed, %d failed, %d skipped\n", p - k, f, s + k }' '$(TEST_LOG)'
	@rm -f '$(TEST_LOG)' '$(LEAKWATCH_SKIP_LOG)'

# --- Windows and macOS, built and tested from this machine (docs/platforms.md) -----------------
WIN_TARGET := x86_64-pc-windows-gnu
MAC_TARGET := aarch64-apple-darwin
# Npcap's wpcap.dll as a delay-load import library made by mingw's dlltool from
# packaging/windows/wpcap.def: leakwatch.exe starts without Npcap (src/os/windows.rs loads it).
WIN_LIB_DIR := $(CARGO_TARGET_DIR)/windows-lib
# The pcap crate's build script: where the import library is, and the libpcap API to assume
# (Npcap 1.7x is libpcap 1.10) instead of probing this machine's libpcap.
WIN_ENV := LIBPCAP_LIBDIR='$(WIN_LIB_DIR)' LIBPCAP_VER=1.10.0
# Windows test binaries run under Wine, in a prefix of their own inside the build directory.
WINE_PREFIX := $(CARGO_TARGET_DIR)/wine-prefix
WINE_ENV := WINEPREFIX='$(WINE_PREFIX)' WINEDEBUG=-all CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
# The engine's platform-independent test binaries (replay of the shared captures, patterns,
# ignores, history, scenarios) that run as Windows programs. Not yet: the unit tests (--lib: one
# compiles a BPF filter, and Wine's wpcap.dll has no pcap_open_dead), asn_db (bad_dir_names_the_file
# fails on Windows: to look at), legacy_protocol (stops its daemons with SIGINT), naming_wire and
# ndpi_flows (read captures through libpcap directly), faults (root and /proc), and in
# ignores_store kill9_during_writes_loses_nothing_acknowledged (fails under Wine: to look at).
# (tests/savefile.rs compares the built-in reader with libpcap, which a Windows build has not:
# it runs on Linux only.)
WINE_TESTS ?= replay_cli patterns_shipped patterns_legacy cli_rules ignores_store history_store \
              history_forward scenarios rules_engine messages escapes names_honest ignore_budget
WINE_SKIP ?= --skip kill9_during_writes_loses_nothing_acknowledged
# `make test` runs the Wine tests unless WINE_TEST=no (they are counted in its total).
WINE_TEST ?= yes

windows-lib: $(WIN_LIB_DIR)/libwpcap.a

$(WIN_LIB_DIR)/libwpcap.a: packaging/windows/wpcap.def
	@mkdir -p '$(WIN_LIB_DIR)'
	x86_64-w64-mingw32-dlltool -d '$<' -D wpcap.dll -y '$@'

# The whole workspace (engine, CLI, tray app) built for Windows, with clippy; the engine and CLI
# checked for macOS by clippy (which checks). Without Apple's SDK here: no macOS link, no
# netstat2 (its build script reads the SDK's libproc.h: feature macos-sockets off), and no tray
# app (mac-notification-sys compiles Objective-C), no test targets (criterion compiles C: alloca).
# docs/platforms.md.
MAC_FEATURES := --no-default-features
cross-check: check-cargo target-dir windows-lib ui
	$(call step,'cargo build --target $(WIN_TARGET) --workspace (engine, CLI, tray app)')
	$(WIN_ENV) $(CARGO) build --locked --target $(WIN_TARGET) --workspace
	@# Library and binaries: the Linux-only integration tests (namespaces, /proc) do not build for
	@# Windows; the test binaries that run under Wine are built by wine-test.
	$(call step,'cargo clippy --target $(WIN_TARGET) --workspace --lib --bins -- -D warnings')
	$(WIN_ENV) $(CARGO) clippy --locked --target $(WIN_TARGET) --workspace --lib --bins -- -D warnings
	$(call step,'cargo clippy --target $(MAC_TARGET) -p leakwatch --lib --bins $(MAC_FEATURES) -- -D warnings (check only)')
	$(CARGO) clippy --locked --target $(MAC_TARGET) -p leakwatch --lib --bins $(MAC_FEATURES) -- -D warnings

# A Wine prefix for the tests, once, with bcryptprimitives.dll (Rust's std needs its ProcessPrng,
# which Wine 8 lacks; packaging/windows/wine/bcryptprimitives.c, never shipped).
wine-prefix: $(WINE_PREFIX)/drive_c/windows/system32/bcryptprimitives.dll

$(WINE_PREFIX)/drive_c/windows/system32/bcryptprimitives.dll: packaging/windows/wine/bcryptprimitives.c
	WINEPREFIX='$(WINE_PREFIX)' WINEDEBUG=-all wineboot --init >/dev/null 2>&1 || true
	@test -d '$(WINE_PREFIX)/drive_c/windows/system32' || { echo 'make: wineboot did not create $(WINE_PREFIX)' >&2; exit 1; }
	x86_64-w64-mingw32-gcc -O2 -shared -s -o '$@' '$<' -ladvapi32

# The engine's tests as Windows binaries under Wine, then `leakwatch.exe replay` against Linux's.
wine-test: check-cargo target-dir windows-lib wine-prefix
	$(call step,'cargo test --target $(WIN_TARGET) $(addprefix --test ,$(WINE_TESTS)) (under Wine)')
	$(WIN_ENV) $(WINE_ENV) $(CARGO) test --locked --target $(WIN_TARGET) --no-fail-fast $(addprefix --test ,$(WINE_TESTS)) -- $(WINE_SKIP)
	@$(MAKE) --no-print-directory wine-replay
	@$(MAKE) --no-print-directory wine-service
	@$(MAKE) --no-print-directory windows-installer-check

# `leakwatch.exe replay samples/ookla.pcap --json` under Wine prints what the Linux build prints.
wine-replay: check-cargo target-dir windows-lib wine-prefix
	$(call step,'leakwatch.exe replay --json samples/ookla.pcap under Wine = the Linux build'"'"'s output')
	$(WIN_ENV) $(CARGO) build --locked --target $(WIN_TARGET) --bin leakwatch
	$(CARGO) build --locked --bin leakwatch
	@set -e; out='$(CARGO_TARGET_DIR)/wine-replay'; mkdir -p "$$out"; \
	for s in ookla whatsappfiles; do \
	  '$(CARGO_TARGET_DIR)/debug/leakwatch' replay --no-progress --json samples/$$s.pcap > "$$out/$$s.linux.json"; \
	  WINEPREFIX='$(WINE_PREFIX)' WINEDEBUG=-all wine '$(CARGO_TARGET_DIR)/$(WIN_TARGET)/debug/leakwatch.exe' \
	    replay --no-progress --json samples/$$s.pcap | tr -d '\r' > "$$out/$$s.windows.json"; \
	  test -s "$$out/$$s.linux.json" || { echo "wine-replay: no alert from samples/$$s.pcap on Linux" >&2; exit 1; }; \
	  if cmp -s "$$out/$$s.linux.json" "$$out/$$s.windows.json"; then \
	    echo "wine-replay: samples/$$s.pcap: $$(wc -l < "$$out/$$s.linux.json") alert line(s), identical on Windows (Wine) and Linux"; \
	  else diff "$$out/$$s.linux.json" "$$out/$$s.windows.json" | head -20; \
	    echo "wine-replay: samples/$$s.pcap: Windows output differs from Linux" >&2; exit 1; fi; \
	done

# The Windows service under Wine's service control manager: service install, net start until
# RUNNING, the legacy port on loopback, net stop until STOPPED (exit code 0), a bad configuration's
# exit code, service uninstall (packaging/windows/wine-service-test.sh; Wine 8 has no AF_UNIX, so
# it runs with socket = "": the API socket needs a real Windows machine).
wine-service: check-cargo target-dir windows-lib wine-prefix
	$(call step,'the Windows service under Wine (install, net start, legacy port, net stop, exit code, uninstall)')
	$(WIN_ENV) $(CARGO) build --locked --target $(WIN_TARGET) --bin leakwatch
	WINEPREFIX='$(WINE_PREFIX)' bash packaging/windows/wine-service-test.sh '$(CARGO_TARGET_DIR)/$(WIN_TARGET)/debug/leakwatch.exe'

# The Windows installer: our NSIS script (packaging/windows/leakwatch.nsi) compiled by Debian's
# makensis. Not Tauri's NSIS bundler: it downloads nsis_tauri_utils.dll from GitHub on every
# system (docs/platforms.md). `make windows` packs the release builds (slow: a release build of
# the workspace for Windows); windows-installer-check (run by wine-test) packs the debug builds of
# cross-check without compression, then installs, checks and uninstalls it silently under Wine.
WIN_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
WIN_STAGE := $(CARGO_TARGET_DIR)/windows-stage
WIN_SETUP := $(CARGO_TARGET_DIR)/$(WIN_TARGET)/release/Leakwatch-$(WIN_VERSION)-setup.exe
windows: check-cargo target-dir windows-lib ui
	@test -f ui/dist/index.html || { echo 'make: ui/dist is missing: the installer needs the web UI' >&2; exit 1; }
	@command -v makensis >/dev/null || { echo 'make: makensis is missing (Debian: apt-get install nsis)' >&2; exit 1; }
	$(call step,'cargo build --release --target $(WIN_TARGET) (leakwatch, leakwatch-app)')
	$(WIN_ENV) $(CARGO) build --release --locked --target $(WIN_TARGET) --bin leakwatch
	LEAKWATCH_REQUIRE_UI=1 $(WIN_ENV) $(CARGO) build --release --locked --target $(WIN_TARGET) -p leakwatch-app --bin leakwatch-app
	$(call step,'makensis packaging/windows/leakwatch.nsi (release)')
	bash packaging/windows/stage.sh '$(CARGO_TARGET_DIR)/$(WIN_TARGET)/release' '$(WIN_STAGE)/release'
	makensis -V2 -DSTAGE='$(WIN_STAGE)/release' -DOUTFILE='$(WIN_SETUP)' -DVERSION='$(WIN_VERSION)' packaging/windows/leakwatch.nsi
	rm -rf '$(WIN_STAGE)/release'
	@ls -l '$(WIN_SETUP)'

WIN_TEST_SETUP := $(WIN_STAGE)/Leakwatch-debug-setup.exe
windows-installer-check: check-cargo target-dir windows-lib wine-prefix
	@command -v makensis >/dev/null || { echo 'windows-installer: skipped: makensis is missing (Debian: apt-get install nsis)'; \
	  echo 'wine: 0 passed, 0 failed, 1 skipped'; exit 0; }; \
	set -e; start=$$(date +%s); \
	printf '\n==> %s\n' 'debug builds for Windows (those of cross-check), staged and packed by makensis -DFAST'; \
	$(WIN_ENV) $(CARGO) build --locked --target $(WIN_TARGET) --workspace; \
	bash packaging/windows/stage.sh '$(CARGO_TARGET_DIR)/$(WIN_TARGET)/debug' '$(WIN_STAGE)/debug'; \
	makensis -V2 -DFAST -DSTAGE='$(WIN_STAGE)/debug' -DOUTFILE='$(WIN_TEST_SETUP)' -DVERSION='$(WIN_VERSION)' packaging/windows/leakwatch.nsi; \
	rm -rf '$(WIN_STAGE)/debug'; \
	echo "windows-installer: $$(du -h '$(WIN_TEST_SETUP)' | cut -f1) installer in $$(( $$(date +%s) - start )) s"; \
	printf '\n==> %s\n' 'the installer under Wine: silent install, checks, silent uninstall'; \
	rc=0; WINEPREFIX='$(WINE_PREFIX)' bash packaging/windows/wine-installer-test.sh '$(WIN_TEST_SETUP)' || rc=$$?; \
	rm -f '$(WIN_TEST_SETUP)'; \
	echo "windows-installer: $$(( $$(date +%s) - start )) s in all"; exit $$rc

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

# Installs leakwatch and its service. No capability on the binary (any user may run it): the
# privileges belong to leakwatch.service, which systemd starts with an exact capability set
# (packaging/systemd/leakwatch.service, docs/service.md). With DESTDIR (a staged install) only
# files are written: no group, no systemctl.
install: check-service-config build
	@[ -n '$(DESTDIR)' ] || [ "$$(id -u)" = 0 ] || { echo 'make: install needs root: sudo make install' >&2; exit 1; }
	$(call step,'install $(LEAKWATCH) to $(BINDIR)')
	install -d '$(BINDIR)'
	install -m 0755 '$(LEAKWATCH)' '$(BINDIR)/leakwatch'
	$(call step,'install data/ to $(DATADIR)')
	install -d '$(DATADIR)'
	install -m 0644 data/asn-ipv4.csv.gz data/asn-ipv6.csv.gz data/geo-whois-asn-country.mmdb \
	  data/DBIP-LICENSE.txt data/ROUTEVIEWS-LICENSE.txt data/NRO-LICENSE.txt \
	  data/UPSTREAM-MODIFICATIONS.txt data/README.md '$(DATADIR)/'
	install -D -m 0644 docs/service.md '$(DOCDIR)/service.md'
	$(call step,'manual pages to $(MANDIR), completions for bash, zsh and fish (generated by leakwatch)')
	'$(LEAKWATCH)' man '$(MANDIR)'
	install -d '$(BASHCOMPDIR)' '$(ZSHCOMPDIR)' '$(FISHCOMPDIR)'
	'$(LEAKWATCH)' completions bash > '$(BASHCOMPDIR)/leakwatch'
	'$(LEAKWATCH)' completions zsh > '$(ZSHCOMPDIR)/_leakwatch'
	'$(LEAKWATCH)' completions fish > '$(FISHCOMPDIR)/leakwatch.fish'
	$(call step,'install the service: $(DESTDIR)$(UNITDIR)/leakwatch.service (ExecStart=$(PREFIX)/bin/leakwatch)')
	install -d '$(DESTDIR)$(UNITDIR)' '$(DESTDIR)$(SYSUSERSDIR)'
	sed -e 's|^ExecStart=/usr/bin/leakwatch |ExecStart=$(PREFIX)/bin/leakwatch |' \
	    -e 's|file:/usr/share/doc/leakwatch/|file:$(PREFIX)/share/doc/leakwatch/|' \
	    '$(SERVICE_UNIT)' > '$(DESTDIR)$(UNITDIR)/leakwatch.service.tmp'
	@grep -qx 'ExecStart=$(PREFIX)/bin/leakwatch service .*' '$(DESTDIR)$(UNITDIR)/leakwatch.service.tmp' || { \
	  echo 'make: could not point ExecStart of $(SERVICE_UNIT) at $(PREFIX)/bin/leakwatch' >&2; exit 1; }
	chmod 0644 '$(DESTDIR)$(UNITDIR)/leakwatch.service.tmp'
	mv -f '$(DESTDIR)$(UNITDIR)/leakwatch.service.tmp' '$(DESTDIR)$(UNITDIR)/leakwatch.service'
	install -m 0644 packaging/sysusers.d/leakwatch.conf '$(DESTDIR)$(SYSUSERSDIR)/leakwatch.conf'
	@if [ -e '$(CONFDIR)/leakwatch.toml' ]; then \
	  echo 'make: kept $(CONFDIR)/leakwatch.toml (the default is $(SERVICE_CONFIG))'; \
	else \
	  echo "install -D -m 0644 $(SERVICE_CONFIG) $(CONFDIR)/leakwatch.toml"; \
	  install -D -m 0644 '$(SERVICE_CONFIG)' '$(CONFDIR)/leakwatch.toml'; \
	fi
	@if [ -n '$(DESTDIR)' ]; then \
	  echo 'make: staged install in $(DESTDIR): create group $(SERVICE_GROUP) and start leakwatch.service on the target'; \
	  exit 0; \
	fi; \
	set -e; \
	printf '\n==> %s\n' 'group $(SERVICE_GROUP) (root and its members may use the service)'; \
	if getent group '$(SERVICE_GROUP)' >/dev/null; then echo 'make: group $(SERVICE_GROUP) exists'; \
	else echo 'groupadd --system $(SERVICE_GROUP)'; groupadd --system '$(SERVICE_GROUP)'; fi; \
	user='$(SUDO_USER)'; \
	if [ -n "$$user" ] && [ "$$user" != root ]; then \
	  if id -nG "$$user" | tr ' ' '\n' | grep -qx '$(SERVICE_GROUP)'; then \
	    echo "make: $$user is in group $(SERVICE_GROUP)"; \
	  else \
	    echo "usermod -aG $(SERVICE_GROUP) $$user"; usermod -aG '$(SERVICE_GROUP)' "$$user"; \
	    echo "make: added $$user to group $(SERVICE_GROUP): log out and in again (until then: newgrp $(SERVICE_GROUP))"; \
	    echo "      before the app or 'leakwatch watch' can use the service."; \
	  fi; \
	else \
	  echo 'make: to let a user use the service: sudo usermod -aG $(SERVICE_GROUP) USER (then log in again)'; \
	fi; \
	if [ -d /run/systemd/system ]; then \
	  printf '\n==> %s\n' 'systemctl daemon-reload; enable leakwatch.service; (re)start it'; \
	  systemctl daemon-reload; \
	  systemctl enable leakwatch.service; \
	  systemctl restart leakwatch.service; \
	  echo 'make: leakwatch.service is running (systemctl status leakwatch; journalctl -u leakwatch)'; \
	else \
	  echo; \
	  echo 'make: systemd is not running here (not PID 1): start the service by hand:'; \
	  echo '      sudo $(PREFIX)/bin/leakwatch service'; \
	  echo '      (or, under systemd: systemctl daemon-reload && systemctl enable --now leakwatch)'; \
	fi

# Removes what `install` put down. The config and ignores (/etc/leakwatch), the history
# (/var/lib/leakwatch) and group leakwatch stay unless PURGE=1.
uninstall:
	@[ -n '$(DESTDIR)' ] || [ "$$(id -u)" = 0 ] || { echo 'make: uninstall needs root: sudo make uninstall' >&2; exit 1; }
	@if [ -z '$(DESTDIR)' ] && [ -d /run/systemd/system ]; then \
	  echo 'systemctl disable --now leakwatch.service'; \
	  systemctl disable --now leakwatch.service || true; \
	fi
	rm -f '$(BINDIR)/leakwatch' '$(DESTDIR)$(UNITDIR)/leakwatch.service' '$(DESTDIR)$(SYSUSERSDIR)/leakwatch.conf'
	rm -rf '$(DATADIR)' '$(DOCDIR)'
	rm -f '$(MANDIR)'/leakwatch.1 '$(MANDIR)'/leakwatch-*.1 '$(BASHCOMPDIR)/leakwatch' '$(ZSHCOMPDIR)/_leakwatch' \
	  '$(FISHCOMPDIR)/leakwatch.fish'
	@if [ -z '$(DESTDIR)' ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@if [ '$(PURGE)' = 1 ]; then \
	  echo "rm -rf $(CONFDIR) $(STATEDIR)"; rm -rf '$(CONFDIR)' '$(STATEDIR)'; \
	  if [ -z '$(DESTDIR)' ] && getent group '$(SERVICE_GROUP)' >/dev/null; then \
	    echo 'groupdel $(SERVICE_GROUP)'; groupdel '$(SERVICE_GROUP)'; fi; \
	else \
	  echo 'make: kept $(CONFDIR) (config, ignores), $(STATEDIR) (history) and group $(SERVICE_GROUP);'; \
	  echo '      make uninstall PURGE=1 removes them too'; \
	fi

clean:
	$(call step,'remove $(CARGO_TARGET_DIR)')
	$(if $(CARGO),$(CARGO) clean,rm -rf '$(CARGO_TARGET_DIR)')
