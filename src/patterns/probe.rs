//! A fixed, generated sample of varied made-up threats, to judge an ignore by what it matches
//! rather than by its text (see `Rules::check_not_over_broad`).
//!
//! The sample spreads every fact the way real uploads spread them: 40 programs (names with many
//! first letters, executables under /usr/bin, /opt, ~/.local, Windows' Program Files), IPv4
//! addresses all over the public space and IPv6 addresses, the ports clients really use (Linux's
//! and Windows' ephemeral ranges as source ports; 443, 80, 53… and high ports as destinations),
//! 48 organisations with their ASNs, 24 countries and every leak kind; half the threats carry
//! only what an unattributed alert knows (address, ports, kind). No value of the sample is a real
//! host (documentation names under `.invalid`, organisations prefixed `Probe`), so a filter that
//! names one real program, address, host or organisation matches at most a couple of them, and
//! a filter that matches many matches nearly every threat a user will ever see.

use super::Facts;
use crate::alert::LeakKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// How many made-up threats the sample has.
pub const SAMPLE_SIZE: usize = 256;

const PROGRAMS: [&str; 40] = [
    "firefox",
    "chrome",
    "curl",
    "wget",
    "python3",
    "node",
    "ssh",
    "rsync",
    "dropbox",
    "slack",
    "zoom",
    "teams",
    "steam",
    "spotify",
    "git",
    "apt",
    "systemd-resolved",
    "update-notifier",
    "electron",
    "java",
    "ruby",
    "perl",
    "go",
    "docker",
    "containerd",
    "snapd",
    "thunderbird",
    "vlc",
    "obs",
    "telegram-desktop",
    "signal-desktop",
    "lftp",
    "links",
    "lynx",
    "keepassxc",
    "nextcloud",
    "x-www-browser",
    "qbittorrent",
    "mysqld",
    "backup.sh",
];
const EXE_DIRS: [&str; 5] =
    ["/usr/bin/", "/usr/local/bin/", "/opt/app/", "/home/user/.local/bin/", "C:\\Program Files\\App\\"];
const COUNTRIES: [&str; 24] = [
    "US", "DE", "NL", "FR", "GB", "IE", "SE", "FI", "RU", "CN", "JP", "KR", "IN", "BR", "CA", "AU", "SG", "HK", "PL",
    "IT", "ES", "CH", "UA", "ZA",
];
const WORDS: [&str; 16] = [
    "api",
    "cdn",
    "upload",
    "telemetry",
    "sync",
    "push",
    "static",
    "edge",
    "files",
    "metrics",
    "update",
    "auth",
    "mail",
    "chat",
    "media",
    "log",
];
const DST_PORTS: [u16; 12] = [443, 443, 443, 80, 53, 22, 8080, 5222, 993, 3478, 8443, 51413];

/// One made-up threat (owned; [`Probe::facts`] lends it as [`Facts`]).
#[derive(Clone, Debug)]
pub struct Probe {
    pub kind: LeakKind,
    pub pid: u32,
    pub processname: String,
    pub exe: String,
    pub dstip: IpAddr,
    pub dstport: u16,
    pub srcport: u16,
    pub hostname: String,
    pub orgname: String,
    pub asn: u32,
    pub country: &'static str,
    /// Only address, ports and kind are known (an unattributed alert).
    pub bare: bool,
}

impl Probe {
    pub fn facts(&self) -> Facts<'_> {
        if self.bare {
            return Facts {
                kind: Some(self.kind),
                dstip: Some(self.dstip),
                dstport: Some(self.dstport),
                srcport: Some(self.srcport),
                ..Facts::default()
            };
        }
        Facts {
            kind: Some(self.kind),
            pid: Some(self.pid),
            processname: Some(&self.processname),
            exe: Some(&self.exe),
            dstip: Some(self.dstip),
            dstport: Some(self.dstport),
            srcport: Some(self.srcport),
            hostname: Some(&self.hostname),
            orgname: Some(&self.orgname),
            asn: Some(self.asn),
            country: Some(self.country),
        }
    }
}

/// A small deterministic generator (64-bit LCG, high bits): the same sample on every run and
/// machine, so a filter's verdict never changes between the CLI, the service and a test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
}

/// The sample (built once).
pub fn sample() -> &'static [Probe] {
    static SAMPLE: OnceLock<Vec<Probe>> = OnceLock::new();
    SAMPLE.get_or_init(build)
}

fn build() -> Vec<Probe> {
    let mut r = Lcg(0x1ea4_0a7c);
    let kinds = LeakKind::ALL;
    (0..SAMPLE_SIZE)
        .map(|i| {
            let program = PROGRAMS[i % PROGRAMS.len()];
            let org_index = r.below(48);
            let dstip = if r.below(10) < 7 {
                // Public IPv4: first octet 1..=223, skipping 10, 127 and 172/192 private blocks.
                let mut a = 1 + r.below(223) as u8;
                if matches!(a, 10 | 127 | 172 | 192) {
                    a = a.wrapping_add(1);
                }
                IpAddr::V4(Ipv4Addr::new(a, r.below(256) as u8, r.below(256) as u8, 1 + r.below(254) as u8))
            } else {
                let top = [0x2001u16, 0x2a00, 0x2600, 0x2c0f, 0x2404][r.below(5) as usize];
                IpAddr::V6(Ipv6Addr::new(
                    top,
                    r.below(0xffff) as u16,
                    r.below(0xffff) as u16,
                    0,
                    0,
                    0,
                    0,
                    1 + r.below(0xfffe) as u16,
                ))
            };
            // Linux's ephemeral ports (32768–60999) and Windows' (49152–65535), now and then
            // a fixed low one (a daemon with a bound source port).
            let srcport = match r.below(10) {
                0..=5 => 32_768 + r.below(28_232) as u16,
                6..=8 => 49_152 + r.below(16_384) as u16,
                _ => 1 + r.below(1023) as u16,
            };
            let dstport = if r.below(4) == 0 {
                1024 + r.below(64_511) as u16
            } else {
                DST_PORTS[r.below(DST_PORTS.len() as u32) as usize]
            };
            let word = WORDS[r.below(WORDS.len() as u32) as usize];
            Probe {
                kind: kinds[i % kinds.len()],
                pid: 1000 + r.below(4_000_000),
                processname: program.to_string(),
                exe: format!("{}{program}", EXE_DIRS[r.below(EXE_DIRS.len() as u32) as usize]),
                dstip,
                dstport,
                srcport,
                hostname: format!("{word}{}.probe-org{org_index}.invalid", r.below(100)),
                orgname: format!("Probe Organisation {org_index}"),
                asn: 4_200_000_000 + org_index,
                country: COUNTRIES[r.below(COUNTRIES.len() as u32) as usize],
                bare: i % 2 == 1,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_varied_and_stable() {
        let s = sample();
        assert_eq!(s.len(), SAMPLE_SIZE);
        let v4 = s.iter().filter(|p| p.dstip.is_ipv4()).count();
        assert!((150..=210).contains(&v4), "{v4} IPv4 of {SAMPLE_SIZE}");
        let countries: std::collections::HashSet<_> = s.iter().map(|p| p.country).collect();
        assert!(countries.len() >= 20);
        assert!(s.iter().filter(|p| p.bare).count() == SAMPLE_SIZE / 2);
        let again = build();
        assert!(s.iter().zip(&again).all(|(a, b)| a.dstip == b.dstip && a.srcport == b.srcport));
        // Every address is public: no sample address is one a filter on a local net would name.
        assert!(s.iter().all(|p| match p.dstip {
            IpAddr::V4(a) => !a.is_private() && !a.is_loopback(),
            IpAddr::V6(a) => !a.is_loopback(),
        }));
    }
}
