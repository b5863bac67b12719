//! Diagnostics through `tracing`: one subscriber for the CLI, the service and the app, with the
//! `log` records of the libraries under them (Tauri, wry, plugins) bridged in.
//!
//! Lines look as they always did on a terminal (`leakwatch: warning: …`); under systemd
//! (`$JOURNAL_STREAM` names stderr) each line starts with its syslog priority (`<4>`), which
//! journald turns into the entry's level, and drops the program prefix the journal already
//! shows. Every message and field goes through [`crate::text::safe`]: a process name or filter
//! that carries ESC or a bidi override cannot rewrite the terminal or the journal.
//!
//! Levels: `-q` errors and warnings, `-qq` errors only, default also information, `-v` debug,
//! `-vv` trace; `RUST_LOG` (e.g. `RUST_LOG=leakwatch=debug,tao=warn`) overrides them. The CLI's
//! output (alerts, lists, tables on stdout) is not logging and is not affected.

use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The default filter for `verbosity` (`-q` = -1 … `-vv` = 2): our crates at that level, every
/// other crate one level quieter (at least warnings).
pub fn default_filter(verbosity: i8) -> String {
    let (ours, theirs) = match verbosity {
        i8::MIN..=-2 => ("error", "error"),
        -1 => ("warn", "warn"),
        0 => ("info", "warn"),
        1 => ("debug", "info"),
        _ => ("trace", "debug"),
    };
    format!("{theirs},leakwatch={ours},leakwatch_app={ours}")
}

/// Installs the subscriber for `program` (the prefix of each line) at `verbosity`; `RUST_LOG`
/// wins when set. A second call does nothing (tests, or an app that also runs the CLI code).
pub fn init(program: &'static str, verbosity: i8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => EnvFilter::try_new(&v).unwrap_or_else(|e| {
            eprintln!("{program}: warning: RUST_LOG={}: {e}; using the default levels", crate::text::safe(&v));
            EnvFilter::new(default_filter(verbosity))
        }),
        _ => EnvFilter::new(default_filter(verbosity)),
    };
    let format = LineFormat { program, journal: under_journal() };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(format)
        .try_init();
}

/// Whether stderr is the journal's stream (systemd sets `JOURNAL_STREAM=dev:inode` of it).
fn under_journal() -> bool {
    let Ok(v) = std::env::var("JOURNAL_STREAM") else { return false };
    let Some((dev, ino)) = v.split_once(':') else { return false };
    let Some((d, i)) = crate::os::stderr_file_id() else { return !std::io::stderr().is_terminal() };
    dev.parse::<u64>().is_ok_and(|dev| dev == d) && ino.parse::<u64>().is_ok_and(|ino| ino == i)
}

/// `leakwatch: warning: message key=value`, or `<4>message key=value` for the journal.
struct LineFormat {
    program: &'static str,
    journal: bool,
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        let level = *meta.level();
        let mut line = String::new();
        if self.journal {
            let prio = match level {
                Level::ERROR => 3,
                Level::WARN => 4,
                Level::INFO => 6,
                Level::DEBUG | Level::TRACE => 7,
            };
            let _ = write!(line, "<{prio}>");
        } else {
            let _ = write!(line, "{}: ", self.program);
        }
        match level {
            Level::ERROR => line.push_str("error: "),
            Level::WARN => line.push_str("warning: "),
            Level::INFO => {}
            Level::DEBUG => line.push_str("debug: "),
            Level::TRACE => line.push_str("trace: "),
        }
        let mut v = Fields::default();
        event.record(&mut v);
        line.push_str(&crate::text::safe(&v.message));
        for (k, val) in &v.fields {
            let _ = write!(line, " {k}={}", crate::text::safe(val));
        }
        // Where a library's line comes from, at the levels that are for developers.
        if level >= Level::DEBUG || !is_ours(meta.target()) {
            let _ = write!(line, " [{}]", crate::text::safe(meta.target()));
        }
        writeln!(w, "{line}")
    }
}

fn is_ours(target: &str) -> bool {
    target == "leakwatch"
        || target.starts_with("leakwatch::")
        || target == "leakwatch_app"
        || target.starts_with("leakwatch_app::")
}

/// The message and the other fields of one event, as text.
#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else if !field.name().starts_with("log.") {
            self.fields.push((field.name(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else if !field.name().starts_with("log.") {
            self.fields.push((field.name(), format!("{value:?}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    fn capture(journal: bool, f: impl FnOnce()) -> String {
        let buf = Buf::default();
        let sub = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(default_filter(1)))
            .with_writer(buf.clone())
            .with_ansi(false)
            .event_format(LineFormat { program: "leakwatch", journal })
            .finish();
        tracing::subscriber::with_default(sub, f);
        String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn lines_keep_the_cli_look_and_escape_what_came_from_outside() {
        let out = capture(false, || {
            tracing::warn!("removed ignore 3 ({})", "x\u{1b}[2K\u{1b}[1A\r\u{202e}");
            tracing::error!(peer = "127.0.0.1:5\u{7}", "refused");
            tracing::info!("legacy protocol on port 5000");
        });
        assert_eq!(
            out,
            "leakwatch: warning: removed ignore 3 (x\\u{1b}[2K\\u{1b}[1A\\u{d}\\u{202e})\n\
             leakwatch: error: refused peer=127.0.0.1:5\\u{7}\n\
             leakwatch: legacy protocol on port 5000\n"
        );
        assert!(!out.contains('\u{1b}'));
    }

    #[test]
    fn the_journal_gets_syslog_priorities() {
        let out = capture(true, || {
            tracing::error!("e");
            tracing::warn!("w");
            tracing::info!("i");
            tracing::debug!("d");
        });
        assert_eq!(out, "<3>error: e\n<4>warning: w\n<6>i\n<7>debug: d [leakwatch::logging::tests]\n");
    }

    #[test]
    fn verbosity_sets_our_level_and_quiets_libraries() {
        assert_eq!(default_filter(0), "warn,leakwatch=info,leakwatch_app=info");
        assert_eq!(default_filter(-1), "warn,leakwatch=warn,leakwatch_app=warn");
        assert_eq!(default_filter(-5), "error,leakwatch=error,leakwatch_app=error");
        assert_eq!(default_filter(2), "debug,leakwatch=trace,leakwatch_app=trace");
    }
}
