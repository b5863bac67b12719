//! Command-line flags of `leakwatch-app`.

use clap::Parser;
use std::ops::RangeInclusive;
use std::path::PathBuf;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "leakwatch-app",
    version,
    about = "Leakwatch tray app: tells you when a program sends data out",
    long_about = "Leakwatch tray app: tells you when a program sends data out. It shows what the Leakwatch \
                  service sees (start it with `sudo systemctl start leakwatch`; members of group leakwatch may \
                  use it) and needs no rights of its own."
)]
pub struct Args {
    /// More diagnostics on stderr (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Fewer diagnostics on stderr (-q warnings and errors, -qq errors only).
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,
    /// Write the manual page leakwatch-app.1 into DIR and exit (make install does).
    #[arg(long, value_name = "DIR", hide = true)]
    pub man: Option<PathBuf>,
    /// Print a completion script for SHELL (bash, zsh, fish, elvish, powershell) and exit.
    #[arg(long, value_name = "SHELL", hide = true)]
    pub completions: Option<clap_complete::Shell>,
    /// Without the service: run an engine inside the app with your own rights. It cannot name
    /// other users' programs nor short-lived ones, and needs capture rights the app should not
    /// have: use the service when you can.
    #[arg(long, conflicts_with = "replay")]
    pub embedded: bool,
    /// Developer mode: feed the app from this capture file instead of live capture (no capture
    /// rights needed).
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// With --replay: play packet time this many times faster than real time (1 = real time).
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "replay", value_parser = parse_speed)]
    pub speed: f64,
    /// Start in the tray without opening the window (used when started at login).
    #[arg(long)]
    pub minimized: bool,
    /// With --embedded: never ask DNS servers for the names of addresses.
    #[arg(long)]
    pub no_reverse_dns: bool,
    /// Do not show desktop notifications.
    #[arg(long)]
    pub no_notifications: bool,
    /// Internal: be the window process the tray starts on demand (Tauri, no tray, no
    /// notifications); it exits when its window closes.
    #[arg(long, hide = true, conflicts_with_all = ["replay", "embedded"])]
    pub window: bool,
    /// Internal, with --window: open the window on this alert.
    #[arg(long, hide = true, value_name = "ID", requires = "window")]
    pub show_alert: Option<u64>,
    /// Internal, with --window: the tray process could not show a tray icon (no
    /// StatusNotifierWatcher on the session bus); the window says why it opened.
    #[arg(long, hide = true, requires = "window")]
    pub no_tray: bool,
    /// With --embedded or --replay: ports tried, in order, for the legacy TCP protocol of old
    /// GUIs (turned on and off in Settings; the service serves it itself).
    #[arg(long, value_name = "A-B", default_value = "5000-5010", value_parser = leakwatch::parse::parse_port_range)]
    pub legacy_ports: RangeInclusive<u16>,
    /// With --embedded or --replay: record history in this database (default with
    /// --embedded: history.sqlite in the user's data directory; a --replay records only when
    /// this is given). The service keeps its own.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

/// Exit code when there is no display (the tray app needs one; `leakwatch run` does not).
pub const EXIT_NO_DISPLAY: i32 = 2;

/// Whether a graphical session is there (GTK would panic without one).
pub fn has_display() -> bool {
    crate::os::has_display()
}

/// Parses the flags and checks what every mode needs (a display, a config directory): the
/// flags and that directory, or the exit code after saying what is wrong.
pub fn start() -> Result<(Args, PathBuf), i32> {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return Err(if e.use_stderr() { 2 } else { 0 });
        }
    };
    leakwatch::logging::init("leakwatch-app", (args.verbose.min(3) as i8) - (args.quiet.min(3) as i8));
    if let Some(shell) = args.completions {
        use clap::CommandFactory;
        clap_complete::generate(shell, &mut Args::command(), "leakwatch-app", &mut std::io::stdout());
        return Err(0);
    }
    if let Some(dir) = &args.man {
        use clap::CommandFactory;
        let written = std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(Args::command(), dir));
        return Err(match written {
            Ok(()) => 0,
            Err(e) => {
                tracing::error!("cannot write the manual page into {}: {e}", dir.display());
                1
            }
        });
    }
    if !has_display() {
        tracing::info!(
            "no display ($DISPLAY and $WAYLAND_DISPLAY are unset): the tray app needs a desktop session. \
             On a headless machine use the command line instead: leakwatch run"
        );
        return Err(EXIT_NO_DISPLAY);
    }
    let Some(config_dir) = crate::settings::config_dir() else {
        tracing::info!("no config directory is known for this user: set LEAKWATCH_CONFIG_DIR");
        return Err(2);
    };
    Ok((args, config_dir))
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1e6 => Ok(v),
        _ => Err(format!("{s:?} is not a speed: give a number above 0, e.g. 1, 10 or 0.5")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_and_speed_parse() {
        let a = Args::try_parse_from(["leakwatch-app", "--replay", "x.pcap", "--speed", "10"]).unwrap();
        assert_eq!(a.replay.unwrap(), PathBuf::from("x.pcap"));
        assert_eq!(a.speed, 10.0);
        assert!(Args::try_parse_from(["leakwatch-app", "--speed", "2"]).is_err(), "--speed needs --replay");
        assert!(Args::try_parse_from(["leakwatch-app", "--replay", "x", "--speed", "0"]).is_err());
        assert!(Args::try_parse_from(["leakwatch-app", "--replay", "x", "--speed", "nan"]).is_err());
        assert_eq!(a.legacy_ports, 5000..=5010);
        let b = Args::try_parse_from(["leakwatch-app", "--legacy-ports", "6000-6002"]).unwrap();
        assert_eq!(b.legacy_ports, 6000..=6002);
        assert!(Args::try_parse_from(["leakwatch-app", "--legacy-ports", "6000-"]).is_err());
        assert!(!a.embedded);
        assert!(Args::try_parse_from(["leakwatch-app", "--embedded"]).unwrap().embedded);
        assert!(Args::try_parse_from(["leakwatch-app", "--embedded", "--replay", "x"]).is_err());
        let w = Args::try_parse_from(["leakwatch-app", "--window", "--show-alert", "7"]).unwrap();
        assert!(w.window && w.show_alert == Some(7));
        assert!(Args::try_parse_from(["leakwatch-app", "--show-alert", "7"]).is_err(), "--show-alert needs --window");
        assert!(Args::try_parse_from(["leakwatch-app", "--window", "--replay", "x"]).is_err());
    }
}
