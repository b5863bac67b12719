//! A reusable network-namespace harness for live-capture tests (root only).
//!
//! [`NetPair::new`] creates two fresh namespaces (`lw<pid>x<k>a`, `lw<pid>x<k>b`) joined by a veth
//! pair created directly inside them (so interface names never collide across tests), with
//! 10.200.N.1/24 + fd00:200::N:1/64 in A and 10.200.N.2/24 + fd00:200::N:2/64 in B. Everything
//! is removed on drop, also when a test panics. Traffic never leaves the two namespaces.

#![allow(dead_code)]

use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

#[path = "../skip/mod.rs"]
pub mod skip;
#[allow(unused_imports)]
pub use skip::is_root;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Whether the tools the harness needs are there.
pub fn tools_present() -> bool {
    ["ip", "python3"].iter().all(|t| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Runs a command, panicking with its output when it fails.
pub fn sh(args: &[&str]) -> Output {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Two namespaces joined by a veth pair.
pub struct NetPair {
    pub ns_a: String,
    pub ns_b: String,
    /// The veth end in A / in B.
    pub veth_a: String,
    pub veth_b: String,
    /// The third octet / group of the addresses.
    pub n: u32,
}

impl NetPair {
    /// Creates the pair, or `None` (after [`skip::skip`] said why) when not root or tools are
    /// missing.
    pub fn new() -> Option<NetPair> {
        if !skip::need_root("network namespaces") {
            return None;
        }
        if !tools_present() {
            skip::skip("needs `ip` (iproute2) and python3: scripts/install-deps installs them");
            return None;
        }
        let k = COUNTER.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let n = (pid.wrapping_mul(7).wrapping_add(k)) % 250 + 1;
        let p = NetPair {
            ns_a: format!("lw{pid}x{k}a"),
            ns_b: format!("lw{pid}x{k}b"),
            veth_a: "lwveth-a".into(),
            veth_b: "lwveth-b".into(),
            n,
        };
        // From here on Drop cleans up whatever was made.
        sh(&["ip", "netns", "add", &p.ns_a]);
        sh(&["ip", "netns", "add", &p.ns_b]);
        for ns in [&p.ns_a, &p.ns_b] {
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        p.create_link();
        // Programs in A (leakwatch's reverse DNS among them) use B as their name server, so no
        // query leaves the pair; `ip netns exec` mounts this file over /etc/resolv.conf.
        let etc = format!("/etc/netns/{}", p.ns_a);
        std::fs::create_dir_all(&etc).expect("creating /etc/netns/<ns>");
        std::fs::write(format!("{etc}/resolv.conf"), format!("nameserver {}\n", p.v4_b())).expect("resolv.conf");
        Some(p)
    }

    pub fn v4_a(&self) -> String {
        format!("10.200.{}.1", self.n)
    }
    pub fn v4_b(&self) -> String {
        format!("10.200.{}.2", self.n)
    }
    pub fn v6_a(&self) -> String {
        format!("fd00:200::{}:1", self.n)
    }
    pub fn v6_b(&self) -> String {
        format!("fd00:200::{}:2", self.n)
    }

    /// Creates the veth pair (inside the namespaces) with its addresses and brings it up.
    pub fn create_link(&self) {
        sh(&[
            "ip",
            "link",
            "add",
            &self.veth_a,
            "netns",
            &self.ns_a,
            "type",
            "veth",
            "peer",
            "name",
            &self.veth_b,
            "netns",
            &self.ns_b,
        ]);
        for (ns, dev, v4, v6) in
            [(&self.ns_a, &self.veth_a, self.v4_a(), self.v6_a()), (&self.ns_b, &self.veth_b, self.v4_b(), self.v6_b())]
        {
            sh(&["ip", "-n", ns, "addr", "add", &format!("{v4}/24"), "dev", dev]);
            sh(&["ip", "-n", ns, "addr", "add", &format!("{v6}/64"), "dev", dev, "nodad"]);
            sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
    }

    /// Deletes the veth pair (both ends).
    pub fn delete_link(&self) {
        sh(&["ip", "-n", &self.ns_a, "link", "del", &self.veth_a]);
    }

    /// Adds one more address to B's end.
    pub fn add_addr_b(&self, cidr: &str) {
        let mut args = vec!["ip", "-n", &self.ns_b, "addr", "add", cidr, "dev", &self.veth_b];
        if cidr.contains(':') {
            args.push("nodad");
        }
        sh(&args);
    }

    /// A command run inside namespace `ns` (`ip netns exec NS PROGRAM ARGS…`).
    pub fn exec(ns: &str, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, program]);
        c
    }

    pub fn in_a(&self, program: &str) -> Command {
        NetPair::exec(&self.ns_a, program)
    }

    pub fn in_b(&self, program: &str) -> Command {
        NetPair::exec(&self.ns_b, program)
    }

    /// A TCP sink in B on `port` (all addresses, IPv4 and IPv6) that accepts connections and
    /// discards what they send. Killed when the returned guard drops.
    pub fn sink_in_b(&self, port: u16) -> KillOnDrop {
        let code = format!(
            "import socket,threading\n\
             s=socket.socket(socket.AF_INET6,socket.SOCK_STREAM)\n\
             s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
             s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0)\n\
             s.bind(('::',{port}))\n\
             s.listen(16)\n\
             print('listening',flush=True)\n\
             def drain(c):\n\
             \x20while c.recv(65536): pass\n\
             \x20c.close()\n\
             while True:\n\
             \x20c,_=s.accept()\n\
             \x20threading.Thread(target=drain,args=(c,),daemon=True).start()\n"
        );
        let mut child = self
            .in_b("python3")
            .args(["-c", &code])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the sink");
        // Wait until it listens.
        use std::io::BufRead;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("sink stdout");
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        assert_eq!(line.trim(), "listening", "the sink did not start");
        KillOnDrop(child)
    }
}

impl Drop for NetPair {
    fn drop(&mut self) {
        // Deleting a namespace deletes the veth end inside it (and so the pair).
        for ns in [&self.ns_a, &self.ns_b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).stderr(Stdio::null()).status();
        }
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", self.ns_a));
    }
}

/// Kills (SIGKILL) and reaps a child when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (bounded by `within`) for a child to end, and fails the test unless it succeeded.
pub fn wait_success(child: &mut KillOnDrop, what: &str, within: Duration) {
    let end = Instant::now() + within;
    loop {
        if let Some(st) = child.0.try_wait().unwrap() {
            assert!(st.success(), "{what} failed ({st})");
            return;
        }
        assert!(Instant::now() < end, "{what} did not finish within {within:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The lines a child writes, arriving on a channel (a reader thread per stream).
pub fn lines(r: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(r).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// The python3 to run: the system one when present (a predictable process name).
pub fn python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" }
}

/// Bound on every wait of [`Run`].
pub const RUN_WAIT: Duration = Duration::from_secs(20);

/// A running `leakwatch run --json` watching A's veth in paranoid mode, with its output lines
/// arriving on channels; killed on drop.
pub struct Run {
    pub child: KillOnDrop,
    pub stdout: Receiver<String>,
    pub stderr: Receiver<String>,
    err_seen: Vec<String>,
    /// Every alert line read so far (by [`Run::wait_alert`]), in order.
    pub alerts: Vec<serde_json::Value>,
    /// The configuration folder when the run made its own (removed when it drops).
    _config: Option<tempfile::TempDir>,
}

impl Run {
    pub fn start(pair: &NetPair, extra: &[&str]) -> Run {
        Run::start_in_mode(pair, "paranoid", extra)
    }

    /// [`Run::start`] in another mode (`adequate` is the command line's default).
    pub fn start_in_mode(pair: &NetPair, mode: &str, extra: &[&str]) -> Run {
        let config = tempfile::tempdir().unwrap();
        let mut run = Run::start_with_config(pair, mode, extra, config.path());
        run._config = Some(config);
        run
    }

    /// [`Run::start_in_mode`] with its ignores, settings and history in `config` (kept after it
    /// stops, for a second run).
    pub fn start_with_config(pair: &NetPair, mode: &str, extra: &[&str], config: &std::path::Path) -> Run {
        let mut cmd = pair.in_a("env");
        cmd.arg("LC_ALL=C.UTF-8")
            .arg(format!("LEAKWATCH_CONFIG_DIR={}", config.display()))
            .arg(format!("LEAKWATCH_HISTORY_DIR={}", config.display()))
            .arg(env!("CARGO_BIN_EXE_leakwatch"))
            .args(["run", "--json", "--interface", &pair.veth_a, "--mode", mode])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("starting leakwatch run");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let mut run =
            Run { child: KillOnDrop(child), stdout, stderr, err_seen: Vec::new(), alerts: Vec::new(), _config: None };
        run.wait_stderr(&format!("capturing on {}", pair.veth_a));
        run
    }

    /// Waits for a stderr line containing `needle`.
    pub fn wait_stderr(&mut self, needle: &str) {
        let end = Instant::now() + RUN_WAIT;
        while Instant::now() < end {
            match self.stderr.recv_timeout(Duration::from_millis(100)) {
                Ok(l) => {
                    println!("  [run stderr] {l}");
                    let hit = l.contains(needle);
                    self.err_seen.push(l);
                    if hit {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("no `{needle}` on stderr within {RUN_WAIT:?}; saw {:#?}", self.err_seen);
    }

    /// Waits for a JSON alert line whose dstip is `dst`; returns it and when it came.
    pub fn wait_alert(&mut self, dst: &str, within: Duration) -> (serde_json::Value, Instant) {
        let end = Instant::now() + within;
        let mut seen = Vec::new();
        while Instant::now() < end {
            while let Ok(l) = self.stderr.try_recv() {
                println!("  [run stderr] {l}");
            }
            match self.stdout.recv_timeout(Duration::from_millis(50)) {
                Ok(l) => {
                    println!("  [run stdout] {l}");
                    let v: serde_json::Value =
                        serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"));
                    self.alerts.push(v.clone());
                    if v["dstip"] == dst {
                        return (v, Instant::now());
                    }
                    seen.push(l);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("no alert for {dst} within {within:?}; other lines: {seen:#?}");
    }

    /// Reads alert lines for `d` (into [`Run::alerts`]).
    pub fn read_alerts_for(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.stdout.recv_timeout(left.min(Duration::from_millis(50))) {
                Ok(l) => {
                    println!("  [run stdout] {l}");
                    let v = serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"));
                    self.alerts.push(v);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }

    /// SIGINT, expecting exit code 0, then every stdout line not read yet (the `--flows` report).
    pub fn stdout_after_interrupt(mut self) -> Vec<String> {
        let stdout = std::mem::replace(&mut self.stdout, std::sync::mpsc::channel().1);
        assert_eq!(self.interrupt(), 0);
        let mut out = Vec::new();
        let end = Instant::now() + RUN_WAIT;
        while Instant::now() < end {
            match stdout.recv_timeout(Duration::from_millis(100)) {
                Ok(l) => out.push(l),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        out
    }

    /// SIGINT, then the exit code (bounded; killed on timeout).
    pub fn interrupt(mut self) -> i32 {
        let pid = self.child.0.id().to_string();
        // `ip netns exec` and `env` exec, so the pid is leakwatch's own.
        sh(&["kill", "-INT", &pid]);
        let end = Instant::now() + RUN_WAIT;
        loop {
            if let Some(st) = self.child.0.try_wait().unwrap() {
                while let Ok(l) = self.stderr.try_recv() {
                    println!("  [run stderr] {l}");
                }
                return st.code().unwrap_or(-1);
            }
            assert!(Instant::now() < end, "leakwatch did not stop within {RUN_WAIT:?} of SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
