//! The service's systemd unit, `packaging/systemd/leakwatch.service` (docs/service.md):
//! `systemd-analyze verify` accepts it, its offline security exposure stays below 4.0 ("OK")
//! with the key hardening settings in force, the capabilities it grants are the ones
//! docs/service.md justifies and are enough (the service run with exactly them, as the unit
//! runs it, names other users' programs by path, short-lived ones and connections older than
//! the service included), the binary understands the command line it starts, and the sysusers
//! file creates group `leakwatch`.
//!
//! systemd need not be running (it is not PID 1 on the test machines): `systemd-analyze` only
//! reads files. A test whose tool is missing (or that needs root) prints `skipped: …` to stderr
//! and passes, unless `LEAKWATCH_REQUIRE_LIVE=1`, which makes it fail instead.

mod netns;

use netns::{KillOnDrop, NetPair, lines, python};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_leakwatch");
const UNIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/systemd/leakwatch.service");
const SYSUSERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/sysusers.d/leakwatch.conf");
const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/service.md");
/// "OK" in `systemd-analyze security` starts below this.
const MAX_EXPOSURE: f64 = 4.0;

/// Says why `test` is skipped (counted as skipped by `make test`); a failure instead when
/// LEAKWATCH_REQUIRE_LIVE=1.
fn skip(_test: &str, why: &str) {
    netns::skip::skip(why);
}

/// A program looked up in PATH and the usual directories.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/bin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A program of the systemd package; `None` after saying why the test is skipped.
fn systemd_tool(name: &str, test: &str) -> Option<PathBuf> {
    let found = find_program(name);
    if found.is_none() {
        skip(
            test,
            &format!(
                "{name} not found (it comes with systemd: Debian/Ubuntu `apt-get install systemd`; scripts/install-deps installs it)"
            ),
        );
    }
    found
}

fn unit_text() -> String {
    std::fs::read_to_string(UNIT).unwrap_or_else(|e| panic!("cannot read {UNIT}: {e}"))
}

/// The unit in a scratch directory, with ExecStart pointing at the freshly built binary (verify
/// checks that the program exists), under the same file name.
fn unit_copy(dir: &Path) -> PathBuf {
    let text = unit_text();
    let prefix = "ExecStart=/usr/bin/leakwatch ";
    assert_eq!(
        text.lines().filter(|l| l.starts_with(prefix)).count(),
        1,
        "{UNIT} must start the service with exactly one `{prefix}…` line (make install rewrites it)"
    );
    let text = text.replace(prefix, &format!("ExecStart={EXE} "));
    let path = dir.join("leakwatch.service");
    std::fs::write(&path, text).unwrap();
    path
}

/// `systemd-analyze ARGS… UNIT` on a copy of the unit (see [`unit_copy`]): its output and the
/// output's text (stdout, then stderr), or `None` when systemd-analyze is missing.
fn analyze(test: &str, args: &[&str]) -> Option<(Output, String)> {
    let tool = systemd_tool("systemd-analyze", test)?;
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_copy(dir.path());
    let out = Command::new(&tool)
        .args(args)
        .arg(&unit)
        // No pager, no colours, and no user manager to ask.
        .env("SYSTEMD_PAGER", "")
        .env("SYSTEMD_COLORS", "0")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Some((out, text))
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let Some((out, text)) = analyze("systemd_analyze_verify_accepts_the_unit", &["verify", "--man=no"]) else {
        return;
    };
    assert!(out.status.success(), "systemd-analyze verify failed:\n{text}");
    // Unknown keys and bad values are warnings with exit status 0: any word about our unit fails.
    let ours: Vec<&str> = text.lines().filter(|l| l.contains("leakwatch")).collect();
    assert!(ours.is_empty(), "systemd-analyze verify warns about the unit:\n{}", ours.join("\n"));
}

#[test]
fn unit_security_exposure_is_ok() {
    let Some((out, text)) = analyze("unit_security_exposure_is_ok", &["security", "--offline=true", "--no-pager"])
    else {
        return;
    };
    assert!(out.status.success(), "systemd-analyze security --offline=true failed:\n{text}");
    // "→ Overall exposure level for leakwatch.service: 3.0 OK 🙂"
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level for leakwatch.service:"))
        .unwrap_or_else(|| panic!("no overall exposure line in:\n{text}"));
    let score: f64 = line
        .split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the score in {line:?}"));
    eprintln!("leakwatch.service: {}", line.trim_start_matches('→').trim());
    assert!(score < MAX_EXPOSURE, "exposure {score} is not below {MAX_EXPOSURE} (\"OK\"):\n{text}");
}

/// The settings the service's safety rests on, whatever the total: each must be in force.
#[test]
fn unit_keeps_the_key_hardening() {
    let args = ["security", "--offline=true", "--json=short", "--no-pager"];
    let Some((out, text)) = analyze("unit_keeps_the_key_hardening", &args) else {
        return;
    };
    assert!(out.status.success(), "systemd-analyze security --json=short failed:\n{text}");
    let json = String::from_utf8_lossy(&out.stdout);
    let items: Vec<serde_json::Value> =
        serde_json::from_str(json.trim()).unwrap_or_else(|e| panic!("not the JSON expected ({e}):\n{json}"));
    let must = [
        "NoNewPrivileges=",
        "ProtectSystem=",
        "ProtectHome=",
        "PrivateTmp=",
        "PrivateDevices=",
        "ProtectKernelTunables=",
        "ProtectKernelModules=",
        "ProtectKernelLogs=",
        "ProtectControlGroups=",
        "ProtectClock=",
        "ProtectHostname=",
        "MemoryDenyWriteExecute=",
        "LockPersonality=",
        "RestrictRealtime=",
        "RestrictSUIDSGID=",
        "SystemCallArchitectures=",
        "RestrictNamespaces=~user",
        "RestrictAddressFamilies=~…",
        "SystemCallFilter=~@mount",
        "SystemCallFilter=~@module",
        "SystemCallFilter=~@raw-io",
        "SystemCallFilter=~@reboot",
        "SystemCallFilter=~@swap",
        "SystemCallFilter=~@clock",
        "SystemCallFilter=~@resources",
        "SystemCallFilter=~@obsolete",
        "SystemCallFilter=~@cpu-emulation",
        "PrivateMounts=",
        "CapabilityBoundingSet=~CAP_SYS_ADMIN",
        "CapabilityBoundingSet=~CAP_SYS_MODULE",
        "CapabilityBoundingSet=~CAP_SET(UID|GID|PCAP)",
        "CapabilityBoundingSet=~CAP_(CHOWN|FSETID|SETFCAP)",
        "CapabilityBoundingSet=~CAP_BPF",
        "CapabilityBoundingSet=~CAP_SYS_RAWIO",
    ];
    let mut missing = Vec::new();
    for name in must {
        match items.iter().find(|i| i["name"] == name) {
            // "full" is set too, but leaves /etc writable: only "strict" will do.
            Some(item) if name == "ProtectSystem=" && !item["description"].to_string().contains("strict") => {
                missing.push(format!("{name}: {} (want strict)", item["description"]))
            }
            Some(item) if item["set"] == true => {}
            Some(item) => missing.push(format!("{name}: {}", item["description"])),
            None => missing.push(format!("{name}: not in systemd-analyze's list")),
        }
    }
    assert!(missing.is_empty(), "hardening not in force:\n{}", missing.join("\n"));
}

/// The words of every `KEY=` line of the unit, in order.
fn unit_setting(key: &str) -> Vec<String> {
    unit_text()
        .lines()
        .filter_map(|l| l.strip_prefix(key))
        .flat_map(|v| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// `CapabilityBoundingSet=` grants exactly the capabilities docs/service.md explains, and the
/// connection tracer's system call is in the filter.
#[test]
fn unit_capabilities_are_the_documented_ones() {
    let setting = unit_setting;
    let mut granted = setting("CapabilityBoundingSet=");
    granted.sort();
    let doc = std::fs::read_to_string(DOC).unwrap_or_else(|e| panic!("cannot read {DOC}: {e}"));
    // Table rows "| `CAP_NET_RAW` | why |" in the capabilities section.
    let mut documented: Vec<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `CAP_"))
        .filter_map(|l| l.split('`').next())
        .map(|c| format!("CAP_{c}"))
        .collect();
    documented.sort();
    assert_eq!(granted, documented, "the unit's CapabilityBoundingSet and docs/service.md's table differ");
    assert!(setting("AmbientCapabilities=").is_empty(), "the service runs as root: no ambient capabilities needed");
    assert!(
        setting("SystemCallFilter=").iter().any(|s| s == "perf_event_open"),
        "@system-service lacks perf_event_open, which the connection tracer needs"
    );
}

/// The unit's command line is one the binary accepts.
#[test]
fn the_binary_has_the_service_command_the_unit_starts() {
    let out = Command::new(EXE).args(["service", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "leakwatch service --help failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(help.contains("--config"), "leakwatch service has no --config (the unit passes one):\n{help}");
}

#[test]
fn sysusers_file_creates_group_leakwatch() {
    let Some(sysusers) = systemd_tool("systemd-sysusers", "sysusers_file_creates_group_leakwatch") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("etc")).unwrap();
    let conf = std::fs::File::open(SYSUSERS).unwrap_or_else(|e| panic!("cannot read {SYSUSERS}: {e}"));
    let out =
        Command::new(sysusers).arg(format!("--root={}", root.path().display())).arg("-").stdin(conf).output().unwrap();
    assert!(out.status.success(), "systemd-sysusers failed: {}", String::from_utf8_lossy(&out.stderr));
    let group = std::fs::read_to_string(root.path().join("etc/group")).unwrap();
    assert!(group.lines().any(|l| l.starts_with("leakwatch:x:")), "no group leakwatch in:\n{group}");
}

/// Linux capability numbers (linux/capability.h), for reading `CapEff` of a process.
const CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The effective capabilities of process `pid`, by name.
fn effective_capabilities(pid: u32) -> Vec<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:")).expect("CapEff in /proc/PID/status").trim();
    let bits = u64::from_str_radix(hex, 16).unwrap();
    let mut names: Vec<String> = (0..64)
        .filter(|b| bits & (1u64 << b) != 0)
        .map(|b| CAPABILITIES.get(b).map_or_else(|| format!("capability {b}"), |n| (*n).to_owned()))
        .collect();
    names.sort();
    names
}

/// Waits at most `within` for `child` to exit; its exit code (`None`: killed by a signal).
fn wait_exit(child: &mut KillOnDrop, within: Duration, what: &str) -> Option<i32> {
    let end = Instant::now() + within;
    loop {
        if let Some(st) = child.0.try_wait().unwrap() {
            return st.code();
        }
        assert!(Instant::now() < end, "{what} did not end within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `leakwatch status --json` of the service behind `socket`.
fn status(socket: &Path) -> serde_json::Value {
    let out = Command::new(EXE).args(["status", "--json"]).env("LEAKWATCH_SOCKET", socket).output().unwrap();
    assert!(out.status.success(), "leakwatch status --json failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("status is not JSON ({e})"))
}

/// A program of `nobody` in namespace A.
fn as_nobody(pair: &NetPair) -> Command {
    let mut c = pair.in_a("setpriv");
    c.args(["--reuid", "65534", "--regid", "65534", "--clear-groups", python()]);
    c
}

/// The service, started as the unit starts it (uid 0 with only the unit's bounding set, no new
/// privileges, UMask 0027), attributes uploads of another user's programs completely and by
/// executable path: a connection opened before the service started (only `/proc/<pid>/fd` and
/// `/proc/<pid>/exe` can name it: CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE) and 10 programs that live
/// for milliseconds (the connection tracer: CAP_PERFMON). Capture needs CAP_NET_RAW alone.
#[test]
fn the_units_capabilities_name_every_users_programs() {
    const TEST: &str = "the_units_capabilities_name_every_users_programs";
    const PORT: u16 = 9000;
    const WAIT: Duration = Duration::from_secs(20);
    if !netns::is_root() {
        return skip(TEST, "needs root (network namespaces, uid 0 with a reduced capability set)");
    }
    if !netns::tools_present() || find_program("setpriv").is_none() || find_program("mountpoint").is_none() {
        return skip(TEST, "needs ip (iproute2), python3, setpriv and mountpoint (util-linux)");
    }
    let pair = NetPair::new().expect("the namespace pair");
    let _sink = pair.sink_in_b(PORT);
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("api.sock");
    let config = dir.path().join("leakwatch.toml");
    let d = dir.path().display();
    std::fs::write(
        &config,
        format!(
            "interfaces = [\"{}\"]\nreverse_dns = false\nlegacy = false\nhistory = \"{d}/history.sqlite\"\n\
             ignores = \"{d}/ignores.user.json\"\nsocket = \"{}\"\ngroup = \"root\"\n",
            pair.veth_a,
            socket.display()
        ),
    )
    .unwrap();

    // nobody's connection, opened before the service starts; it sends once told to.
    let code = format!(
        "import socket,os,sys,time\n\
         s=socket.create_connection(('{}',{PORT}))\n\
         print(os.getpid(),flush=True)\n\
         sys.stdin.readline()\n\
         for _ in range(30):\n\x20s.sendall(b'e'*10000)\n\x20time.sleep(0.05)\n\
         s.close()\n",
        pair.v4_b()
    );
    let mut early =
        KillOnDrop(as_nobody(&pair).args(["-c", &code]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap());
    let early_out = lines(early.0.stdout.take().unwrap());
    let early_pid: u32 = early_out.recv_timeout(WAIT).expect("the early uploader's pid").trim().parse().unwrap();

    // The service with the unit's capabilities. systemd mounts tracefs at boot; `ip netns exec`
    // gives a fresh /sys without it, so mount it first, with all of root's rights.
    let caps = unit_setting("CapabilityBoundingSet=");
    let bounding: String = std::iter::once("-all".to_owned())
        .chain(caps.iter().map(|c| format!("+{}", c.trim_start_matches("CAP_").to_lowercase())))
        .collect::<Vec<_>>()
        .join(",");
    let mut service = KillOnDrop(
        pair.in_a("sh")
            .args([
                "-c",
                "mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing || exit 1; \
                 umask 027; exec setpriv --bounding-set \"$1\" --inh-caps -all --no-new-privs -- \"$2\" service --config \"$3\"",
                "sh",
                &bounding,
                EXE,
            ])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pid = service.0.id();
    let log = lines(service.0.stderr.take().unwrap());
    let mut said = Vec::new();
    let deadline = Instant::now() + WAIT;
    while !said.iter().any(|l: &String| l.contains(&format!("capturing on {}", pair.veth_a))) {
        let left = deadline.saturating_duration_since(Instant::now());
        match log.recv_timeout(left) {
            Ok(l) => said.push(l),
            Err(_) => panic!("the service did not start capturing within {WAIT:?}:\n{}", said.join("\n")),
        }
    }
    let mut granted = caps.clone();
    granted.sort();
    assert_eq!(effective_capabilities(pid), granted, "the service's CapEff is not the unit's set");

    let mut watch = KillOnDrop(
        Command::new(EXE)
            .args(["watch", "--json"])
            .env("LEAKWATCH_SOCKET", &socket)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let alerts = lines(watch.0.stdout.take().unwrap());

    // The early connection sends 300 KB; then 10 programs send 40 KB each and exit.
    writeln!(early.0.stdin.as_mut().unwrap(), "go").unwrap();
    let short = format!(
        "import socket\ns=socket.create_connection(('{}',{PORT}))\ns.sendall(b's'*40000)\ns.close()\n",
        pair.v4_b()
    );
    for _ in 0..10 {
        let st = as_nobody(&pair).args(["-c", &short]).status().unwrap();
        assert!(st.success(), "a short-lived upload failed");
    }
    assert_eq!(wait_exit(&mut early, WAIT, "the early upload"), Some(0), "the early upload failed");

    // Every byte counted, and counted for its program (the engine gets them in batches).
    let sent = 700_000.0;
    let end = Instant::now() + WAIT;
    let st = loop {
        let st = status(&socket);
        let up = st["uploaded_bytes"].as_f64().unwrap_or(0.0);
        let attributed = st["attributed_bytes"].as_f64().unwrap_or(0.0);
        if (up >= sent && attributed >= 0.99 * up) || Instant::now() > end {
            break st;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(st["connection_tracing"], true, "connection tracing is off: {st}");
    let (up, attributed) = (st["uploaded_bytes"].as_f64().unwrap(), st["attributed_bytes"].as_f64().unwrap());
    assert!(up >= sent, "only {up} of the {sent} bytes sent were counted: {st}");
    assert!(attributed >= 0.99 * up, "only {attributed} of {up} bytes attributed: {st}");

    // The early connection's alert names nobody's program by its executable.
    let exe = std::fs::canonicalize(python()).unwrap();
    let end = Instant::now() + WAIT;
    let process = loop {
        let left = end.saturating_duration_since(Instant::now());
        let line = alerts.recv_timeout(left).unwrap_or_else(|_| panic!("no alert for pid {early_pid} within {WAIT:?}"));
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        let p = &v["data"]["alert"]["process"];
        if p["pid"] == early_pid {
            break p.clone();
        }
    };
    assert_eq!(process["exe"], exe.display().to_string(), "the early upload's program: {process}");

    // SIGTERM stops it cleanly, as `systemctl stop` does.
    drop(watch);
    let st = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(st.success());
    let code = wait_exit(&mut service, WAIT, "the service, after SIGTERM,");
    assert_eq!(code, Some(0), "the service's exit status after SIGTERM");
}
