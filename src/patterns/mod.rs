//! Threat patterns and filters: the legacy JSON format (plus modern fields), compiled once,
//! matched without allocation. See `docs/patterns.md`.
//!
//! * [`PatternSet`]: the threat patterns, sorted by priority; [`PatternSet::resolve`] names a threat.
//! * [`FilterSet`]: ignore rules (mode filters, user filters, runtime ignores) referencing the
//!   threat patterns of one [`PatternSet`]; [`FilterSet::matches`] says whether a threat is ignored.
//! * [`callback_filter`]: the ready-made ignore rule sent with every alert (legacy `differ-by`).

mod callback;
mod error;
mod load;
pub mod probe;
mod rx;
mod set;

pub use callback::{callback_fields, callback_filter};
pub use error::PatternError;
pub use rx::{FILE_LIMITS, RegexLimits, USER_LIMITS};
pub use set::{FilterSet, Pattern, PatternSet, RelationMode};

use crate::alert::LeakKind;
use std::net::IpAddr;

/// Files bigger than this are refused before being read.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Compiled-size limit for one regex of a pattern or filter file (`RegexBuilder::size_limit`).
pub const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// Memory the compiled regexes of one pattern or filter file set (with their DFA caches) may
/// take at most.
pub const FILE_BUDGET: usize = 32 * 1024 * 1024;

/// Memory the compiled regexes of all the user's ignores together (file, socket, app, CLI,
/// API) may take at most: no file or client can grow Leakwatch by more than this through them.
pub const USER_BUDGET: usize = 8 * 1024 * 1024;

/// What is known about a leak candidate: the values patterns are matched against. A `None`
/// never matches a constraint on that field.
#[derive(Clone, Copy, Debug, Default)]
pub struct Facts<'a> {
    pub kind: Option<LeakKind>,
    pub pid: Option<u32>,
    pub processname: Option<&'a str>,
    /// Full path of the executable.
    pub exe: Option<&'a str>,
    pub dstip: Option<IpAddr>,
    pub dstport: Option<u16>,
    pub srcport: Option<u16>,
    pub hostname: Option<&'a str>,
    pub orgname: Option<&'a str>,
    pub asn: Option<u32>,
    /// ISO 3166 alpha-2 country code, e.g. `US`.
    pub country: Option<&'a str>,
}

/// A constrainable fact. The declaration order is the key order of a written `"pattern"` object
/// (legacy keys first, then the modern ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Pid,
    Dstip,
    Srcport,
    Processname,
    Orgname,
    Hostname,
    Dstport,
    Asn,
    Country,
    Exe,
    Kind,
}

impl Field {
    /// Every field, in key order.
    pub const ALL: [Field; 11] = [
        Field::Pid,
        Field::Dstip,
        Field::Srcport,
        Field::Processname,
        Field::Orgname,
        Field::Hostname,
        Field::Dstport,
        Field::Asn,
        Field::Country,
        Field::Exe,
        Field::Kind,
    ];

    /// The JSON key.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Pid => "pid",
            Field::Dstip => "dstip",
            Field::Srcport => "srcport",
            Field::Processname => "processname",
            Field::Orgname => "orgname",
            Field::Hostname => "hostname",
            Field::Dstport => "dstport",
            Field::Asn => "asn",
            Field::Country => "country",
            Field::Exe => "exe",
            Field::Kind => "kind",
        }
    }

    /// Parses a field name, case-insensitively and ignoring surrounding blanks.
    pub fn parse(s: &str) -> Option<Field> {
        let s = s.trim();
        Field::ALL.into_iter().find(|f| f.as_str().eq_ignore_ascii_case(s))
    }

    /// Calls `f` with the fact's text form (numbers in decimal, IPs in their usual text form,
    /// kinds as `sudden`/`active`/`passive`), formatted on the stack. `None` when the fact is
    /// unknown.
    pub fn with_value<R>(self, facts: &Facts<'_>, f: impl FnOnce(&str) -> R) -> Option<R> {
        use std::fmt::Write as _;
        let mut buf = StackStr::new();
        let text: &str = match self {
            Field::Processname => facts.processname?,
            Field::Exe => facts.exe?,
            Field::Hostname => facts.hostname?,
            Field::Orgname => facts.orgname?,
            Field::Country => facts.country?,
            Field::Kind => facts.kind?.as_str(),
            Field::Pid => {
                write!(buf, "{}", facts.pid?).ok()?;
                buf.as_str()
            }
            Field::Asn => {
                write!(buf, "{}", facts.asn?).ok()?;
                buf.as_str()
            }
            Field::Dstport => {
                write!(buf, "{}", facts.dstport?).ok()?;
                buf.as_str()
            }
            Field::Srcport => {
                write!(buf, "{}", facts.srcport?).ok()?;
                buf.as_str()
            }
            Field::Dstip => {
                write!(buf, "{}", facts.dstip?).ok()?;
                buf.as_str()
            }
        };
        Some(f(text))
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fixed 64-byte text buffer (enough for any IPv6 address or integer): no heap per match.
struct StackStr {
    buf: [u8; 64],
    len: usize,
}

impl StackStr {
    fn new() -> Self {
        StackStr { buf: [0; 64], len: 0 }
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever appended.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_on_the_stack() {
        let facts = Facts {
            pid: Some(4242),
            dstip: Some("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap()),
            dstport: Some(443),
            kind: Some(LeakKind::Passive),
            ..Facts::default()
        };
        assert_eq!(Field::Pid.with_value(&facts, str::to_owned).as_deref(), Some("4242"));
        assert_eq!(Field::Dstport.with_value(&facts, str::to_owned).as_deref(), Some("443"));
        assert_eq!(
            Field::Dstip.with_value(&facts, str::to_owned).as_deref(),
            Some("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
        );
        assert_eq!(Field::Kind.with_value(&facts, str::to_owned).as_deref(), Some("passive"));
        assert_eq!(Field::Srcport.with_value(&facts, str::to_owned), None);
        assert_eq!(Field::Orgname.with_value(&facts, str::to_owned), None);
    }

    #[test]
    fn field_names_parse_case_insensitively() {
        assert_eq!(Field::parse(" DstIP "), Some(Field::Dstip));
        assert_eq!(Field::parse("differby"), None);
        for f in Field::ALL {
            assert_eq!(Field::parse(f.as_str()), Some(f));
        }
    }
}
