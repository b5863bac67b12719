//! The headless command line: argument parsing and dispatch to subcommands.
//!
//! Flags keep the legacy daemon's names (`-b/--max-traffic-during-10-sec`,
//! `-s/--min-leak-size`), with unambiguous long-option prefixes accepted as before.

mod history_cmd;
mod ignores_cmd;
mod output;
mod patterns_cmd;
mod replay;
mod run;
mod service_cmd;

pub use crate::parse::{parse_duration_us, parse_port_range};

use crate::i18n::Locale;
use crate::ignores::IgnoreStore;
use crate::judge::{Mode, Rules};
use crate::patterns::{PatternError, PatternSet};
use crate::settings::{EngineConfig, Thresholds};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: bad usage.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: an unreadable, empty, truncated or corrupt capture file.
pub const EXIT_BAD_FILE: i32 = 3;
/// Exit code: no permission to capture packets (`run`).
pub const EXIT_NO_PERMISSION: i32 = 4;

#[derive(Parser, Debug)]
#[command(
    name = "leakwatch",
    version,
    infer_long_args = true,
    about = "Tells you, in plain words, when a program is sending data out"
)]
pub struct Cli {
    /// More diagnostics on stderr (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Fewer diagnostics on stderr (-q warnings and errors, -qq errors only).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse pcap/pcapng captures offline, at full speed, in packet time.
    Replay(ReplayArgs),
    /// Watch live traffic on this machine's interfaces and print alerts as they happen.
    Run(RunArgs),
    /// Check threat pattern and filter files.
    #[command(subcommand)]
    Patterns(PatternsCommand),
    /// List, add or remove the permanent ignores in ignores.user.json.
    #[command(subcommand)]
    Ignores(IgnoresCommand),
    /// Look back: stored alerts and each program's uploads (recorded by `run` and the service).
    #[command(subcommand)]
    History(HistoryCommand),
    /// Run the privileged service: capture, attribution, detection and history for the whole
    /// machine, serving the local API to the app and CLI of root and group leakwatch (systemd
    /// starts it: leakwatch.service; Windows's service manager and launchd after `service
    /// install`).
    Service(ServiceArgs),
    /// Show what the service is doing: interfaces, mode, attribution, figures.
    Status {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print a completion script for SHELL to stdout (make install puts them where shells
    /// look: e.g. `leakwatch completions bash > /usr/share/bash-completion/completions/leakwatch`).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Write the manual pages (leakwatch.1 and one per subcommand) into DIR (make install
    /// does, into share/man/man1).
    #[command(hide = true)]
    Man {
        /// Where to write them (created when missing).
        dir: PathBuf,
    },
    /// Print the service's alerts as they happen (Ctrl-C stops).
    Watch {
        /// One JSON event per line (`alert`, and `change` with --changes).
        #[arg(long)]
        json: bool,
        /// Also every change: ignores, mode, pause, with who made it.
        #[arg(long)]
        changes: bool,
    },
}

/// `leakwatch service`: runs the service in this console, or (`install`, `uninstall`) registers
/// it with the system's service manager.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServiceArgs {
    #[command(subcommand)]
    pub action: Option<ServiceAction>,
    /// The configuration file (default: /etc/leakwatch/leakwatch.toml on Linux,
    /// %ProgramData%\Leakwatch\leakwatch.toml on Windows, /Library/Application
    /// Support/Leakwatch/leakwatch.toml on macOS).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run under Windows's service control manager (the command line `service install`
    /// registers; not for a console).
    #[arg(long, hide = true)]
    pub windows_service: bool,
}

#[derive(Subcommand, Debug)]
pub enum ServiceAction {
    /// Register the service with Windows's service manager (LocalSystem, started at boot,
    /// restarted on failure) or launchd (macOS), and start it. Needs an administrator (root).
    /// On Linux the systemd unit does this (the .deb, make install).
    Install {
        /// A configuration file other than the system's default one.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Register it without starting it now (it still starts at the next boot).
        #[arg(long)]
        no_start: bool,
    },
    /// Stop the service and remove it from the service manager; its configuration, ignores
    /// and history stay.
    Uninstall,
}

#[derive(Subcommand, Debug)]
pub enum HistoryCommand {
    /// Alerts recorded, newest first.
    Alerts {
        /// How far back: e.g. 90m, 24h, 7d, 2w, or all.
        #[arg(long, value_name = "SPAN", default_value = "7d", value_parser = crate::history::parse_since)]
        since: crate::history::Span,
        /// Only this program (its name or executable path).
        #[arg(long, value_name = "NAME")]
        program: Option<String>,
        /// Only alerts mentioning this text (host, organisation, country, message…).
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: HistoryDbArg,
    },
    /// Bytes uploaded, largest first.
    Uploads {
        /// Group by program, destination (organisation and country) or country.
        #[arg(long, value_name = "WHAT", default_value = "program", value_parser = crate::history::GroupBy::parse)]
        by: crate::history::GroupBy,
        /// How far back: e.g. 90m, 24h, 7d, or all.
        #[arg(long, value_name = "SPAN", default_value = "24h", value_parser = crate::history::parse_since)]
        since: crate::history::Span,
        /// Only this program (as listed by --by program).
        #[arg(long, value_name = "PROGRAM")]
        program: Option<String>,
        /// One JSON object per line.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// CSV with a header line.
        #[arg(long)]
        csv: bool,
        #[command(flatten)]
        db: HistoryDbArg,
    },
}

#[derive(Args, Debug)]
pub struct HistoryDbArg {
    /// The history database (default: history.sqlite in the user's data directory, or in
    /// $LEAKWATCH_HISTORY_DIR).
    #[arg(long = "db", value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// Measure --since back from the newest record instead of from now (for replayed captures).
    #[arg(long)]
    pub from_newest: bool,
}

/// Recording history and forwarding alerts (`run` and `replay`).
#[derive(Args, Debug, Clone)]
pub struct RecordArgs {
    /// Record alerts and uploads in this history database. `run` records in the user's data
    /// directory by default; `replay` records only when given this flag.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// `run`: do not record history.
    #[arg(long)]
    pub no_history: bool,
    /// Send alerts to a log pipeline: syslog://HOST:PORT (RFC 5424 over UDP),
    /// syslog+tcp://HOST:PORT (octet-counted TCP) or jsonl:PATH (appended). Repeatable.
    #[arg(long, value_name = "TARGET", value_parser = crate::history::forward::Target::parse)]
    pub forward: Vec<crate::history::forward::Target>,
}

#[derive(Subcommand, Debug)]
pub enum PatternsCommand {
    /// Validate pattern and filter files and show what each mode ignores.
    Check {
        #[command(flatten)]
        rules: RulesArgs,
    },
}

#[derive(Subcommand, Debug)]
/// Without `--file` (and without `$LEAKWATCH_CONFIG_DIR`), these act on the service's ignores
/// when the service runs, and on your own ignores.user.json when it does not.
pub enum IgnoresCommand {
    /// List the permanent ignores, with who added each (user, or legacy-socket: a local
    /// program over the legacy TCP protocol).
    List {
        #[command(flatten)]
        file: IgnoresFileArg,
    },
    /// Remove a permanent ignore by its id (as shown by `list`).
    Remove {
        id: u64,
        #[command(flatten)]
        file: IgnoresFileArg,
    },
    /// Add a permanent ignore: a filter object, e.g. an alert's callback_filter. A filter that
    /// matches much of a varied sample of made-up uploads (it singles nothing out) is refused
    /// unless --force.
    AddJson {
        json: String,
        /// Add it even if it is over-broad (it may silence most alerts: you are warned).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        file: IgnoresFileArg,
    },
    /// Write the permanent ignores that the old daemon (traffic_leaks_detector) can read into
    /// OUT, leaving out, with the reason, those that use Leakwatch's own keys (exe, dstport,
    /// asn, country, kind): the old daemon refuses a whole file for one unknown key.
    ExportLegacy {
        /// The file to write (replaced atomically).
        out: PathBuf,
        #[command(flatten)]
        file: IgnoresFileArg,
    },
}

#[derive(Args, Debug)]
pub struct IgnoresFileArg {
    /// The ignores file (default: ignores.user.json in the user's config directory).
    #[arg(long = "file", value_name = "FILE")]
    pub path: Option<PathBuf>,
}

impl IgnoresFileArg {
    /// The file to use, or an error saying why there is none.
    pub fn resolve(&self) -> Result<PathBuf, String> {
        self.path
            .clone()
            .or_else(IgnoreStore::default_path)
            .ok_or_else(|| "no config directory is known for this user: give the ignores file with --file".to_string())
    }
}

/// Which patterns and filters to use.
#[derive(Args, Debug, Clone)]
pub struct RulesArgs {
    /// Threat patterns file (default: the shipped patterns/threats.json).
    #[arg(long, value_name = "FILE")]
    pub patterns: Option<PathBuf>,
    /// An extra filter file, applied in every mode (repeatable).
    #[arg(long = "filters", value_name = "FILE")]
    pub filters: Vec<PathBuf>,
}

impl RulesArgs {
    /// Loads the patterns and filters for `mode`.
    pub fn load(&self, mode: Mode) -> Result<Rules, PatternError> {
        let threats = match &self.patterns {
            Some(p) => PatternSet::load(p)?,
            None => PatternSet::from_json_str(crate::judge::SHIPPED_THREATS, "patterns/threats.json (built in)")?,
        };
        let mut rules = Rules::with_threats(Arc::new(threats), mode)?;
        for f in &self.filters {
            rules.add_filter_file(f)?;
        }
        Ok(rules)
    }
}

/// Detection settings shared by every command that analyses traffic.
#[derive(Args, Debug, Clone)]
pub struct DetectionArgs {
    /// Sudden leak: more than N bytes sent within 10 seconds.
    #[arg(short = 'b', long, value_name = "N", default_value_t = Thresholds::default().max_traffic_during_10_sec)]
    pub max_traffic_during_10_sec: u64,
    /// Active and passive leaks: more than N bytes in one upload.
    #[arg(short = 's', long, value_name = "N", default_value_t = Thresholds::default().min_leak_size)]
    pub min_leak_size: u64,
    /// Spread leak: more than N bytes sent by one program to all its destinations together within
    /// 10 seconds (destinations that alert on their own not counted)…
    #[arg(long, value_name = "N", default_value_t = Thresholds::default().max_spread_during_10_sec)]
    pub max_spread_during_10_sec: u64,
    /// …to at least N destinations.
    #[arg(long, value_name = "N", default_value_t = Thresholds::default().min_spread_destinations)]
    pub min_spread_destinations: u32,
    /// Do not notify the same threat again before this much (packet) time: e.g. 10m, 90s, 1h.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration_us)]
    pub realert_after: i64,
    /// A local network (repeatable); without it private, loopback, link-local, CGNAT and ULA
    /// addresses are local.
    #[arg(long = "local-net", value_name = "CIDR")]
    pub local_net: Vec<ipnet::IpNet>,
    /// paranoid (nothing ignored), adequate (browsers and standard apps ignored) or chill
    /// (known services ignored).
    #[arg(short = 'm', long, value_name = "MODE", default_value = "adequate", value_parser = Mode::parse)]
    pub mode: Mode,
    /// Language of messages: en or ru (default: from the system locale).
    #[arg(short = 'l', long, value_name = "LANG", value_parser = Locale::parse)]
    pub locale: Option<Locale>,
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Do not apply the permanent ignores from ignores.user.json.
    #[arg(long)]
    pub no_user_ignores: bool,
    /// A MaxMind GeoLite2-ASN database that takes precedence over the bundled data.
    #[arg(long, value_name = "MMDB")]
    pub asn_mmdb: Option<PathBuf>,
    /// A MaxMind GeoLite2-Country database that takes precedence over the bundled data.
    #[arg(long, value_name = "MMDB")]
    pub country_mmdb: Option<PathBuf>,
}

impl DetectionArgs {
    /// Where the organisation / country data comes from (bundled, plus the user's MaxMind files).
    pub fn asn_spec(&self, before_start: bool) -> crate::compose::AsnSpec {
        crate::compose::AsnSpec {
            load: true,
            before_start,
            asn_mmdb: self.asn_mmdb.clone(),
            country_mmdb: self.country_mmdb.clone(),
        }
    }
}

impl RecordArgs {
    /// Where to record: `--history FILE`; else, for `run` (`by_default`), the user's data
    /// directory unless `--no-history`.
    pub fn spec(&self, by_default: bool) -> crate::compose::RecordSpec {
        let history = if self.no_history {
            None
        } else if self.history.is_some() || !by_default {
            self.history.clone()
        } else {
            let path = crate::history::default_path();
            if path.is_none() {
                tracing::info!(
                    "note: no data directory is known for this user: history is not recorded (give --history FILE)"
                );
            }
            path
        };
        crate::compose::RecordSpec { history, history_required: self.history.is_some(), forward: self.forward.clone() }
    }
}

/// The exit code for a system that could not be built (its error already printed).
pub fn start_error_code(e: &crate::compose::StartError) -> i32 {
    match e {
        crate::compose::StartError::Forward(_) => EXIT_USAGE,
        crate::compose::StartError::History(_) | crate::compose::StartError::NotAFile(_) => EXIT_BAD_FILE,
    }
}

/// What `leakwatch run` builds.
fn system_spec(args: &RunArgs, config: EngineConfig, locale: Locale) -> crate::compose::Spec {
    let d = &args.detection;
    crate::compose::Spec {
        config,
        attribute: true,
        ignores: if d.no_user_ignores { None } else { IgnoreStore::default_path() },
        asn: d.asn_spec(false),
        reverse_dns: !args.no_reverse_dns,
        legacy: (!args.no_legacy).then(|| crate::legacy::LegacyOptions {
            ports: args.legacy_ports.clone(),
            locale,
            ..crate::legacy::LegacyOptions::default()
        }),
        record: args.record.spec(true),
        live: true,
        locale,
    }
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Capture files (pcap or pcapng).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print one line per flow (any IP protocol) instead of alerts.
    #[arg(long)]
    pub flows: bool,
    #[command(flatten)]
    pub record: RecordArgs,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Colour the output: auto (when a terminal), always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    #[command(flatten)]
    pub detection: DetectionArgs,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Capture on this interface only (repeatable; default: every up interface but loopback).
    #[arg(short = 'i', long = "interface", value_name = "NAME")]
    pub interfaces: Vec<String>,
    /// Also capture on loopback.
    #[arg(long)]
    pub loopback: bool,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// On exit, print one line per flow seen (any IP protocol).
    #[arg(long)]
    pub flows: bool,
    /// Never ask DNS servers for the names of addresses (reverse DNS is the last resort for a
    /// destination no DNS answer, TLS server name or HTTP Host named).
    #[arg(long)]
    pub no_reverse_dns: bool,
    /// Start this program (e.g. the legacy GUI) when an alert arrives, unless the one started
    /// before is still running. Run as-is, without a shell or arguments.
    #[arg(long, value_name = "PATH")]
    pub gui: Option<PathBuf>,
    #[command(flatten)]
    pub record: RecordArgs,
    /// Do not serve the legacy TCP protocol for old GUIs.
    #[arg(long)]
    pub no_legacy: bool,
    /// Ports tried for the legacy TCP protocol, first free one wins (127.0.0.1 and ::1 only).
    #[arg(long, value_name = "A-B", default_value = "5000-5010", value_parser = parse_port_range)]
    pub legacy_ports: std::ops::RangeInclusive<u16>,
    /// Colour the output: auto (when a terminal), always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    #[command(flatten)]
    pub detection: DetectionArgs,
}

/// Builds the engine configuration from the detection flags (loading patterns and filters,
/// printing their warnings); `Err` is the exit code after the error was printed.
pub fn engine_config(d: &DetectionArgs) -> Result<EngineConfig, i32> {
    let rules = match d.rules.load(d.mode) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("{e}");
            return Err(EXIT_USAGE);
        }
    };
    for w in rules.threats().warnings() {
        tracing::warn!("{w}");
    }
    Ok(EngineConfig {
        thresholds: Thresholds {
            max_traffic_during_10_sec: d.max_traffic_during_10_sec,
            min_leak_size: d.min_leak_size,
            max_spread_during_10_sec: d.max_spread_during_10_sec,
            min_spread_destinations: d.min_spread_destinations,
        },
        realert_after: d.realert_after,
        local_nets: crate::direction::LocalNets::new(d.local_net.clone()),
        rules,
        ..EngineConfig::default()
    })
}

/// Whether to colour output for `--color WHEN`.
pub fn use_color(when: &str) -> bool {
    use std::io::IsTerminal;
    match when {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    crate::logging::init("leakwatch", (cli.verbose.min(3) as i8) - (cli.quiet.min(3) as i8));
    match cli.command {
        Command::Replay(args) => replay::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Patterns(PatternsCommand::Check { rules }) => patterns_cmd::check(&rules),
        Command::Ignores(cmd) => ignores_cmd::run(&cmd),
        Command::History(cmd) => history_cmd::run(&cmd),
        Command::Service(args) => service_cmd::service(args),
        Command::Status { json } => service_cmd::status(json),
        Command::Watch { json, changes } => service_cmd::watch(json, changes),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "leakwatch", &mut std::io::stdout());
            EXIT_OK
        }
        Command::Man { dir } => write_man_pages(&dir),
    }
}

/// Writes `leakwatch.1` and `leakwatch-SUBCOMMAND.1` pages into `dir`.
fn write_man_pages(dir: &Path) -> i32 {
    use clap::CommandFactory;
    let written = std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(Cli::command(), dir));
    match written {
        Ok(()) => EXIT_OK,
        Err(e) => {
            tracing::error!("cannot write the manual pages into {}: {e}", dir.display());
            1
        }
    }
}

/// Opens an ignores file, printing a load problem (the bad file is kept as a backup).
pub fn open_ignores_at(path: &Path) -> Result<IgnoreStore, String> {
    match IgnoreStore::open(path.to_path_buf()) {
        Ok((store, problem)) => {
            if let Some(p) = problem {
                tracing::warn!("{p}");
            }
            Ok(store)
        }
        Err(e) => {
            tracing::error!("{e}");
            Err(e.to_string())
        }
    }
}
