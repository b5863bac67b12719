//! The legacy TCP protocol on real loopback sockets: the legacy session transcript byte for
//! byte, every command, a client that behaves like the C# GUI against an engine fed by capture
//! replays, ignores round-tripping through the file, 64 clients sharing one queue, abuse
//! (500 connections, a 10 MB line, random bytes, a client that never reads, slow drip) against
//! a `leakwatch run` child whose memory is measured, loopback-only binding, `--gui`, and a
//! property test of the line/command parser and session (the stable stand-in for the fuzz
//! target in `fuzz/`).

mod common;

use common::synth::*;
use leakwatch::alert::AlertPhase;
use leakwatch::capture::file::read_file;
use leakwatch::engine::{Batch, Delivery, Engine, EngineHandle};
use leakwatch::ignores::{IgnoreSource, IgnoreStore};
use leakwatch::judge::{Mode, Rules};
use leakwatch::legacy::codec::{self, MAX_LINE};
use leakwatch::legacy::session::{Backend, run_in_memory};
use leakwatch::legacy::{
    ChangeRate, GuiLauncher, Launch, LegacyError, LegacyEvent, LegacyOptions, LegacyServer, Limits,
};
use leakwatch::process::NoSocketTable;
use leakwatch::settings::EngineConfig;
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestRng};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

const GREETING: &str = ":::daemon_protocol_start:::";
const PINGED: &str = ":::daemon_protocol_pinged:::";
const NO_MSG: &str = ":::daemon_protocol_no_msg:::";
const FINISH: &str = ":::daemon_protocol_finish:::";
const UNKNOWN: &str = ":::daemon_protocol_unknown_command:::";
const OK: &str = ":::daemon_protocol_ok:::";
const ERROR: &str = ":::daemon_protocol_error:::";

/// The callback filter of legacy spec §6.8.
const FILTER_6_8: &str = r#"{"pattern":{"dstip":"^\\Q198.51.100.7\\E$"},"name":"Ignore.Custom.Pattern.IP","related-patterns":"^\\QPattern.IP\\E$","relation-mode":"all"}"#;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A range of 10 ports for each server of this process: away from the legacy 5000-5010, in a
/// block of 100 chosen by pid (other test processes), each server its own slice (the server
/// still takes the first free port of it).
fn ports() -> std::ops::RangeInclusive<u16> {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 400) as u16 * 100;
    let start = base + (NEXT.fetch_add(1, Ordering::Relaxed) % 10) * 10;
    start..=start + 9
}

fn engine(store: Option<IgnoreStore>) -> Engine {
    let config = EngineConfig { rules: Rules::shipped(Mode::Paranoid), ..EngineConfig::default() };
    Engine::start_full(config, Box::new(NoSocketTable), store)
}

fn server(h: &EngineHandle) -> LegacyServer {
    LegacyServer::start(h.clone(), LegacyOptions { ports: ports(), ..LegacyOptions::default() }).expect("a free port")
}

/// An engine (paranoid, shipped patterns), its handle and a legacy server on it.
fn serve(store: Option<IgnoreStore>) -> (Engine, EngineHandle, LegacyServer) {
    let engine = engine(store);
    let h = engine.handle();
    let server = server(&h);
    (engine, h, server)
}

/// A line-reading client.
struct Client {
    reader: BufReader<TcpStream>,
    stream: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut c = Client { reader: BufReader::new(stream.try_clone().unwrap()), stream };
        assert_eq!(c.line(), GREETING);
        c
    }

    fn to(port: u16) -> Client {
        Client::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// One reply line, without its `\n`.
    fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).expect("a reply");
        assert!(l.ends_with('\n'), "a reply ends with \\n: {l:?}");
        l.pop();
        l
    }

    fn ask(&mut self, cmd: &str) -> String {
        self.send(format!("{cmd}\n").as_bytes());
        self.line()
    }

    /// Everything until the server closes.
    fn rest(mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.reader.read_to_end(&mut out).expect("read to the end");
        out
    }
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn samples(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name)
}

/// Writes a copy of a capture with every timestamp moved by `secs` (a classic pcap; read with
/// the engine's own reader and written by hand, so this runs where libpcap is not linked too).
fn shifted_copy(src: &Path, dst: &Path, secs: i64) {
    let mut cap = leakwatch::capture::savefile::Savefile::open(src).unwrap();
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    for x in [0u32, 0, 262_144, cap.link() as u32] {
        out.extend(x.to_le_bytes());
    }
    while let Some(f) = cap.next_frame().unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
        for x in [(f.sec + secs) as u32, f.usec as u32, f.data.len() as u32, f.len] {
            out.extend(x.to_le_bytes());
        }
        out.extend(f.data);
    }
    std::fs::write(dst, out).unwrap();
}

fn replay(h: &EngineHandle, path: &Path) {
    read_file(path, h, None).unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------------------------------------
// Transcript and commands

#[test]
fn legacy_session_transcript_byte_for_byte_with_newline_framing() {
    let (engine, h, server) = serve(None);
    let events = server.events();
    let mut c = Client::to(server.port());
    // §6.8, sent in one go: the replies must come back in order, one line each, nothing for
    // ignore_tmp, and the connection closed after the blank line.
    c.send(format!("ping\nget_alert\nGET_INFO\r\nignore_tmp\n{FILTER_6_8}\nhello\n\n").as_bytes());
    let expected =
        format!("{PINGED}\n{NO_MSG}\nVersion={}; Release=Leakwatch\n{UNKNOWN}\n{FINISH}\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(String::from_utf8(c.rest()).unwrap(), expected);

    let listed = h.list_ignores();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].source, listed[0].permanent), (IgnoreSource::LegacySocket, false));
    let as_json = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap();
    assert_eq!(as_json(&listed[0].filter), as_json(FILTER_6_8));
    let e = events.recv_timeout(Duration::from_secs(2)).expect("the ignore is announced");
    assert!(matches!(&e, LegacyEvent::IgnoreAdded { permanent: false, .. }), "{e:?}");
    assert!(e.to_string().contains("over the legacy socket"), "{e}");
    server.stop();
    engine.finish();
}

#[test]
fn every_command_terminator_and_ending() {
    let (engine, h, server) = serve(None);
    let port = server.port();

    // Case-insensitive after trimming; LF, CR and CRLF; unknown and invalid UTF-8.
    let mut c = Client::to(port);
    c.send(b"  PING \r");
    assert_eq!(c.line(), PINGED);
    c.send(b"\nGet_Alert\r\n");
    assert_eq!(c.line(), NO_MSG);
    assert_eq!(c.ask("get_info"), format!("Version={}; Release=Leakwatch", env!("CARGO_PKG_VERSION")));
    assert_eq!(c.ask("grab_all_user_ignores"), r#"{"filters":[]}"#);
    assert_eq!(c.ask("ping ping"), UNKNOWN);
    c.send(b"p\xffing\n");
    assert_eq!(c.line(), UNKNOWN);
    // ignore_permanent without a file: refused, silently.
    c.send(format!("ignore_permanent\n{FILTER_6_8}\n").as_bytes());
    assert_eq!(c.ask("ping"), PINGED);
    assert!(h.list_ignores().is_empty());
    // delete_user_ignore with nothing, a wrong id, a name nobody has.
    assert!(c.ask("delete_user_ignore\n").starts_with(&format!("{ERROR} ")));
    assert!(c.ask("delete_user_ignore\n99999").starts_with(&format!("{ERROR} ")));
    assert!(c.ask("delete_user_ignore\nNo.Such.Name").contains("no ignore"));
    c.send(b"QUIT\n");
    assert_eq!(c.rest(), format!("{FINISH}\n").as_bytes());

    // End of stream, also right after ignore_tmp (the filter line never came).
    let mut c = Client::to(port);
    c.send(b"ignore_tmp\n");
    c.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(c.rest(), format!("{FINISH}\n").as_bytes());
    // A blank line (spaces only) ends the session; an empty filter line does not.
    let mut c = Client::to(port);
    c.send(b"ignore_tmp\n\nping\n \t \n");
    assert_eq!(c.rest(), format!("{PINGED}\n{FINISH}\n").as_bytes());
    // Over IPv6 loopback too, when the host has it.
    if let Some(v6) = server.addrs().iter().find(|a| a.is_ipv6()) {
        let mut c = Client::connect(*v6);
        assert_eq!(c.ask("ping"), PINGED);
    }
    server.stop();
    engine.finish();
}

#[test]
fn socket_filters_are_validated_like_pattern_files_and_over_broad_ones_refused() {
    let (engine, h, server) = serve(None);
    let events = server.events();
    let mut c = Client::to(server.port());
    let deep = format!(r#"{{"name":"d","pattern":{{"pid":{}1{}}}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    let refused: Vec<(&str, &str)> = vec![
        (r#"{"name":"x","pattern":{"dstip":"^\\Q1.2.3.4\\E$"},"colour":"red"}"#, "colour"),
        (r#"{"name":"x","pattern":{"dstipp":"1"}}"#, "dstipp"),
        (r#"{"name":"x","pattern":{"processname":"(unclosed"}}"#, "processname"),
        (r#"{"name":"x","pattern":{"processname":"(?!curl).*"}}"#, "look-around"),
        (r#"{"pattern":{}}"#, "name"),
        (r#"{"name":"x","pattern":{}}"#, "over-broad"),
        (r#"{"name":"x"}"#, "over-broad"),
        (
            r#"{"pattern":{},"name":"Ignore.Custom.Pattern.Port","related-patterns":"^\\QPattern.Port\\E$","relation-mode":"all"}"#,
            "over-broad",
        ),
        (r#"{"pattern":{},"name":"u","related-patterns":"^\\QPattern.Undefined\\E$"}"#, "over-broad"),
        (r#"{"pattern":{"processname":".*","dstip":".*"},"name":"all"}"#, "over-broad"),
        (r#"{"pattern":{"kind":"sudden"},"name":"k"}"#, "over-broad"),
        (r#"{"pattern":{},"name":"n","related-patterns":"nothing","relation-mode":"all"}"#, "over-broad"),
        ("not json", "the filter"),
        ("", "the filter"),
        (&deep, "the filter"),
    ];
    for (filter, reason) in &refused {
        c.send(format!("ignore_tmp\n{filter}\n").as_bytes());
        // Nothing was replied: the next reply is the pong.
        assert_eq!(c.ask("ping"), PINGED, "{filter}");
        match events.recv_timeout(Duration::from_secs(2)) {
            Ok(LegacyEvent::IgnoreRefused { reason: r, .. }) => assert!(r.contains(reason), "{filter}: {r}"),
            other => panic!("{filter}: {other:?}"),
        }
    }
    assert!(h.list_ignores().is_empty(), "{:?}", h.list_ignores());
    // A real callback filter, and one for a browser talking to Google (narrow by its pattern).
    let browser_google = r#"{"pattern":{},"name":"Ignore.Custom.Pattern.StdApp.Browser.Google","related-patterns":"^\\QPattern.StdApp.Browser.Google\\E$","relation-mode":"all"}"#;
    for ok in [FILTER_6_8, browser_google] {
        c.send(format!("ignore_tmp\n{ok}\n").as_bytes());
        assert_eq!(c.ask("ping"), PINGED);
    }
    assert_eq!(h.list_ignores().len(), 2);
    server.stop();
    engine.finish();
}

#[test]
fn local_programs_cannot_pile_up_ignores_without_bound() {
    use leakwatch::engine::{MAX_SOCKET_FILTER_BYTES, MAX_SOCKET_IGNORES};
    let engine = engine(None);
    let h = engine.handle();
    // The rate of changes is `changes_over_the_socket_are_rate_limited`'s; here only the count.
    let limits = Limits { changes: ChangeRate::UNLIMITED, ..Limits::default() };
    let server = LegacyServer::start(h.clone(), LegacyOptions { ports: ports(), limits, ..LegacyOptions::default() })
        .expect("a free port");
    let events = server.events();
    let mut c = Client::to(server.port());
    // Up to the limit, pipelined in one write; each a distinct, narrow filter.
    let filter = |i: usize| format!(r#"{{"pattern":{{"dstip":"^\\Q10.{}.{}.1\\E$"}},"name":"n"}}"#, i / 200, i % 200);
    let batch: String = (0..MAX_SOCKET_IGNORES).map(|i| format!("ignore_tmp\n{}\n", filter(i))).collect();
    let t = Instant::now();
    c.send(batch.as_bytes());
    assert_eq!(c.ask("ping"), PINGED);
    let filled = t.elapsed();
    assert_eq!(h.list_ignores().len(), MAX_SOCKET_IGNORES);
    // (The event queue is bounded: a flood of announcements keeps the first ones.)
    assert!(events.try_iter().count() > 0);
    c.send(format!("ignore_tmp\n{}\n", filter(MAX_SOCKET_IGNORES)).as_bytes());
    assert_eq!(c.ask("ping"), PINGED);
    let last = events.try_iter().last();
    assert!(
        matches!(&last, Some(LegacyEvent::IgnoreRefused { reason, .. }) if reason.contains("remove some first")),
        "{last:?}"
    );
    assert_eq!(h.list_ignores().len(), MAX_SOCKET_IGNORES);
    // A long filter is refused before it is even parsed.
    let long = format!(r#"{{"pattern":{{"processname":"^\Q{}\E$"}},"name":"n"}}"#, "x".repeat(MAX_SOCKET_FILTER_BYTES));
    c.send(format!("delete_user_ignore\nn\nignore_tmp\n{long}\n").as_bytes());
    assert!(c.line().starts_with(ERROR), "the name is ambiguous");
    assert_eq!(c.ask("ping"), PINGED);
    let last = events.try_iter().last();
    assert!(matches!(&last, Some(LegacyEvent::IgnoreRefused { reason, .. }) if reason.contains("bytes")), "{last:?}");
    eprintln!("{MAX_SOCKET_IGNORES} socket ignores added in {filled:?}");
    server.stop();
    engine.finish();
}

/// One program changing ignores as fast as it can, over several connections: the first 30 pass,
/// the rest are refused with a protocol error that says when to try again (for
/// `delete_user_ignore`, which has a reply) or are simply not applied (`ignore_tmp` has none);
/// one refusal is announced, not one per line; after the wait, changes pass again (and the
/// removal made then is announced).
#[test]
fn changes_over_the_socket_are_rate_limited() {
    let (engine, h, server) = serve(None);
    let events = server.events();
    let burst = ChangeRate::default().burst as usize;
    let filter = |i: usize| format!(r#"{{"pattern":{{"dstip":"^\\Q10.9.{i}.1\\E$"}},"name":"r{i}"}}"#);
    let mut clients: Vec<Client> = (0..4).map(|_| Client::to(server.port())).collect();
    let started = Instant::now();
    for (k, c) in clients.iter_mut().enumerate() {
        let lines: String = (k..2 * burst).step_by(4).map(|i| format!("ignore_tmp\n{}\n", filter(i))).collect();
        c.send(lines.as_bytes());
    }
    for c in &mut clients {
        assert_eq!(c.ask("ping"), PINGED);
    }
    let took = started.elapsed().as_secs_f64();
    let added = h.list_ignores().len();
    // Some are earned back while the lines are handled (5 a second): however slow the machine,
    // never more than that.
    let earned = (took * f64::from(ChangeRate::default().per_second)).ceil() as usize;
    assert!(added >= burst && added <= burst + earned, "{added} of {} added in {took:.2} s", 2 * burst);
    let refused = clients[0].ask("delete_user_ignore\nr0");
    assert!(refused.starts_with(ERROR) && refused.contains("try again in"), "{refused}");
    let said: Vec<LegacyEvent> = events.try_iter().collect();
    let refusals: Vec<_> = said.iter().filter(|e| matches!(e, LegacyEvent::IgnoreRefused { .. })).collect();
    assert_eq!(refusals.len(), 1, "one announcement: {refusals:#?}");
    assert!(refusals[0].to_string().contains("too many ignore changes"), "{}", refusals[0]);
    assert_eq!(said.len(), added + 1, "one announcement per change made, plus the refusal");
    // After a pause, a change passes again.
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(clients[1].ask("delete_user_ignore\nr0"), OK);
    // ...and a removal is announced like an addition.
    let said: Vec<LegacyEvent> = events.try_iter().collect();
    assert!(matches!(said.as_slice(), [LegacyEvent::IgnoreRemoved { name: Some(n), .. }] if n == "r0"), "{said:#?}");
    server.stop();
    engine.finish();
}

#[test]
fn user_ignores_round_trip_with_the_file_and_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ignores.user.json");
    let (store, _) = IgnoreStore::open(file.clone()).unwrap();
    let engine = engine(Some(store));
    let h = engine.handle();
    // One ignore of the user's own, before any client.
    let own = r#"{"pattern":{"processname":"^\\Qcurl\\E$"},"name":"Ignore.Custom.Pattern.Process","related-patterns":"^\\QPattern.Process\\E$","relation-mode":"all"}"#;
    let own_id = h.ignore(own, leakwatch::engine::IgnoreFor::Always).unwrap();
    let server = server(&h);
    let mut c = Client::to(server.port());
    c.send(format!("ignore_permanent\n{FILTER_6_8}\n").as_bytes());
    assert_eq!(c.ask("ping"), PINGED);

    // The file keeps the legacy shape (no extra key), the sidecar names the source.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"dstip\" : \"^\\\\Q198.51.100.7\\\\E$\""), "{text}");
    assert!(!text.contains("source") && !text.contains("legacy-socket"), "{text}");
    let sidecar = std::fs::read_to_string(dir.path().join("ignores.user.sources.json")).unwrap();
    assert!(sidecar.contains("legacy-socket") && sidecar.contains("198.51.100.7"), "{sidecar}");

    // grab_all_user_ignores: both, with ids and sources.
    let all: serde_json::Value = serde_json::from_str(&c.ask("grab_all_user_ignores")).unwrap();
    let filters = all["filters"].as_array().unwrap();
    assert_eq!(filters.len(), 2, "{all}");
    assert_eq!(filters[0]["id"], own_id);
    assert_eq!(filters[0]["source"], "user");
    assert_eq!(filters[1]["source"], "legacy-socket");
    assert_eq!(filters[1]["pattern"]["dstip"], "^\\Q198.51.100.7\\E$");
    let socket_id = filters[1]["id"].as_u64().unwrap();

    // `leakwatch ignores list` on the same file shows who added what.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakwatch"))
        .args(["ignores", "list", "--file", file.to_str().unwrap()])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    let socket_line = listing.lines().find(|l| l.contains("198.51.100.7")).expect("listed");
    assert!(socket_line.contains("legacy-socket"), "{listing}");
    let user_line = listing.lines().find(|l| l.contains("curl")).expect("listed");
    assert!(user_line.contains(" user "), "{listing}");

    // A reopened store knows the sources too.
    let (mut reopened, _) = IgnoreStore::open(file.clone()).unwrap();
    let sources: Vec<IgnoreSource> = reopened.list(chrono::Utc::now()).iter().map(|i| i.source).collect();
    assert_eq!(sources, [IgnoreSource::User, IgnoreSource::LegacySocket]);

    // delete_user_ignore by id, then by name; both gone from the file.
    assert_eq!(c.ask(&format!("delete_user_ignore\n{socket_id}")), OK);
    assert!(c.ask(&format!("delete_user_ignore\n{socket_id}")).starts_with(ERROR));
    assert_eq!(c.ask("delete_user_ignore\nIgnore.Custom.Pattern.Process"), OK);
    assert_eq!(c.ask("grab_all_user_ignores"), r#"{"filters":[]}"#);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text, "{\n  \"filters\" : [ ]\n}");
    let sidecar = std::fs::read_to_string(dir.path().join("ignores.user.sources.json")).unwrap();
    assert!(!sidecar.contains("198.51.100.7"), "{sidecar}");

    // Names are not unique: deleting an ambiguous name asks for the id.
    for ip in ["192.0.2.1", "192.0.2.2"] {
        let f = format!(r#"{{"pattern":{{"dstip":"^\\Q{ip}\\E$"}},"name":"Same"}}"#);
        c.send(format!("ignore_tmp\n{f}\n").as_bytes());
    }
    assert_eq!(c.ask("ping"), PINGED);
    let reply = c.ask("delete_user_ignore\nSame");
    assert!(reply.starts_with(ERROR) && reply.contains("give the id"), "{reply}");
    server.stop();
    engine.finish();
}

// ---------------------------------------------------------------------------------------------
// The C# GUI

/// Reads one reply the way `ServerConnection.cs` does: 1024-byte blocks until a read returns
/// fewer, 1 s timeout, each block decoded on its own.
fn csharp_read(s: &mut TcpStream) -> std::io::Result<String> {
    let mut text = String::new();
    loop {
        let mut block = [0u8; 1024];
        let n = s.read(&mut block)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        text.push_str(std::str::from_utf8(&block[..n]).map_err(|_| std::io::ErrorKind::InvalidData)?);
        if n < 1024 {
            return Ok(text);
        }
    }
}

#[derive(Debug, Default)]
struct GuiLog {
    alerts: Vec<serde_json::Value>,
    polls: u32,
    desyncs: Vec<String>,
}

/// The C# GUI: finds the port like `ServerConnection.cs` (greeting within 1 s), then every
/// 500 ms `ping` + `get_alert`; ignores the first alert with `ignore_tmp` (one write, nothing
/// read). Runs until `stop` is set.
fn csharp_gui(
    ports: std::ops::RangeInclusive<u16>,
    stop: &std::sync::atomic::AtomicBool,
    ignored: &std::sync::mpsc::Sender<()>,
) -> GuiLog {
    let mut log = GuiLog::default();
    let mut s = ports
        .clone()
        .find_map(|p| {
            let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, p)).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
            s.set_write_timeout(Some(Duration::from_secs(1))).ok()?;
            let g = csharp_read(&mut s).ok()?;
            (g.trim().to_lowercase() == GREETING).then_some(s)
        })
        .expect("the GUI finds the daemon");
    let mut ignore_sent = false;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(500));
        log.polls += 1;
        s.write_all(b"ping\n").unwrap();
        let pong = csharp_read(&mut s).expect("pong");
        if !pong.contains(PINGED) {
            log.desyncs.push(format!("ping got {pong:?}"));
        }
        s.write_all(b"get_alert\n").unwrap();
        let reply = csharp_read(&mut s).expect("get_alert reply");
        let body = reply.replace(NO_MSG, "");
        let body = body.trim();
        if body.is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(v) => log.alerts.push(v),
            Err(e) => {
                log.desyncs.push(format!("get_alert got {reply:?}: {e}"));
                continue;
            }
        }
        if !ignore_sent {
            // The Ignore button: ping, read, then the command and the filter in one write.
            s.write_all(b"ping\n").unwrap();
            let pong = csharp_read(&mut s).expect("pong");
            if !pong.contains(PINGED) {
                log.desyncs.push(format!("ping before ignore got {pong:?}"));
            }
            let callback = log.alerts[0]["callback_filter"].as_str().expect("callback_filter is a string").trim();
            s.write_all(format!("ignore_tmp\n{callback}\n").as_bytes()).unwrap();
            ignore_sent = true;
            let _ = ignored.send(());
        }
    }
    log
}

#[test]
fn a_client_like_the_csharp_gui_gets_each_alert_once_and_its_ignore_works() {
    let dir = tempfile::tempdir().unwrap();
    let ookla = samples("ookla.pcap");
    let ookla_next_day = dir.path().join("ookla-next-day.pcap");
    shifted_copy(&ookla, &ookla_next_day, 86_400);
    let whatsapp = samples("whatsappfiles.pcap");

    // Control: without the ignore, the next day's copy alerts again.
    {
        let engine = engine(None);
        let rx = engine.handle().subscribe_alerts(Delivery::Lossless);
        replay(&engine.handle(), &ookla);
        replay(&engine.handle(), &ookla_next_day);
        engine.finish();
        let news = rx.iter().filter(|e| e.phase == AlertPhase::New).count();
        assert_eq!(news, 2, "the next day's copy is a new alert without an ignore");
    }

    let engine = engine(None);
    let h = engine.handle();
    let opts = LegacyOptions { ports: ports(), ..LegacyOptions::default() };
    let server = LegacyServer::start(h.clone(), opts.clone()).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (ignored_tx, ignored_rx) = std::sync::mpsc::channel();
    let gui = {
        let (stop, range) = (stop.clone(), opts.ports.clone());
        std::thread::spawn(move || csharp_gui(range, &stop, &ignored_tx))
    };
    replay(&h, &ookla);
    ignored_rx.recv_timeout(Duration::from_secs(10)).expect("the GUI saw the alert and ignored it");
    wait_until("the ignore", Duration::from_secs(5), || !h.list_ignores().is_empty());
    replay(&h, &ookla_next_day);
    replay(&h, &whatsapp);
    wait_until("the queue to drain", Duration::from_secs(10), || {
        server.status().alerts_queued == 2 && server.status().queued_now == 0
    });
    std::thread::sleep(Duration::from_millis(1200)); // two more polls: nothing else comes
    stop.store(true, Ordering::SeqCst);
    let log = gui.join().unwrap();
    assert!(log.desyncs.is_empty(), "{:#?}", log.desyncs);
    let got: Vec<String> = log.alerts.iter().map(|a| a["callback_filter"].as_str().unwrap().to_string()).collect();
    assert_eq!(got.len(), 2, "each alert once, the ignored one silent: {got:#?}");
    assert!(got[0].contains("46.44.253.187"), "{got:?}");
    assert!(!got[1].contains("46.44.253.187"), "{got:?}");
    for a in &log.alerts {
        for key in ["message_full", "message_exciter", "message_type", "callback_filter"] {
            assert!(a[key].as_str().is_some_and(|s| !s.trim().is_empty()), "{key} in {a}");
        }
        let ts = a["utc_timestamp"].as_i64().expect("an integer timestamp");
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 60, "fresh: the GUI shows a balloon");
        // callback_filter is compact JSON in a string, and a valid filter.
        let cb = a["callback_filter"].as_str().unwrap();
        assert!(!cb.contains('\n') && !cb.contains(": "), "{cb}");
        Rules::shipped(Mode::Paranoid).check_filter(cb).unwrap();
    }
    assert!(log.polls >= 4);
    server.stop();
    engine.finish();
}

// ---------------------------------------------------------------------------------------------
// Many clients

#[test]
fn sixty_four_clients_at_once_share_one_queue_and_see_each_alert_once() {
    const N: usize = 120;
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let engine = Engine::start_full(
        EngineConfig { rules: Rules::shipped(Mode::Paranoid), ..EngineConfig::default() },
        Box::new(curl_table()),
        None,
    );
    let h = engine.handle();
    let server = server(&h);
    let port = server.port();
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let mut c = Client::to(port);
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let deadline = Instant::now() + Duration::from_secs(60);
                while Instant::now() < deadline {
                    // DONE is read before asking: once set, NO_MSG means the queue is empty.
                    let done = DONE.load(Ordering::SeqCst);
                    let r = c.ask("get_alert");
                    if r != NO_MSG {
                        got.push(r);
                    } else if done {
                        break;
                    } else {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                got
            })
        })
        .collect();
    wait_until("64 sessions", Duration::from_secs(5), || server.status().connections >= 64);
    // N uploads from curl to N destinations: N distinct threats, N alerts.
    let uploads = (0..N)
        .map(|i| Stream::curl().dst(&format!("198.51.100.{}", 1 + i)).steady_from(us(i as f64), 40 * 1024, us(5.0)));
    let packets = merge(uploads.collect());
    for chunk in packets.chunks(1024) {
        assert!(h.send_batch(Batch { packets: chunk.to_vec(), ..Batch::default() }));
    }
    let summary = engine.finish();
    assert_eq!(summary.alerts as usize, N);
    wait_until("all alerts queued", Duration::from_secs(20), || server.status().alerts_queued as usize == N);
    DONE.store(true, Ordering::SeqCst);
    let per_client: Vec<Vec<String>> = clients.into_iter().map(|t| t.join().unwrap()).collect();
    let busy = per_client.iter().filter(|g| !g.is_empty()).count();
    let mut all: Vec<String> = per_client.into_iter().flatten().collect();
    assert_eq!(all.len(), N, "every alert delivered");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), N, "no alert delivered twice");
    assert!(busy > 1, "the clients shared the work ({busy} got alerts)");
    assert_eq!(server.status().alerts_dropped, 0);
    server.stop();
}

// ---------------------------------------------------------------------------------------------
// Abuse, against a `leakwatch run` child

/// `VmRSS` (or another `/proc/PID/status` field) in KiB.
fn vm_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `leakwatch run` on an interface that does not exist (the engine and the legacy server run,
/// nothing is captured), without organisation data so its memory stays flat.
struct Daemon {
    child: std::process::Child,
    port: u16,
    stderr: std::sync::mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start(extra: &[&str]) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let r = ports();
        let range = format!("{}-{}", r.start(), r.end());
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leakwatch"))
            .args([
                "run",
                "--interface",
                "lwnoiface0",
                "--no-user-ignores",
                "--color",
                "never",
                "--legacy-ports",
                &range,
            ])
            .args(extra)
            .env("LEAKWATCH_CONFIG_DIR", dir.path())
            .env("LEAKWATCH_HISTORY_DIR", dir.path())
            .env("LEAKWATCH_DATA_DIR", dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, stderr) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let mut port = 0;
        let deadline = Instant::now() + Duration::from_secs(20);
        while port == 0 && Instant::now() < deadline {
            if let Ok(l) = stderr.recv_timeout(Duration::from_millis(200))
                && let Some(rest) = l.strip_prefix("leakwatch: legacy protocol for old GUIs on port ")
            {
                port = rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        }
        assert_ne!(port, 0, "leakwatch run said where it listens");
        Daemon { child, port, stderr, _dir: dir }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(mut self) -> Vec<String> {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if self.child.try_wait().unwrap().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.stderr.try_iter().collect()
    }
}

/// Connect, greeting, ping: how long the pong took.
fn ping_latency(port: u16) -> Duration {
    let t = Instant::now();
    let mut c = Client::to(port);
    assert_eq!(c.ask("ping"), PINGED);
    t.elapsed()
}

#[test]
fn abuse_leaves_the_server_responsive_and_its_memory_flat() {
    let d = Daemon::start(&[]);
    let port = d.port;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    // Warm up (first session thread, allocator arenas), then the baseline.
    for _ in 0..3 {
        ping_latency(port);
    }
    std::thread::sleep(Duration::from_millis(300));
    let base = vm_kib(d.pid(), "VmRSS");
    assert!(base > 0);

    // 500 simultaneous connections from one address: its share (96 of 128) served, the rest
    // turned away with the finish string (none has been idle long enough to be evicted).
    let mut conns: Vec<BufReader<TcpStream>> = (0..500)
        .map(|_| {
            let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            BufReader::new(s)
        })
        .collect();
    let mut served = 0;
    let mut turned_away = 0;
    for c in &mut conns {
        let mut l = String::new();
        let _ = c.read_line(&mut l);
        match l.trim_end() {
            GREETING => served += 1,
            FINISH => turned_away += 1,
            other => panic!("unexpected first line {other:?}"),
        }
    }
    assert_eq!((served, turned_away), (96, 404));
    drop(conns);
    std::thread::sleep(Duration::from_millis(500));

    // The rest at once: a 10 MB line, random bytes, a client that never reads, slow drip.
    let ten_mb = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        let chunk = vec![b'A'; 1 << 20];
        let mut sent = 0;
        for _ in 0..10 {
            match s.write_all(&chunk) {
                Ok(()) => sent += chunk.len(),
                Err(_) => break, // closed by the server, as it should
            }
        }
        let mut out = Vec::new();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.read_to_end(&mut out);
        (sent, String::from_utf8_lossy(&out).into_owned())
    });
    let random = std::thread::spawn(move || {
        let mut rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        for _ in 0..8 {
            let mut s = TcpStream::connect(addr).unwrap();
            let mut reader = s.try_clone().unwrap();
            reader.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let drain = std::thread::spawn(move || {
                let mut sink = Vec::new();
                let _ = reader.read_to_end(&mut sink);
                sink.len()
            });
            let mut bytes = vec![0u8; 256 * 1024];
            rng.fill_bytes(&mut bytes);
            let _ = s.write_all(&bytes);
            let _ = s.shutdown(std::net::Shutdown::Write);
            drain.join().unwrap();
        }
    });
    let never_reads = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
        let pings = b"ping\n".repeat(20_000);
        let start = Instant::now();
        let mut sent = 0usize;
        while start.elapsed() < Duration::from_secs(4) {
            match s.write(&pings) {
                Ok(n) => sent += n,
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        sent
    });
    let slow_drip = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        for b in b"pi".iter().cycle().take(60) {
            if s.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    // While all that goes on, a fresh client is served at once.
    std::thread::sleep(Duration::from_millis(500));
    let during = ping_latency(port);
    let (sent, reply) = ten_mb.join().unwrap();
    assert!(sent < 10 << 20 || reply.contains(FINISH), "the 10 MB line closed the connection ({sent} sent, {reply:?})");
    random.join().unwrap();
    let never_sent = never_reads.join().unwrap();
    slow_drip.join().unwrap();

    // Five fresh clients; the median must be fast (the worst is printed: other tests of this
    // binary share the two cores).
    let mut pings: Vec<Duration> = (0..5).map(|_| ping_latency(port)).collect();
    pings.sort();
    let (after, worst) = (pings[2], pings[4]);
    std::thread::sleep(Duration::from_millis(300));
    let rss = vm_kib(d.pid(), "VmRSS");
    let grown_mib = (rss as f64 - base as f64) / 1024.0;
    let peak = vm_kib(d.pid(), "VmHWM");
    eprintln!(
        "abuse: ping {during:?} during, {after:?} after (median of 5, worst {worst:?}); VmRSS {base} KiB -> {rss} KiB ({grown_mib:+.1} MiB), \
         peak {peak} KiB; the never-reading client got {never_sent} bytes in before the server stopped reading"
    );
    assert!(after < Duration::from_millis(100), "ping after abuse took {after:?}");
    assert!(grown_mib < 20.0, "memory grew by {grown_mib:.1} MiB");
    let log = d.stop();
    assert!(log.iter().any(|l| l.contains("too many connections")), "{log:#?}");
}

#[test]
fn idle_slow_drip_and_never_reading_clients_are_dropped() {
    let engine = engine(None);
    let h = engine.handle();
    let limits = Limits {
        idle_timeout: Duration::from_millis(800),
        line_timeout: Duration::from_millis(800),
        write_timeout: Duration::from_millis(800),
        ..Limits::default()
    };
    let server =
        LegacyServer::start(h.clone(), LegacyOptions { ports: ports(), limits, ..LegacyOptions::default() }).unwrap();
    let port = server.port();
    // Idle: the finish string, then the close.
    let idle = Client::to(port);
    let t = Instant::now();
    assert_eq!(idle.rest(), format!("{FINISH}\n").as_bytes());
    assert!(t.elapsed() >= Duration::from_millis(700), "{:?}", t.elapsed());
    // Slow drip: a line that never ends is cut off although bytes keep coming.
    let mut drip = Client::to(port);
    let t = Instant::now();
    let mut closed = false;
    while t.elapsed() < Duration::from_secs(5) {
        if drip.stream.write_all(b"p").is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        let mut probe = [0u8; 64];
        drip.stream.set_nonblocking(true).unwrap();
        let r = drip.reader.get_mut().read(&mut probe);
        drip.stream.set_nonblocking(false).unwrap();
        if matches!(r, Ok(0)) || matches!(r, Ok(n) if String::from_utf8_lossy(&probe[..n]).contains(FINISH)) {
            closed = true;
            break;
        }
    }
    assert!(closed, "the slow line was cut off");
    // Never reads: pings pile up until the server cannot write, then it drops the client.
    let mut deaf = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    deaf.set_write_timeout(Some(Duration::from_millis(200))).unwrap();
    let pings = b"ping\n".repeat(10_000);
    let t = Instant::now();
    let mut dropped = false;
    while t.elapsed() < Duration::from_secs(20) {
        if let Err(e) = deaf.write(&pings)
            && !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
        {
            dropped = true;
            break;
        }
        if server.status().connections == 0 {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "a client that never reads is dropped");
    wait_until("no sessions left", Duration::from_secs(5), || server.status().connections == 0);
    assert!(ping_latency(port) < Duration::from_millis(100));
    server.stop();
    engine.finish();
}

// ---------------------------------------------------------------------------------------------
// Binding

/// Addresses of the listening TCP sockets a process holds: its socket inodes (/proc/PID/fd)
/// looked up in /proc/net/tcp and tcp6.
fn listening_sockets_of(pid: u32) -> Vec<(std::net::IpAddr, u16)> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter_map(|l| l.to_str()?.strip_prefix("socket:[")?.strip_suffix(']').map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut found = Vec::new();
    for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for l in text.lines().skip(1) {
            let cols: Vec<&str> = l.split_whitespace().collect();
            if cols.len() < 10 || cols[3] != "0A" || !inodes.iter().any(|i| i == cols[9]) {
                continue;
            }
            let Some((ip, port)) = cols[1].rsplit_once(':') else { continue };
            let port = u16::from_str_radix(port, 16).unwrap();
            // The kernel prints each 32-bit word in host (little-endian) order.
            let words: Vec<u32> =
                (0..ip.len() / 8).map(|k| u32::from_str_radix(&ip[k * 8..k * 8 + 8], 16).unwrap()).collect();
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            let addr = match bytes.len() {
                4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes.as_slice()).unwrap()),
                _ => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes.as_slice()).unwrap()),
            };
            found.push((addr, port));
        }
    }
    found
}

#[test]
fn the_listener_is_on_loopback_only_and_takes_the_first_free_port() {
    let engine = engine(None);
    let h = engine.handle();
    let range = ports();
    // Occupy the first port of the range: the server moves on to the next.
    let blocker = TcpListener::bind((Ipv4Addr::LOCALHOST, *range.start()));
    let server =
        LegacyServer::start(h.clone(), LegacyOptions { ports: range.clone(), ..LegacyOptions::default() }).unwrap();
    if blocker.is_ok() {
        assert!(server.port() > *range.start());
    }
    assert!(server.addrs().iter().all(|a| a.ip().is_loopback()), "{:?}", server.addrs());
    // What the kernel says this process listens on, for that port: loopback only.
    let bound: Vec<_> =
        listening_sockets_of(std::process::id()).into_iter().filter(|(_, p)| *p == server.port()).collect();
    assert!(bound.contains(&(Ipv4Addr::LOCALHOST.into(), server.port())), "{bound:?}");
    assert!(bound.iter().all(|(ip, _)| ip.is_loopback()), "{bound:?}");
    // No other address of this host answers on that port.
    let here: Vec<std::net::IpAddr> = leakwatch::capture::interfaces::list()
        .unwrap_or_default()
        .iter()
        .flat_map(|i| i.ips())
        .filter(|ip| !ip.is_loopback())
        .collect();
    for ip in here {
        let addr = SocketAddr::new(ip, server.port());
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).unwrap_or(0);
            assert!(!String::from_utf8_lossy(&buf[..n]).contains(GREETING), "reachable on {addr}");
        }
    }
    // A range with no free port: a clear error, nothing bound.
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let p = taken.local_addr().unwrap().port();
    match LegacyServer::start(h.clone(), LegacyOptions { ports: p..=p, ..LegacyOptions::default() }) {
        Err(e @ LegacyError::NoFreePort { .. }) => assert!(e.to_string().contains("--legacy-ports"), "{e}"),
        other => panic!("expected NoFreePort, got {:?}", other.map(|s| s.port())),
    }
    server.stop();
    engine.finish();
}

#[test]
fn run_flags_no_legacy_and_bad_port_ranges() {
    for bad in ["7-3", "0-10", "5000-70000", "x"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakwatch"))
            .args(["run", "--legacy-ports", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--legacy-ports") && err.contains("5000-5010"), "{bad}: {err}");
    }
    let d = Daemon::start(&[]);
    let bound = listening_sockets_of(d.pid());
    assert!(!bound.is_empty(), "leakwatch run listens");
    for (ip, port) in &bound {
        assert_eq!(*port, d.port);
        assert!(ip.is_loopback(), "leakwatch run listens on {ip}");
    }
    d.stop();
    // --no-legacy: the same command listens nowhere and says nothing about it.
    let dir = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_leakwatch"))
        .args(["run", "--interface", "lwnoiface0", "--no-user-ignores", "--no-legacy"])
        .env("LEAKWATCH_CONFIG_DIR", dir.path())
        .env("LEAKWATCH_HISTORY_DIR", dir.path())
        .env("LEAKWATCH_DATA_DIR", dir.path())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let bound = listening_sockets_of(child.id());
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(bound.is_empty(), "{bound:?}");
    assert!(!err.contains("legacy protocol"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// --gui

#[test]
fn gui_is_started_once_and_again_only_when_it_has_ended() {
    let dir = tempfile::tempdir().unwrap();
    let app_dir = dir.path().join("my gui dir");
    std::fs::create_dir(&app_dir).unwrap();
    let marker = dir.path().join("starts.log");
    let script = app_dir.join("legacy gui.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho $$ >> '{}'\nsleep 1\n", marker.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut g = GuiLauncher::new(&script);
    let first = g.on_alert();
    assert!(matches!(first, Launch::Started(_)), "{first:?}");
    for _ in 0..20 {
        assert_eq!(g.on_alert(), Launch::Running);
    }
    wait_until("the GUI to end", Duration::from_secs(10), || !g.is_running());
    assert!(matches!(g.on_alert(), Launch::Started(_)));
    wait_until("the GUI to end", Duration::from_secs(10), || !g.is_running());
    let starts = std::fs::read_to_string(&marker).unwrap();
    assert_eq!(starts.lines().count(), 2, "{starts}");

    let mut missing = GuiLauncher::new(dir.path().join("no such gui"));
    assert!(matches!(missing.on_alert(), Launch::Failed(_)));
    assert_eq!(missing.on_alert(), Launch::Waiting, "no retry at every alert");
}

// ---------------------------------------------------------------------------------------------
// Parser and session, in memory (the stable stand-in for `fuzz/fuzz_targets/session.rs`)

/// A backend that answers plausibly and checks what it is given.
#[derive(Default)]
struct FakeBackend {
    alerts: u32,
    ignores: Vec<String>,
}

impl Backend for FakeBackend {
    fn next_alert(&mut self) -> Option<String> {
        self.alerts += 1;
        self.alerts.is_multiple_of(2).then(|| r#"{"message_full":"x","utc_timestamp":1}"#.to_string())
    }
    fn info(&self) -> String {
        leakwatch::legacy::info_reply()
    }
    fn ignore(&mut self, filter: &str, _permanent: bool) -> Result<u64, String> {
        assert!(!filter.contains('\n') && !filter.contains('\r'));
        self.ignores.push(filter.to_string());
        Rules::shipped(Mode::Paranoid).check_filter(filter).map_err(|e| e.to_string())?;
        Rules::shipped(Mode::Paranoid).check_not_over_broad(filter).map_err(|e| e.to_string())?;
        Ok(1)
    }
    fn list_ignores(&mut self) -> String {
        r#"{"filters":[]}"#.into()
    }
    fn delete_ignore(&mut self, key: &str) -> Result<(), String> {
        if key == "1" { Ok(()) } else { Err(format!("no ignore {key}\nsecond line")) }
    }
}

fn check_output(out: &[u8]) {
    let text = std::str::from_utf8(out).expect("replies are UTF-8");
    assert!(text.starts_with(&format!("{GREETING}\n")));
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let known = [GREETING, PINGED, NO_MSG, UNKNOWN, OK].contains(l)
            || l.starts_with(ERROR)
            || l.starts_with("{\"")
            || l.starts_with("Version=");
        let finish = *l == FINISH;
        assert!(known || finish, "unexpected reply {l:?}");
        assert!(!finish || i == lines.len() - 1, "nothing after the finish string");
    }
}

fn protocol_bytes() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"ping".to_vec()),
        Just(b"GET_ALERT".to_vec()),
        Just(b"get_info".to_vec()),
        Just(b"ignore_tmp".to_vec()),
        Just(b"ignore_permanent".to_vec()),
        Just(b"grab_all_user_ignores".to_vec()),
        Just(b"delete_user_ignore".to_vec()),
        Just(b"quit".to_vec()),
        Just(FILTER_6_8.as_bytes().to_vec()),
        Just(br#"{"name":"x","pattern":{}}"#.to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b" ".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    proptest::collection::vec(token, 0..30).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_input_never_panics_and_every_reply_is_well_formed(input in protocol_bytes(), eof in any::<bool>()) {
        let out = run_in_memory(&input, eof, &mut FakeBackend::default());
        check_output(&out);
    }

    #[test]
    fn splitting_in_chunks_gives_the_same_lines(input in proptest::collection::vec(
        prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'a'), any::<u8>()], 0..300), cuts in proptest::collection::vec(0usize..300, 0..8)) {
        let (whole, _) = codec::split_all(&input);
        let mut s = codec::LineSplitter::new();
        let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= input.len()).collect();
        cuts.sort();
        let mut pieces = Vec::new();
        let mut from = 0;
        for c in cuts.into_iter().chain([input.len()]) {
            s.push(&input[from..c]);
            while let Some(codec::Event::Line(l)) = s.next_event() {
                pieces.push(l.to_vec());
            }
            from = c;
        }
        prop_assert_eq!(whole, pieces);
    }
}

#[test]
fn a_line_just_over_the_limit_closes_and_one_at_the_limit_does_not() {
    let mut at = vec![b'x'; MAX_LINE];
    at.extend_from_slice(b"\nping\n");
    let out = run_in_memory(&at, false, &mut FakeBackend::default());
    assert_eq!(String::from_utf8(out).unwrap(), format!("{GREETING}\n{UNKNOWN}\n{PINGED}\n"));
    let mut over = vec![b'x'; MAX_LINE + 1];
    over.extend_from_slice(b"\nping\n");
    let out = run_in_memory(&over, false, &mut FakeBackend::default());
    assert_eq!(String::from_utf8(out).unwrap(), format!("{GREETING}\n{FINISH}\n"));
}

/// `delete_user_ignore` takes an id only as ASCII digits (`+1` and ` 1`-like keys are names, so
/// they remove nothing), and its error replies are printable ASCII whatever key was sent: a key
/// with ESC, a bidi override or Cyrillic comes back escaped (docs/protocol.md).
#[test]
fn delete_user_ignore_ids_are_digits_and_replies_are_ascii() {
    let (_engine, h, server) = serve(None);
    let mut c = Client::to(server.port());
    c.send(format!("ignore_tmp\n{FILTER_6_8}\n").as_bytes());
    assert_eq!(c.ask("ping"), PINGED);
    let id = h.list_ignores().first().expect("the ignore was added").id;
    let refused = c.ask(&format!("delete_user_ignore\n+{id}"));
    assert!(refused.starts_with(&format!("{ERROR} ")) && refused.contains("no ignore"), "{refused}");
    assert_eq!(h.list_ignores().len(), 1, "+{id} removed ignore {id}");
    let reply = c.ask("delete_user_ignore\nx\u{1b}[2K\u{202e}имя");
    assert!(reply.starts_with(&format!("{ERROR} ")), "{reply}");
    assert!(reply.bytes().all(|b| (0x20..0x7f).contains(&b)), "not printable ASCII: {reply:?}");
    assert!(reply.contains("\\u{1b}[2K\\u{202e}\\u{438}"), "{reply}");
    assert_eq!(c.ask(&format!("delete_user_ignore\n{id}")), OK);
    assert!(h.list_ignores().is_empty());
}

/// A full server closes the connection idle longest (a script's held connections) to serve a
/// fresh client (the GUI), and only turns a new one away when every connection is busy; one
/// peer address cannot take more than its own share while another address still gets in.
#[test]
fn a_full_server_evicts_the_longest_idle_connection_and_limits_each_address() {
    let engine = engine(None);
    let h = engine.handle();
    let limits =
        Limits { max_connections: 4, max_per_peer: 3, evict_after: Duration::from_millis(300), ..Limits::default() };
    let server =
        LegacyServer::start(h.clone(), LegacyOptions { ports: ports(), limits, ..LegacyOptions::default() }).unwrap();
    let port = server.port();
    // Three idle "script" connections from 127.0.0.1: its share is full.
    let mut idle: Vec<Client> = (0..3).map(|_| Client::to(port)).collect();
    std::thread::sleep(Duration::from_millis(100));
    // A fourth from 127.0.0.1 while they are fresh: turned away (nobody idle long enough).
    let mut early = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    early.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = String::new();
    std::io::Read::read_to_string(&mut early, &mut got).unwrap();
    assert_eq!(got, format!("{FINISH}\n"), "a fresh server with busy slots turns the newcomer away");
    // Keep the second and third busy; the first goes idle.
    std::thread::sleep(Duration::from_millis(400));
    for c in &mut idle[1..] {
        assert_eq!(c.ask("ping"), PINGED);
    }
    // Now a GUI from 127.0.0.1 gets in, in place of the idle one.
    let mut gui = Client::to(port);
    assert_eq!(gui.ask("ping"), PINGED);
    let first = idle.remove(0);
    assert_eq!(first.rest(), format!("{FINISH}\n").as_bytes(), "the longest-idle connection made room");
    for c in &mut idle {
        assert_eq!(c.ask("ping"), PINGED, "busy connections stay");
    }
    // Another address (::1, when the host has it) fills the last place without evicting.
    if server.status().addrs.iter().any(SocketAddr::is_ipv6) {
        let mut other = Client::connect(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)));
        assert_eq!(other.ask("ping"), PINGED);
        assert_eq!(gui.ask("ping"), PINGED);
        for c in &mut idle {
            assert_eq!(c.ask("ping"), PINGED, "nobody was evicted for the other address");
        }
    }
}
