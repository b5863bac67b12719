//! The shipped threat patterns (`patterns/threats.json`) and mode filters
//! (`patterns/{paranoid,adequate,chill}.json`): realistic leaks resolve to the intended pattern,
//! and each mode ignores exactly what `docs/patterns.md` ("Shipped patterns and modes") says.
//!
//! Organisation names and AS numbers in the table are the ones of the bundled ASN data
//! (`asn-ipv4.csv.gz` / `asn-ipv6.csv.gz`); the addresses lie in the matching ranges, except the
//! documentation addresses (`203.0.113.0/24`, `2001:db8::/32`) that stand for "no IP info".

use leakwatch::alert::LeakKind;
use leakwatch::patterns::{Facts, FilterSet, PatternSet, RelationMode};
use std::path::PathBuf;
use std::sync::Arc;

fn file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("patterns").join(name)
}

fn threats() -> Arc<PatternSet> {
    Arc::new(PatternSet::load(file("threats.json")).expect("patterns/threats.json loads"))
}

fn mode(name: &str, threats: &Arc<PatternSet>) -> FilterSet {
    FilterSet::load(file(&format!("{name}.json")), threats.clone()).unwrap_or_else(|e| panic!("{name}.json: {e}"))
}

/// One realistic leak and what the shipped files must make of it.
struct Case {
    /// Process name as the OS reports it (`None`: no process attributed).
    process: Option<&'static str>,
    exe: Option<&'static str>,
    host: Option<&'static str>,
    org: Option<&'static str>,
    asn: Option<u32>,
    country: Option<&'static str>,
    ip: Option<&'static str>,
    srcport: Option<u16>,
    kind: LeakKind,
    /// The pattern that must name the leak.
    pattern: &'static str,
    /// Ignored in adequate mode (paranoid never ignores anything).
    adequate: bool,
    /// Ignored in chill mode.
    chill: bool,
}

#[allow(clippy::too_many_arguments)]
const fn leak(
    process: Option<&'static str>,
    exe: Option<&'static str>,
    host: Option<&'static str>,
    org: Option<&'static str>,
    asn: Option<u32>,
    country: Option<&'static str>,
    ip: Option<&'static str>,
    kind: LeakKind,
    pattern: &'static str,
    adequate: bool,
    chill: bool,
) -> Case {
    Case { process, exe, host, org, asn, country, ip, srcport: Some(50123), kind, pattern, adequate, chill }
}

use LeakKind::{Active, Passive, Sudden};

const GOOGLE: (Option<&str>, Option<u32>) = (Some("Google LLC"), Some(15169));
const AWS: (Option<&str>, Option<u32>) = (Some("Amazon.com, Inc."), Some(16509));
const YANDEX: (Option<&str>, Option<u32>) = (Some("YANDEX LLC"), Some(13238));
const MSFT: (Option<&str>, Option<u32>) = (Some("Microsoft Corporation"), Some(8068));
const CLOUDFLARE: (Option<&str>, Option<u32>) = (Some("Cloudflare, Inc."), Some(13335));
const FASTLY: (Option<&str>, Option<u32>) = (Some("Fastly, Inc."), Some(54113));
const AKAMAI: (Option<&str>, Option<u32>) = (Some("Akamai International B.V."), Some(20940));
const COMCAST: (Option<&str>, Option<u32>) = (Some("Comcast Cable Communications, LLC"), Some(7922));

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    vec![
        // ---- Browsers (adequate and chill ignore them all) ----
        leak(Some("firefox"), Some("/usr/lib/firefox/firefox"), Some("www.google.com"), GOOGLE.0, GOOGLE.1, Some("US"),
            Some("142.250.74.36"), Active, "Pattern.StdApp.Browser.Google", true, true),
        leak(Some("firefox.exe"), Some("C:\\Program Files\\Mozilla Firefox\\firefox.exe"), Some("mc.yandex.ru"), YANDEX.0, YANDEX.1,
            Some("RU"), Some("87.250.251.119"), Passive, "Pattern.StdApp.Browser.Metrica.Yandex", true, true),
        leak(Some("chrome"), Some("/opt/google/chrome/chrome"), Some("yastatic.net"), YANDEX.0, YANDEX.1, Some("RU"),
            Some("77.88.55.88"), Active, "Pattern.StdApp.Browser.Yandex.Statica", true, true),
        leak(Some("vivaldi-bin"), Some("/opt/vivaldi/vivaldi-bin"), Some("yandex.ru"), YANDEX.0, YANDEX.1, Some("RU"),
            Some("77.88.55.60"), Active, "Pattern.StdApp.Browser.Yandex", true, true),
        leak(Some("msedge.exe"), Some("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe"),
            Some("my-bucket.s3.eu-west-1.amazonaws.com"), AWS.0, AWS.1, Some("IE"), Some("52.218.1.10"), Sudden,
            "Pattern.StdApp.Browser.Amazon.Aws", true, true),
        leak(Some("brave"), Some("/opt/brave.com/brave/brave"), Some("vk.com"), Some("LLC VK"), Some(47541), Some("RU"),
            Some("87.240.132.72"), Active, "Pattern.StdApp.Browser.VKontakte", true, true),
        leak(Some("opera"), Some("/usr/lib/x86_64-linux-gnu/opera/opera"), Some("top-fwz1.mail.ru"), Some("LLC VK"),
            Some(47764), Some("RU"), Some("217.69.139.202"), Passive, "Pattern.StdApp.Browser.Metrica.Mailru", true, true),
        leak(Some("Safari"), Some("/Applications/Safari.app/Contents/MacOS/Safari"), Some("www.apple.com"),
            Some("Apple Inc."), Some(714), Some("US"), Some("17.253.144.10"), Active, "Pattern.StdApp.Browser", true, true),
        leak(Some("com.apple.WebKit.Networking"), None, Some("example.org"), CLOUDFLARE.0, CLOUDFLARE.1, Some("US"),
            Some("104.16.132.229"), Sudden, "Pattern.StdApp.Browser", true, true),
        leak(Some("Google Chrome Helper"), None, Some("files.slack.com"), AWS.0, AWS.1, Some("US"), Some("54.230.10.5"),
            Active, "Pattern.StdApp.Browser", true, true),
        leak(Some("chromium-browse"), Some("/usr/lib/chromium-browser/chromium-browser"), None, COMCAST.0, COMCAST.1,
            Some("US"), Some("73.15.20.1"), Active, "Pattern.StdApp.Browser", true, true),
        // ---- Other standard apps ----
        leak(Some("skypeforlinux"), Some("/usr/share/skypeforlinux/skypeforlinux"), None, MSFT.0, MSFT.1, Some("US"),
            Some("13.107.42.14"), Active, "Pattern.StdApp.Skype", true, true),
        leak(Some("steam"), Some("/home/u/.steam/ubuntu12_32/steam"), None, Some("Valve Corporation"), Some(32590),
            Some("US"), Some("208.64.200.52"), Sudden, "Pattern.StdApp.Steam", true, true),
        leak(Some("qbittorrent"), Some("/usr/bin/qbittorrent"), None, COMCAST.0, COMCAST.1, Some("US"), Some("73.15.20.1"),
            Active, "Pattern.StdApp.TorrentClient", true, true),
        leak(Some("transmission-daemon"), Some("/usr/bin/transmission-daemon"), None, Some("Deutsche Telekom AG"),
            Some(3320), Some("DE"), Some("79.192.10.20"), Passive, "Pattern.StdApp.TorrentClient", true, true),
        leak(Some("uTorrent.exe"), None, None, None, None, None, Some("203.0.113.9"), Active,
            "Pattern.StdApp.TorrentClient", true, true),
        leak(Some("dropbox"), Some("/home/u/.dropbox-dist/dropbox-lnx.x86_64-200.4.5/dropbox"), None,
            Some("Dropbox, Inc."), Some(19679), Some("US"), Some("162.125.19.131"), Sudden, "Pattern.StdApp.Dropbox", true,
            true),
        // Steam to a CDN, not Valve: not a standard-app flow, just the CDN family.
        leak(Some("steamwebhelper"), None, None, AKAMAI.0, AKAMAI.1, Some("NL"), Some("23.32.5.10"), Active,
            "Pattern.Akamai", false, true),
        // ---- Windows services ----
        leak(Some("svchost.exe"), Some("C:\\Windows\\System32\\svchost.exe"), None, MSFT.0, MSFT.1, Some("US"),
            Some("13.107.4.50"), Sudden, "Pattern.Microsoft.Updates", false, true),
        // ---- Destination families, non-browser processes (chill ignores, adequate alerts) ----
        leak(Some("python3"), Some("/usr/bin/python3.12"), None, GOOGLE.0, GOOGLE.1, Some("US"), Some("142.250.74.36"),
            Active, "Pattern.Google", false, true),
        leak(Some("curl"), Some("/usr/bin/curl"), Some("my-bucket.s3.amazonaws.com"), AWS.0, AWS.1, Some("US"),
            Some("52.216.8.1"), Sudden, "Pattern.Amazon.Aws", false, true),
        leak(Some("wget"), Some("/usr/bin/wget"), Some("www.amazon.com"), Some("Amazon.com, Inc."), Some(16509),
            Some("US"), Some("205.251.242.103"), Active, "Pattern.Amazon", false, true),
        leak(Some("node"), Some("/usr/bin/node"), Some("r3---sn-4g5e6nz7.googlevideo.com"), Some("MTS PJSC"), Some(8359),
            Some("RU"), Some("213.87.1.10"), Active, "Pattern.Google.Cache", false, true),
        leak(Some("backup-agent"), None, None, Some("Yandex.Cloud LLC"), Some(200350), Some("RU"), Some("51.250.1.1"),
            Passive, "Pattern.Yandex", false, true),
        leak(Some("agent"), None, None, Some("LLC VK"), Some(47764), Some("RU"), Some("94.100.180.200"), Active,
            "Pattern.Mailru", false, true),
        leak(Some("agent"), None, None, Some("VKontakte Ltd"), Some(47542), Some("RU"), Some("95.142.204.10"), Active,
            "Pattern.VKontakte", false, true),
        leak(Some("rclone"), Some("/usr/bin/rclone"), None, MSFT.0, MSFT.1, Some("US"), Some("13.107.42.12"), Sudden,
            "Pattern.Microsoft", false, true),
        leak(Some("rclone"), Some("/usr/bin/rclone"), Some("myacct.blob.core.windows.net"), MSFT.0, Some(8075), Some("NL"),
            Some("20.60.40.4"), Sudden, "Pattern.Microsoft.Azure", false, true),
        leak(Some("cloudd"), Some("/System/Library/PrivateFrameworks/CloudKitDaemon.framework/Support/cloudd"), None,
            Some("Apple Inc."), Some(714), Some("US"), Some("17.248.128.1"), Passive, "Pattern.Apple", false, true),
        leak(Some("WhatsApp.exe"), None, None, Some("Facebook, Inc."), Some(32934), Some("IE"), Some("157.240.1.53"),
            Active, "Pattern.Meta", false, true),
        leak(Some("curl"), Some("/usr/bin/curl"), None, CLOUDFLARE.0, CLOUDFLARE.1, Some("US"), Some("104.16.132.229"),
            Active, "Pattern.Cloudflare", false, true),
        leak(Some("curl"), Some("/usr/bin/curl"), None, FASTLY.0, FASTLY.1, Some("US"), Some("151.101.1.69"), Active,
            "Pattern.Fastly", false, true),
        leak(Some("sh"), Some("/bin/sh"), None, Some("DigitalOcean, LLC"), Some(14061), Some("DE"), Some("167.99.1.1"),
            Sudden, "Pattern.DigitalOcean", false, true),
        leak(Some("sh"), Some("/bin/sh"), None, Some("Hetzner Online GmbH"), Some(24940), Some("DE"),
            Some("88.198.10.10"), Passive, "Pattern.Hetzner", false, true),
        leak(Some("sh"), Some("/bin/sh"), None, Some("OVH SAS"), Some(16276), Some("FR"), Some("51.38.1.1"), Active,
            "Pattern.OVH", false, true),
        // ---- Services (priority 45, above the cloud/CDN families) ----
        leak(Some("Telegram"), Some("/opt/telegram/Telegram"), None, Some("Telegram Messenger Inc"), Some(62041),
            Some("GB"), Some("149.154.167.51"), Active, "Pattern.Telegram", false, true),
        leak(Some("zoom"), Some("/opt/zoom/zoom"), Some("us04web.zoom.us"), AWS.0, Some(14618), Some("US"), Some("3.235.69.1"),
            Active, "Pattern.Zoom", false, true),
        leak(Some("zoom.exe"), None, None, Some("Zoom Video Communications, Inc"), Some(30103), Some("US"),
            Some("38.99.124.10"), Sudden, "Pattern.Zoom", false, true),
        leak(Some("slack"), Some("/usr/lib/slack/slack"), Some("files.slack.com"), AWS.0, AWS.1, Some("US"),
            Some("54.230.10.5"), Sudden, "Pattern.Slack", false, true),
        leak(Some("Discord"), Some("/usr/share/discord/Discord"), Some("discord.com"), CLOUDFLARE.0, CLOUDFLARE.1,
            Some("US"), Some("162.159.135.232"), Active, "Pattern.Discord", false, true),
        leak(Some("spotify"), Some("/usr/share/spotify/spotify"), Some("spclient.wg.spotify.com"), Some("Google LLC"),
            Some(396982), Some("US"), Some("35.186.224.25"), Passive, "Pattern.Spotify", false, true),
        leak(Some("git"), Some("/usr/bin/git"), Some("github.com"), Some("GitHub, Inc."), Some(36459), Some("US"),
            Some("140.82.112.3"), Sudden, "Pattern.GitHub", false, true),
        leak(Some("git-remote-https"), None, Some("raw.githubusercontent.com"), FASTLY.0, FASTLY.1, Some("US"),
            Some("185.199.108.133"), Sudden, "Pattern.GitHub", false, true),
        // ---- Unknown vectors: every mode alerts ----
        leak(Some("curl"), Some("/usr/bin/curl"), None, COMCAST.0, COMCAST.1, Some("US"), Some("73.15.20.1"), Sudden,
            "Pattern.Process", false, false),
        leak(Some("python3"), None, None, None, None, None, Some("2001:db8::7"), Active, "Pattern.Process", false, false),
        // Look-alike organisation names are not the big families.
        leak(Some("curl"), None, None, Some("Apple Bank for Savings"), Some(396918), Some("US"), Some("65.51.81.10"),
            Active, "Pattern.Process", false, false),
        leak(Some("curl"), None, None, Some("AMAZON TELECOM LTDA"), Some(274698), Some("BR"), Some("38.210.63.10"),
            Active, "Pattern.Process", false, false),
        leak(Some("curl"), None, None, Some("Google Fiber Inc."), Some(16591), Some("US"), Some("23.228.128.10"), Active,
            "Pattern.Process", false, false),
        leak(Some("curl"), None, None, Some("Zoom Fiber"), Some(400684), Some("US"), Some("23.130.244.10"), Active,
            "Pattern.Process", false, false),
        // A process called "steam" outside Valve's network is not Steam.
        leak(Some("steam"), None, None, COMCAST.0, COMCAST.1, Some("US"), Some("73.15.20.1"), Active, "Pattern.Process",
            false, false),
    ]
}

fn facts(c: &Case, pid: Option<u32>) -> Facts<'_> {
    Facts {
        kind: Some(c.kind),
        pid: c.process.and(pid),
        processname: c.process,
        exe: c.exe,
        dstip: c.ip.map(|ip| ip.parse().expect("test IP parses")),
        dstport: Some(443),
        srcport: c.srcport,
        hostname: c.host,
        orgname: c.org,
        asn: c.asn,
        country: c.country,
    }
}

#[test]
fn shipped_files_load_cleanly() {
    let t = threats();
    assert!(t.warnings().is_empty(), "threats.json warnings: {:?}", t.warnings());
    for m in ["paranoid", "adequate", "chill"] {
        let f = mode(m, &t);
        assert!(f.warnings().is_empty(), "{m}.json warnings: {:?}", f.warnings());
    }
    assert!(mode("paranoid", &t).is_empty());
}

#[test]
fn every_pattern_is_documented_in_its_comment() {
    for p in threats().patterns() {
        assert!(p.comment().is_some_and(|c| c.len() > 20), "{} has no useful comment", p.name());
    }
}

#[test]
fn generic_fallbacks_keep_legacy_names_and_priorities() {
    let t = threats();
    for (name, prio) in [("Pattern.Undefined", 0), ("Pattern.Port", 10), ("Pattern.IP", 20), ("Pattern.Process", 30)] {
        assert_eq!(t.get(name).map(|p| p.priority()), Some(prio), "{name}");
    }
    let std = t.get("Pattern.StdApps").expect("Pattern.StdApps exists (the passive detector uses it)");
    assert_eq!(std.priority(), 41);
    assert_eq!(std.relation_mode(), RelationMode::Any);
    let mut members: Vec<&str> = std.relations().iter().map(|&i| t.patterns()[i].name()).collect();
    members.sort_unstable();
    assert_eq!(
        members,
        [
            "Pattern.StdApp.Browser",
            "Pattern.StdApp.Dropbox",
            "Pattern.StdApp.Skype",
            "Pattern.StdApp.Steam",
            "Pattern.StdApp.TorrentClient"
        ]
    );
}

#[test]
fn chill_ignores_everything_but_the_generic_vectors() {
    let t = threats();
    let chill = mode("chill", &t);
    let related: Vec<&str> = chill.filters()[0].relations().iter().map(|&i| t.patterns()[i].name()).collect();
    for p in t.patterns() {
        let generic = ["Pattern.Process", "Pattern.IP", "Pattern.Port", "Pattern.Undefined"].contains(&p.name());
        // The `.Org`/`.Host` building blocks are covered by their family pattern.
        let block = p.name().ends_with(".Org") || p.name().ends_with(".Host");
        if !block {
            assert_eq!(related.contains(&p.name()), !generic, "chill filter and {}", p.name());
        }
    }
}

#[test]
fn realistic_leaks_resolve_and_filter_as_documented() {
    let t = threats();
    let paranoid = mode("paranoid", &t);
    let adequate = mode("adequate", &t);
    let chill = mode("chill", &t);
    let table = cases();
    assert!(table.len() >= 30);
    let mut failures = Vec::new();
    for (i, c) in table.iter().enumerate() {
        let f = facts(c, Some(4242));
        let got = t.resolve(&f).map(|p| p.name()).unwrap_or("<none>");
        let label = format!("#{i} {:?} -> {:?} / {:?} / {:?}", c.process, c.host, c.org, c.ip);
        if got != c.pattern {
            failures.push(format!("{label}: resolved {got}, want {}", c.pattern));
        }
        if let Some(name) = paranoid.matches(&f) {
            failures.push(format!("{label}: paranoid ignored it ({name})"));
        }
        if adequate.matches(&f).is_some() != c.adequate {
            failures.push(format!("{label}: adequate ignore = {:?}, want {}", adequate.matches(&f), c.adequate));
        }
        if chill.matches(&f).is_some() != c.chill {
            failures.push(format!("{label}: chill ignore = {:?}, want {}", chill.matches(&f), c.chill));
        }
        // The "standard app" notion of the passive detector agrees with adequate's StdApps filter.
        let std_app = t.matches_named("Pattern.StdApps", &f);
        if std_app != c.adequate {
            failures.push(format!("{label}: Pattern.StdApps matches = {std_app}, want {}", c.adequate));
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn leaks_without_process_or_address_fall_back() {
    let t = threats();
    let adequate = mode("adequate", &t);
    let chill = mode("chill", &t);
    let ip_only = Facts { dstip: Some("198.51.100.7".parse().unwrap()), srcport: Some(50000), ..Facts::default() };
    let ip6_only = Facts { dstip: Some("2001:db8::1".parse().unwrap()), ..Facts::default() };
    let port_only = Facts { srcport: Some(50000), kind: Some(LeakKind::Sudden), ..Facts::default() };
    let nothing = Facts::default();
    let google_no_process = Facts {
        dstip: Some("142.250.74.36".parse().unwrap()),
        orgname: Some("Google LLC"),
        asn: Some(15169),
        ..Facts::default()
    };
    for (f, want, chill_ignores) in [
        (ip_only, "Pattern.IP", false),
        (ip6_only, "Pattern.IP", false),
        (port_only, "Pattern.Port", false),
        (nothing, "Pattern.Undefined", false),
        (google_no_process, "Pattern.Google", true),
    ] {
        assert_eq!(t.resolve(&f).map(|p| p.name()), Some(want), "{f:?}");
        assert_eq!(adequate.matches(&f), None, "{f:?}");
        assert_eq!(chill.matches(&f).is_some(), chill_ignores, "{f:?}");
    }
}

#[test]
fn browser_process_names_on_every_platform() {
    let t = threats();
    for name in [
        "firefox",
        "firefox.exe",
        "Firefox",
        "firefox-esr",
        "chrome",
        "chrome.exe",
        "google-chrome",
        "Google Chrome",
        "Google Chrome Helper (Renderer)",
        "chromium",
        "chromium-browser",
        "msedge.exe",
        "Microsoft Edge",
        "iexplore.exe",
        "Safari",
        "com.apple.WebKit.Networking",
        "brave",
        "brave.exe",
        "Brave Browser",
        "opera",
        "opera.exe",
        "vivaldi",
        "vivaldi.exe",
        "yandex_browser",
        "browser.exe",
        "librewolf",
    ] {
        let f = Facts { processname: Some(name), pid: Some(1), ..Facts::default() };
        assert!(t.matches_named("Pattern.StdApp.Browser", &f), "{name} is a browser");
    }
    for name in ["curl", "python3", "chromedriver", "operator", "firefox-updater"] {
        let f = Facts { processname: Some(name), pid: Some(1), ..Facts::default() };
        assert!(!t.matches_named("Pattern.StdApp.Browser", &f), "{name} is not a browser");
    }
}

#[test]
fn standard_app_process_names() {
    let t = threats();
    let any = |n: &'static str| Facts { processname: Some(n), pid: Some(1), ..Facts::default() };
    for n in ["skype", "Skype.exe", "skypeforlinux", "Skype Helper"] {
        assert!(t.matches_named("Pattern.StdApp.Skype", &any(n)), "{n}");
    }
    for n in ["qbittorrent", "qbittorrent.exe", "uTorrent.exe", "transmission-gtk", "Transmission", "deluge", "deluged"]
    {
        assert!(t.matches_named("Pattern.StdApp.TorrentClient", &any(n)), "{n}");
    }
    let valve = |n: &'static str| Facts { orgname: Some("Valve Corporation"), ..any(n) };
    for n in ["steam", "steam.exe", "steamwebhelper", "steamwebhelper.exe"] {
        assert!(t.matches_named("Pattern.StdApp.Steam", &valve(n)), "{n}");
    }
    let dropbox = |n: &'static str| Facts { orgname: Some("Dropbox, Inc."), ..any(n) };
    for n in ["dropbox", "Dropbox", "Dropbox.exe"] {
        assert!(t.matches_named("Pattern.StdApp.Dropbox", &dropbox(n)), "{n}");
    }
}

#[test]
fn differ_by_pins_the_right_fields() {
    use leakwatch::patterns::Field;
    let t = threats();
    let differ = |n: &str| t.get(n).unwrap_or_else(|| panic!("{n}")).differ_by().to_vec();
    assert_eq!(differ("Pattern.Port"), [Field::Srcport]);
    assert_eq!(differ("Pattern.IP"), [Field::Dstip]);
    assert_eq!(differ("Pattern.Process"), [Field::Exe, Field::Processname]);
    for p in t.patterns() {
        let n = p.name();
        if n.starts_with("Pattern.StdApp.Browser") {
            assert_eq!(p.differ_by(), [Field::Dstip, Field::Hostname], "{n}");
        } else if !(n.ends_with(".Org") || n.ends_with(".Host") || ["Pattern.Port", "Pattern.IP"].contains(&n)) {
            assert!(p.differ_by().contains(&Field::Processname), "{n} pins the process");
        }
    }
}

#[test]
fn every_reportable_shipped_pattern_has_its_own_message_in_both_languages() {
    use leakwatch::i18n::{Locale, Messages};
    let threats = PatternSet::from_json_str(leakwatch::judge::SHIPPED_THREATS, "threats.json").unwrap();
    for locale in Locale::ALL {
        let msgs = Messages::new(locale);
        let missing: Vec<&str> = threats
            .patterns()
            .iter()
            .filter(|p| p.priority() > 1) // priority-1 helpers are never reported
            .map(|p| p.name())
            .filter(|n| !msgs.has_pattern(n))
            .collect();
        assert!(missing.is_empty(), "{locale:?}: no message for {missing:?}");
    }
}
