//! Live capture end to end, inside throw-away network namespaces (root only; skipped
//! otherwise). `leakwatch run` watches namespace A's veth while a python3 process in A uploads
//! to a sink in namespace B. No traffic leaves the two namespaces.

mod netns;

use netns::{KillOnDrop, NetPair, Run, lines, python};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_leakwatch");
/// Bound on every wait in this file.
const WAIT: Duration = Duration::from_secs(20);

/// An upload from namespace A in progress.
struct Upload {
    child: KillOnDrop,
    pid: u32,
    started: Instant,
}

/// Starts uploading `total` bytes to `dst:port` from namespace A in ~2 s (one connection, 20
/// chunks 100 ms apart).
fn start_upload(pair: &NetPair, dst: &str, port: u16, total: usize) -> Upload {
    let code = format!(
        "import socket,os,time\n\
         print(os.getpid(),flush=True)\n\
         s=socket.create_connection(('{dst}',{port}))\n\
         chunk=b'x'*{chunk}\n\
         for _ in range(20):\n\
         \x20s.sendall(chunk)\n\
         \x20time.sleep(0.1)\n\
         s.close()\n",
        chunk = total / 20
    );
    let started = Instant::now();
    let mut child = KillOnDrop(
        pair.in_a(python()).args(["-c", &code]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap(),
    );
    let out = lines(child.0.stdout.take().unwrap());
    let pid: u32 = out.recv_timeout(WAIT).expect("the uploader's pid").trim().parse().unwrap();
    Upload { child, pid, started }
}

impl Upload {
    /// Waits (bounded) for the upload to end successfully.
    fn finish(mut self) {
        let end = Instant::now() + WAIT;
        loop {
            if let Some(st) = self.child.0.try_wait().unwrap() {
                assert!(st.success(), "the upload failed");
                return;
            }
            assert!(Instant::now() < end, "the upload did not finish within {WAIT:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Seconds from the alert's packet time (`at`) to now: capture-to-print latency.
fn print_latency(v: &serde_json::Value) -> f64 {
    let at = chrono::DateTime::parse_from_rfc3339(v["at"].as_str().expect("at")).expect("at is RFC 3339");
    (chrono::Utc::now().timestamp_micros() - at.timestamp_micros()) as f64 / 1e6
}

fn check_alert(v: &serde_json::Value, pid: u32) {
    assert_eq!(v["kind"].as_str().map(str::to_ascii_lowercase).as_deref(), Some("sudden"), "{v}");
    assert_eq!(v["process"]["name"], "python3", "{v}");
    assert_eq!(v["process"]["pid"], pid, "{v}");
}

fn upload_is_seen(v6: bool) {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(9000);
    let mut run = Run::start(&pair, &[]);
    let dst = if v6 { pair.v6_b() } else { pair.v4_b() };
    let up = start_upload(&pair, &dst, 9000, 400_000);
    let (alert, at) = run.wait_alert(&dst, WAIT);
    println!(
        "alert {:.2} s after the upload started, {:.3} s after its packet (uploader pid {})",
        at.duration_since(up.started).as_secs_f64(),
        print_latency(&alert),
        up.pid
    );
    check_alert(&alert, up.pid);
    up.finish();
    assert_eq!(run.interrupt(), 0);
}

#[test]
fn ipv4_upload_alerts() {
    upload_is_seen(false);
}

#[test]
fn ipv6_upload_alerts() {
    upload_is_seen(true);
}

#[test]
fn interface_removed_and_recreated() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(9000);
    let mut run = Run::start(&pair, &["--realert-after", "1s"]);
    let up = start_upload(&pair, &pair.v4_b(), 9000, 400_000);
    let (alert, _) = run.wait_alert(&pair.v4_b(), WAIT);
    check_alert(&alert, up.pid);
    up.finish();

    pair.delete_link();
    run.wait_stderr(&format!("stopped capturing on {}", pair.veth_a));
    pair.create_link();
    let recreated = Instant::now();
    run.wait_stderr(&format!("capturing on {}", pair.veth_a));
    println!("capture back {:.2} s after re-creation", recreated.elapsed().as_secs_f64());
    // A new destination: the first episode (same program, same address) may still be open.
    let third = format!("10.200.{}.3", pair.n);
    pair.add_addr_b(&format!("{third}/24"));
    let up = start_upload(&pair, &third, 9000, 400_000);
    let (alert, at) = run.wait_alert(&third, Duration::from_secs(5) + Duration::from_secs(3));
    println!("second alert {:.2} s after re-creation", at.duration_since(recreated).as_secs_f64());
    check_alert(&alert, up.pid);
    up.finish();
    assert_eq!(run.interrupt(), 0);
}

/// A world-readable copy of the binary (the build directory may not be readable by others).
fn world_readable_copy(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let exe = dir.join("leakwatch");
    std::fs::copy(EXE, &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    exe
}

#[test]
fn no_capture_rights_exits_4_pointing_to_root_or_the_service() {
    let Some(pair) = NetPair::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let exe = world_readable_copy(dir.path());
    let mut child = KillOnDrop(
        pair.in_a("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
            .arg("env")
            .arg(format!("LEAKWATCH_CONFIG_DIR={}", dir.path().display()))
            .arg(format!("LEAKWATCH_HISTORY_DIR={}", dir.path().display()))
            .arg(&exe)
            .args(["run", "--interface", &pair.veth_a, "--no-user-ignores"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = lines(child.0.stderr.take().unwrap());
    let end = Instant::now() + WAIT;
    let code = loop {
        if let Some(st) = child.0.try_wait().unwrap() {
            break st.code();
        }
        assert!(Instant::now() < end, "leakwatch run as nobody did not exit within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let err: Vec<String> = stderr.try_iter().collect();
    let err = err.join("\n");
    println!("{err}");
    assert_eq!(code, Some(4), "stderr: {err}");
    assert!(err.contains("leakwatch needs permission to capture packets"), "{err}");
    assert!(err.contains("sudo systemctl start leakwatch") && err.contains("group leakwatch"), "{err}");
    // Never capabilities on a binary a user runs (docs/threat-model.md).
    assert!(!err.contains("setcap"), "{err}");
    // Never suggest running a UI as root.
    assert!(!err.to_lowercase().contains("gui as root"), "{err}");
}

/// Runs python `code` in namespace A to completion (bounded), returning its stdout.
fn run_in_a(pair: &NetPair, code: &str) -> String {
    let mut child = KillOnDrop(
        pair.in_a(python()).args(["-c", code]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap(),
    );
    let out = lines(child.0.stdout.take().unwrap());
    let end = Instant::now() + WAIT;
    loop {
        if let Some(st) = child.0.try_wait().unwrap() {
            assert!(st.success(), "the python step in A failed");
            return out.try_iter().collect::<Vec<_>>().join("\n");
        }
        assert!(Instant::now() < end, "the python step in A did not finish within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A tiny DNS server in B (UDP 53): every A question is answered with B's address, every PTR
/// question with `ptr` (other questions get no answer).
fn dns_in_b(pair: &NetPair, ptr: &str) -> KillOnDrop {
    let code = format!(
        "import socket,struct\n\
         s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
         s.bind(('{b}',53))\n\
         print('listening',flush=True)\n\
         ip=socket.inet_aton('{b}')\n\
         target=b''.join(bytes([len(p)])+p for p in b'{ptr}'.split(b'.'))+b'\\x00'\n\
         while True:\n\
         \x20q,a=s.recvfrom(512)\n\
         \x20end=12\n\
         \x20while q[end]!=0: end+=q[end]+1\n\
         \x20question=q[12:end+5]\n\
         \x20qtype=question[-4:-2]\n\
         \x20if qtype==b'\\x00\\x01': data=struct.pack('>HHIH',1,1,60,4)+ip\n\
         \x20elif qtype==b'\\x00\\x0c': data=struct.pack('>HHIH',12,1,60,len(target))+target\n\
         \x20else: continue\n\
         \x20hdr=q[:2]+b'\\x81\\x80'+struct.pack('>HHHH',1,1,0,0)\n\
         \x20s.sendto(hdr+question+b'\\xc0\\x0c'+data,a)\n",
        b = pair.v4_b()
    );
    let mut child =
        pair.in_b(python()).args(["-c", &code]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let out = lines(child.stdout.take().unwrap());
    assert_eq!(out.recv_timeout(WAIT).expect("the DNS server starts").trim(), "listening");
    KillOnDrop(child)
}

#[test]
fn a_dns_answer_names_the_destination() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(9000);
    let _dns = dns_in_b(&pair, "ptr.example.test");
    let mut run = Run::start(&pair, &[]);
    // Resolve the name through B's server (a hand-made query), then upload to the answer.
    let resolved = run_in_a(
        &pair,
        &format!(
            "import socket,struct\n\
             name=b''.join(bytes([len(p)])+p for p in b'upload.example.test'.split(b'.'))+b'\\x00'\n\
             q=struct.pack('>HHHHHH',0x1234,0x0100,1,0,0,0)+name+struct.pack('>HH',1,1)\n\
             s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
             s.settimeout(5)\n\
             s.sendto(q,('{b}',53))\n\
             r,_=s.recvfrom(512)\n\
             print(socket.inet_ntoa(r[-4:]))\n",
            b = pair.v4_b()
        ),
    );
    assert_eq!(resolved.trim(), pair.v4_b(), "the test's DNS server answered");
    let up = start_upload(&pair, &pair.v4_b(), 9000, 400_000);
    let (alert, _) = run.wait_alert(&pair.v4_b(), WAIT);
    up.finish();
    assert_eq!(alert["hostname"], "upload.example.test", "{alert}");
    assert_eq!(run.interrupt(), 0);
}

/// No DNS answer, SNI or Host on the wire: reverse DNS (asked of B, A's name server) names the
/// destination, as the last resort; `--no-reverse-dns` keeps it unnamed.
#[test]
fn reverse_dns_names_an_otherwise_unnamed_destination() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(9000);
    let _dns = dns_in_b(&pair, "b-host.example.test");
    for (flags, expected) in [(&[][..], Some("b-host.example.test")), (&["--no-reverse-dns"][..], None)] {
        let mut args = vec!["--flows"];
        args.extend_from_slice(flags);
        let mut run = Run::start(&pair, &args);
        let up = start_upload(&pair, &pair.v4_b(), 9000, 400_000);
        let (alert, _) = run.wait_alert(&pair.v4_b(), WAIT);
        check_alert(&alert, up.pid);
        up.finish();
        // The answer is filed within a second; the flow report at exit shows it.
        std::thread::sleep(Duration::from_millis(1500));
        let stdout = run.stdout_after_interrupt();
        let remote = format!("{}:9000", pair.v4_b());
        let flow = stdout
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["remote"] == remote.as_str())
            .unwrap_or_else(|| panic!("no flow line for {remote}: {stdout:#?}"));
        assert_eq!(flow["hostname"].as_str(), expected, "{flow} (flags {flags:?})");
    }
}

/// Python for namespace A: a real ClientHello from python's ssl module (through memory BIOs)
/// naming `host`, sent to B:9443 whole or, with `split_at`, as two segments 50 ms apart; then
/// 400 KB.
fn tls_upload_code(b: &str, host: &str, split_at: Option<usize>) -> String {
    let send_hello = match split_at {
        None => "s.sendall(h)\n".to_string(),
        Some(n) => format!("s.sendall(h[:{n}])\ntime.sleep(0.05)\ns.sendall(h[{n}:])\n"),
    };
    format!(
        "import socket,ssl,time\n\
         ctx=ssl.create_default_context()\n\
         i,o=ssl.MemoryBIO(),ssl.MemoryBIO()\n\
         t=ctx.wrap_bio(i,o,server_hostname='{host}')\n\
         try:\n\
         \x20t.do_handshake()\n\
         except ssl.SSLWantReadError:\n\
         \x20pass\n\
         h=o.read()\n\
         s=socket.create_connection(('{b}',9443))\n\
         s.setsockopt(socket.IPPROTO_TCP,socket.TCP_NODELAY,1)\n\
         {send_hello}\
         time.sleep(0.05)\n\
         for _ in range(20):\n\
         \x20s.sendall(b'x'*20000)\n\
         \x20time.sleep(0.05)\n\
         s.close()\n"
    )
}

#[test]
fn a_tls_server_name_names_the_destination() {
    tls_names_the_destination("sni.example.test", None);
}

/// A ClientHello split over two TCP segments (as browsers' ~1.8 KB hellos are) still names the
/// destination: the split falls before the server name extension.
#[test]
fn a_client_hello_in_two_segments_names_the_destination() {
    tls_names_the_destination("split.example.test", Some(60));
}

/// An upload after a ClientHello naming `host` (whole, or split at `split_at`) gives an alert
/// showing that host name.
fn tls_names_the_destination(host: &str, split_at: Option<usize>) {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(9443);
    let mut run = Run::start(&pair, &[]);
    run_in_a(&pair, &tls_upload_code(&pair.v4_b(), host, split_at));
    let (alert, _) = run.wait_alert(&pair.v4_b(), WAIT);
    assert_eq!(alert["hostname"], host, "{alert}");
    assert_eq!(run.interrupt(), 0);
}

/// Slow (about a minute): a program sending 20 KB every 5 s — 4 KB/s with pauses, never fast
/// enough for the sudden or active detectors — is caught by the passive one after 60 s.
#[test]
fn a_slow_persistent_upload_gives_one_passive_alert() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(9000);
    let mut run = Run::start(&pair, &[]);
    let code = format!(
        "import socket,os,time\n\
         print(os.getpid(),flush=True)\n\
         s=socket.create_connection(('{b}',9000))\n\
         for _ in range(14):\n\
         \x20s.sendall(b'x'*20000)\n\
         \x20time.sleep(5)\n\
         s.close()\n",
        b = pair.v4_b()
    );
    let mut child = KillOnDrop(
        pair.in_a(python()).args(["-c", &code]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap(),
    );
    let pid: u32 = lines(child.0.stdout.take().unwrap()).recv_timeout(WAIT).unwrap().trim().parse().unwrap();
    let started = Instant::now();
    let (alert, when) = run.wait_alert(&pair.v4_b(), Duration::from_secs(80));
    let after = when.duration_since(started).as_secs_f64();
    assert_eq!(alert["kind"], "passive", "{alert}");
    assert!((59.0..68.0).contains(&after), "passive after about 60 s, got {after:.1} s: {alert}");
    assert_eq!(alert["process"]["pid"], pid, "{alert}");
    drop(child);
    assert_eq!(run.interrupt(), 0);
}

/// Sends `count` UDP frames from B's veth straight onto the link (AF_PACKET), addressed to A's
/// MAC, with A's IPv4 or IPv6 address as source and `dst` as destination: what a neighbour
/// forging "uploads" in this machine's name would send.
fn forge_frames_from_b(pair: &NetPair, a_mac: &str, src: &str, dst: &str, count: u32) {
    let code = format!(
        "import socket,struct,time\n\
         def mac(m): return bytes.fromhex(m.replace(':',''))\n\
         def csum(b):\n\
         \x20if len(b)%2: b+=b'\\x00'\n\
         \x20t=sum(struct.unpack('!%dH'%(len(b)//2),b))\n\
         \x20while t>>16: t=(t&0xffff)+(t>>16)\n\
         \x20return (~t)&0xffff\n\
         dev='{dev}'\n\
         s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n\
         s.bind((dev,0))\n\
         own=mac(open('/sys/class/net/'+dev+'/address').read().strip())\n\
         payload=b'x'*1200\n\
         ulen=8+len(payload)\n\
         if ':' in '{src}':\n\
         \x20sa=socket.inet_pton(socket.AF_INET6,'{src}'); da=socket.inet_pton(socket.AF_INET6,'{dst}')\n\
         \x20c=csum(sa+da+struct.pack('!IxxxB',ulen,17)+struct.pack('!HHHH',40000,9000,ulen,0)+payload) or 0xffff\n\
         \x20ip=struct.pack('!IHBB16s16s',0x60000000,ulen,17,64,sa,da)\n\
         \x20frame=mac('{a_mac}')+own+b'\\x86\\xdd'+ip+struct.pack('!HHHH',40000,9000,ulen,c)+payload\n\
         else:\n\
         \x20sa=socket.inet_aton('{src}'); da=socket.inet_aton('{dst}')\n\
         \x20ip=struct.pack('!BBHHHBBH4s4s',0x45,0,20+ulen,1,0,64,17,0,sa,da)\n\
         \x20ip=ip[:10]+struct.pack('!H',csum(ip))+ip[12:]\n\
         \x20frame=mac('{a_mac}')+own+b'\\x08\\x00'+ip+struct.pack('!HHHH',40000,9000,ulen,0)+payload\n\
         for i in range({count}):\n\
         \x20s.send(frame)\n\
         \x20if i%30==29: time.sleep(0.1)\n",
        dev = pair.veth_b
    );
    let st = pair.in_b(python()).args(["-c", &code]).status().expect("running python3 in B");
    assert!(st.success(), "forging frames in B failed");
}

/// Frames received by A's veth so far (the kernel's counter).
fn rx_packets_of_a(pair: &NetPair) -> u64 {
    let out = pair.in_a("cat").arg(format!("/sys/class/net/{}/statistics/rx_packets", pair.veth_a)).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("rx_packets")
}

/// A neighbour on the link sends frames with this machine's IPv4 and IPv6 source addresses
/// (360 KB each way, well over the sudden threshold): they arrive, but frames another host sent
/// (another source hardware address) are not counted, so no alert names their made-up
/// destinations, the user is told once, and a real upload right after them still alerts.
#[test]
fn frames_forged_by_a_neighbour_with_our_address_raise_no_alert() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(9000);
    let mut run = Run::start(&pair, &[]);
    let out = pair.in_a("cat").arg(format!("/sys/class/net/{}/address", pair.veth_a)).output().unwrap();
    let a_mac = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (fake_v4, fake_v6) = (format!("10.200.{}.3", pair.n), format!("fd00:200::{}:3", pair.n));
    let rx_before = rx_packets_of_a(&pair);
    forge_frames_from_b(&pair, &a_mac, &pair.v4_a(), &fake_v4, 300);
    forge_frames_from_b(&pair, &a_mac, &pair.v6_a(), &fake_v6, 300);
    let received = rx_packets_of_a(&pair) - rx_before;
    assert!(received >= 600, "A's veth received {received} frames of the 600 forged");
    // Said once, with the sender's hardware address.
    let out = pair.in_b("cat").arg(format!("/sys/class/net/{}/address", pair.veth_b)).output().unwrap();
    let b_mac = String::from_utf8_lossy(&out.stdout).trim().to_string();
    run.wait_stderr(&format!("another host (hardware address {b_mac}) sends frames with this machine's address"));
    // A real upload after the forged frames: its alert shows the capture saw what came before.
    let up = start_upload(&pair, &pair.v4_b(), 9000, 400_000);
    let (alert, _) = run.wait_alert(&pair.v4_b(), WAIT);
    check_alert(&alert, up.pid);
    up.finish();
    run.read_alerts_for(Duration::from_secs(2));
    let forged: Vec<_> =
        run.alerts.iter().filter(|a| a["dstip"] == fake_v4.as_str() || a["dstip"] == fake_v6.as_str()).collect();
    assert!(forged.is_empty(), "alerts for frames this machine never sent: {forged:#?}");
    assert_eq!(run.interrupt(), 0);
}

/// A DNS answer nobody asked for (B sends it from port 53 to a port of A's with no query
/// before it) names nothing: the upload that follows to the address it names stays unnamed.
/// `a_dns_answer_names_the_destination` is the same answer with its query.
#[test]
fn an_unsolicited_dns_answer_names_nothing() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = pair.sink_in_b(9000);
    let mut run = Run::start(&pair, &["--no-reverse-dns"]);
    let code = format!(
        "import socket,struct\n\
         name=b''.join(bytes([len(p)])+p for p in b'spoofed.example.test'.split(b'.'))+b'\\x00'\n\
         m=struct.pack('>HHHHHH',0x1234,0x8180,1,1,0,0)+name+struct.pack('>HH',1,1)\n\
         m+=b'\\xc0\\x0c'+struct.pack('>HHIH',1,1,60,4)+socket.inet_aton('{b}')\n\
         s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
         s.bind(('{b}',53))\n\
         for port in range(33000,33010): s.sendto(m,('{a}',port))\n",
        a = pair.v4_a(),
        b = pair.v4_b()
    );
    let st = pair.in_b(python()).args(["-c", &code]).status().expect("running python3 in B");
    assert!(st.success(), "sending the answers from B failed");
    let up = start_upload(&pair, &pair.v4_b(), 9000, 400_000);
    let (alert, _) = run.wait_alert(&pair.v4_b(), WAIT);
    up.finish();
    assert_eq!(alert["hostname"], serde_json::Value::Null, "{alert}");
    assert_eq!(run.interrupt(), 0);
}
