//! Whether Leakwatch sees everything: the attributed share of the last minute's uploaded bytes
//! (from the per-second statistics), and the list of problems, each with the one command or
//! setting that fixes it, for the window's Health page and the tray's tooltip.

use leakwatch::i18n::Messages;
use serde::Serialize;
use std::collections::VecDeque;

/// Seconds the attributed share looks back.
pub const WINDOW_S: i64 = 60;
/// Below this share of the last minute's bytes with a program, the Health page says so.
pub const LOW_SHARE: f64 = 0.9;
/// Less than this uploaded in the last minute is too little to judge the share by.
pub const MIN_BYTES: u64 = 16 * 1024;

/// Uploaded and attributed bytes per second over the last minute (of packet time).
#[derive(Debug, Default)]
pub struct LastMinute {
    seconds: VecDeque<(i64, u64, u64)>,
}

impl LastMinute {
    /// Adds one second's figures (`second` in Unix seconds of packet time).
    pub fn add(&mut self, second: i64, all: u64, known: u64) {
        match self.seconds.back_mut() {
            Some(last) if last.0 == second => {
                last.1 += all;
                last.2 += known;
            }
            _ => self.seconds.push_back((second, all, known)),
        }
        let newest = self.seconds.back().map_or(second, |s| s.0.max(second));
        while self.seconds.front().is_some_and(|s| s.0 <= newest - WINDOW_S) {
            self.seconds.pop_front();
        }
    }

    /// Bytes uploaded in the last minute, and the share of them whose program is known.
    pub fn share(&self) -> (u64, Option<f64>) {
        let all: u64 = self.seconds.iter().map(|s| s.1).sum();
        let known: u64 = self.seconds.iter().map(|s| s.2).sum();
        (all, (all > 0).then(|| known as f64 / all as f64))
    }
}

/// One thing that keeps Leakwatch from seeing everything.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// Stable id (`tracing-off`, `drops`, `low-share`, `no-interfaces`, `no-tray`, `paused`,
    /// `state`), for tests and styling.
    pub id: &'static str,
    /// What is wrong, in the user's language.
    pub text: String,
    /// What fixes it: a setting, or a sentence introducing `command`.
    pub fix: String,
    /// The one command that fixes it, when there is one.
    pub command: Option<String>,
}

/// What the problems are made from.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Client of the service (`false`: an engine in the app).
    pub service: bool,
    /// A capture file is replayed (tracing and interfaces do not apply).
    pub replay: bool,
    /// `state` of the status: `watching`, `paused`, `no_permission`, `error`.
    pub state: String,
    /// The status message (the fix of `no_permission` and `error`).
    pub message: Option<String>,
    pub interfaces: usize,
    pub tracing: Option<bool>,
    pub tracing_error: Option<String>,
    /// Packets the kernel dropped (capture buffer full).
    pub dropped_packets: u64,
    /// Batches of packets Leakwatch dropped (detection behind).
    pub dropped_batches: u64,
    pub last_minute: (u64, Option<f64>),
    /// The window opened because the desktop shows no tray.
    pub no_tray: bool,
}

/// The problems, most important first.
pub fn problems(f: &Facts, msgs: &Messages) -> Vec<Problem> {
    let t = |id: &str| msgs.text(id, None);
    let service_cmd = Some("sudo systemctl start leakwatch".to_string());
    let mut out = Vec::new();
    if f.state == "no_permission" || f.state == "error" {
        out.push(Problem {
            id: "state",
            text: f.message.clone().unwrap_or_else(|| t("app-health-not-watching")),
            fix: t("app-health-fix-see-above"),
            command: None,
        });
        return out;
    }
    if f.state == "paused" {
        out.push(Problem {
            id: "paused",
            text: t("app-health-paused"),
            fix: t("app-health-fix-resume"),
            command: None,
        });
    }
    if !f.replay && f.interfaces == 0 {
        let fix = if f.service { t("app-health-fix-interfaces-service") } else { t("app-health-fix-interfaces") };
        out.push(Problem { id: "no-interfaces", text: t("app-health-no-interfaces"), fix, command: None });
    }
    if !f.replay && f.tracing == Some(false) {
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("error", f.tracing_error.clone().unwrap_or_else(|| msgs.unknown()));
        let (fix, command) = if f.service {
            (t("app-health-fix-tracing-service"), Some("sudo systemctl restart leakwatch".to_string()))
        } else {
            (t("app-health-fix-use-service"), service_cmd.clone())
        };
        out.push(Problem { id: "tracing-off", text: msgs.text("app-health-tracing-off", Some(&args)), fix, command });
    }
    if f.dropped_packets > 0 || f.dropped_batches > 0 {
        let fix = if f.service { t("app-health-fix-drops-service") } else { t("app-health-fix-drops") };
        // Two units: the kernel counts packets, the engine the batches it could not take.
        let mut parts = Vec::new();
        if f.dropped_packets > 0 {
            parts.push(msgs.count("app-health-drops-packets", f.dropped_packets));
        }
        if f.dropped_batches > 0 {
            parts.push(msgs.count("app-health-drops-batches", f.dropped_batches));
        }
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("what", parts.join(" "));
        out.push(Problem { id: "drops", text: msgs.text("app-health-drops", Some(&args)), fix, command: None });
    }
    // A capture file names no program: its share says nothing about what Leakwatch can see.
    if let (all, Some(share)) = f.last_minute
        && !f.replay
        && all >= MIN_BYTES
        && share < LOW_SHARE
    {
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("percent", format!("{:.0}", share * 100.0));
        let (fix, command) = if f.service {
            (t("app-health-fix-low-share-service"), None)
        } else {
            (t("app-health-fix-use-service"), service_cmd)
        };
        out.push(Problem { id: "low-share", text: msgs.text("app-health-low-share", Some(&args)), fix, command });
    }
    if f.no_tray {
        out.push(Problem {
            id: "no-tray",
            text: t("app-health-no-tray"),
            fix: t("app-health-fix-no-tray"),
            command: Some("sudo apt install gnome-shell-extension-appindicator".into()),
        });
    }
    out
}

/// The tray tooltip's health line: interfaces, the last minute's attributed share, tracing.
pub fn summary(f: &Facts, msgs: &Messages) -> String {
    let mut parts = Vec::new();
    if !f.replay && f.interfaces > 0 {
        parts.push(msgs.count("app-health-interfaces", f.interfaces as u64));
    }
    if let (all, Some(share)) = f.last_minute
        && all > 0
    {
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("percent", format!("{:.0}", share * 100.0));
        parts.push(msgs.text("app-health-share", Some(&args)));
    }
    match f.tracing {
        Some(true) if !f.replay => parts.push(msgs.text("app-health-tracing-on", None)),
        Some(false) if !f.replay => parts.push(msgs.text("app-health-tracing-off-short", None)),
        _ => {}
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakwatch::i18n::Locale;

    #[test]
    fn the_last_minute_slides_with_packet_time() {
        let mut m = LastMinute::default();
        m.add(100, 1000, 1000);
        m.add(100, 1000, 0);
        m.add(150, 2000, 2000);
        assert_eq!(m.share(), (4000, Some(0.75)));
        m.add(161, 10, 10);
        assert_eq!(m.share().0, 2010, "second 100 left the window");
        assert_eq!(LastMinute::default().share(), (0, None));
    }

    #[test]
    fn each_problem_comes_with_its_fix_in_both_languages() {
        for locale in [Locale::En, Locale::Ru] {
            let msgs = Messages::new(locale);
            let f = Facts {
                state: "watching".into(),
                tracing: Some(false),
                tracing_error: Some("tracefs is root-only".into()),
                dropped_packets: 3,
                dropped_batches: 1,
                last_minute: (100_000, Some(0.5)),
                no_tray: true,
                ..Facts::default()
            };
            let p = problems(&f, &msgs);
            let ids: Vec<_> = p.iter().map(|p| p.id).collect();
            assert_eq!(ids, ["no-interfaces", "tracing-off", "drops", "low-share", "no-tray"]);
            for x in &p {
                assert!(!x.text.contains("app-health") && !x.fix.contains("app-health"), "{locale:?}: {x:?}");
            }
            assert!(p[1].text.contains("tracefs is root-only"));
            assert!(p[2].text.contains('3') && p[2].text.contains('1'), "{}", p[2].text);
            assert_eq!(p[1].command.as_deref(), Some("sudo systemctl start leakwatch"));
            assert!(p[3].text.contains("50"));
            let fine = Facts { state: "watching".into(), interfaces: 1, tracing: Some(true), ..Facts::default() };
            assert!(problems(&fine, &msgs).is_empty());
            assert!(!summary(&fine, &msgs).is_empty());
        }
        let msgs = Messages::new(Locale::En);
        let replay =
            Facts { state: "watching".into(), replay: true, last_minute: (100_000, Some(0.0)), ..Facts::default() };
        assert!(problems(&replay, &msgs).is_empty(), "a replay has no programs to find");
        let denied = Facts { state: "no_permission".into(), message: Some("run this".into()), ..Facts::default() };
        assert_eq!(problems(&denied, &msgs)[0].text, "run this");
    }
}
