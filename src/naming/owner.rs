//! Whether a host name can be believed: who chose it, and whether the address's owner (its
//! organisation in the bundled ASN data) agrees with it.
//!
//! A TLS SNI, an HTTP Host, a DNS answer from a resolver the program chose and a reverse DNS
//! (PTR) name are all chosen by the sender or by the address's holder: an uploader can claim to
//! be `github.com` for free. Such a name still names the alert (and threat patterns may use it),
//! but it decides nothing alone:
//! - **contradicted**: the name belongs to a well-known service ([`FAMILIES`]) and the address's
//!   organisation is not one that service uses. The alert says so ("claims to be …; the address
//!   belongs to …") and no ignore or mode filter sees the name;
//! - **unverified**: not contradicted, not verified (a name the table does not know, or an
//!   address whose organisation is unknown). Only filters that also pin the destination by its
//!   address, organisation or ASN (their own `dstip`, `orgname` or `asn` constraint) see it: a
//!   filter on the host name alone does not silence the alert;
//! - **verified**: a well-known name on an address of its service's organisation: seen by every
//!   filter;
//! - **trusted**: a DNS answer of the system's resolver (see `naming::is_system_resolver`)
//!   not contradicted: seen by every filter. A program can make the system resolver name an
//!   address only with a name that resolves there for everyone.
//!
//! The table is small on purpose and drawn from the shipped patterns, which pair host names and
//! organisations for the same services (`Pattern.GitHub.Host` / `Pattern.GitHub.Org`,
//! `Pattern.Google.Cache` / `Pattern.Google`, …). A service served from other networks too (CDNs,
//! Google Global Cache nodes inside ISPs) shows as contradicted there: the safe direction (an
//! alert that says why), and uploads to video caches are rare.

use regex::Regex;
use serde::Serialize;
use std::sync::OnceLock;

/// How far a host name can be believed (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NameTrust {
    /// From the system's resolver, and not contradicted.
    Trusted,
    /// A well-known name on an address of its service's organisation.
    Verified,
    /// Chosen by the sender or the address's holder, and not checked either way.
    Unverified,
    /// A well-known name on an address of another organisation.
    Contradicted,
}

impl NameTrust {
    pub fn as_str(self) -> &'static str {
        match self {
            NameTrust::Trusted => "trusted",
            NameTrust::Verified => "verified",
            NameTrust::Unverified => "unverified",
            NameTrust::Contradicted => "contradicted",
        }
    }

    /// Whether every filter may match by this name.
    pub fn decides(self) -> bool {
        matches!(self, NameTrust::Trusted | NameTrust::Verified)
    }
}

/// A well-known service: its domains (the name itself or any subdomain) and the organisations
/// (full match, case-insensitive, as in the ASN data) its addresses belong to.
pub struct Family {
    pub service: &'static str,
    pub domains: &'static [&'static str],
    pub orgs: &'static str,
}

const GITHUB: &str = r"github,? inc\.?|microsoft[ ,(].*";
const GOOGLE: &str = r"google,? llc|google (ireland limited|switzerland gmbh|singapore pte\. ltd\.|asia pacific pte\. ltd\.|cloud emea ltd|kenya limited.*)";
const AMAZON: &str = r"amazon\.com(,? inc\.?|,? services,? llc| tech telecom)|amazon technologies,? inc\.?|amazon data services .+|amazon connection technology services .+";
const MICROSOFT: &str = r"microsoft[ ,(].*";

/// The well-known names checked against their owners (from `patterns/threats.json`).
pub const FAMILIES: &[Family] = &[
    Family { service: "GitHub", domains: &["github.com", "ghcr.io"], orgs: GITHUB },
    // Static content and pages are served by Fastly too.
    Family {
        service: "GitHub",
        domains: &["githubusercontent.com", "githubassets.com", "github.io"],
        orgs: r"github,? inc\.?|microsoft[ ,(].*|fastly,? inc\.?",
    },
    Family {
        service: "Google",
        domains: &[
            "google.com",
            "googlevideo.com",
            "gvt1.com",
            "gvt2.com",
            "youtube.com",
            "googleapis.com",
            "gstatic.com",
            "googleusercontent.com",
            "ytimg.com",
            "ggpht.com",
        ],
        orgs: GOOGLE,
    },
    Family {
        service: "Amazon",
        domains: &["amazonaws.com", "amazonaws.com.cn", "cloudfront.net", "awsglobalaccelerator.com"],
        orgs: AMAZON,
    },
    Family {
        service: "Microsoft",
        domains: &["azure.com", "azure.net", "azurewebsites.net", "cloudapp.net", "windows.net", "azurecr.io"],
        orgs: MICROSOFT,
    },
    Family {
        service: "Telegram",
        domains: &["telegram.org", "t.me", "telegram.me"],
        orgs: r"telegram messenger (inc\.?|llp)",
    },
    Family { service: "Yandex", domains: &["yandex.ru", "yandex.net", "yandex.com"], orgs: r"yandex(\.[a-z]+)? llc" },
];

fn compiled() -> &'static [Regex] {
    static RX: OnceLock<Vec<Regex>> = OnceLock::new();
    RX.get_or_init(|| {
        FAMILIES
            .iter()
            .map(|f| Regex::new(&format!("(?i)^(?:{})$", f.orgs)).expect("the built-in owner patterns compile"))
            .collect()
    })
}

/// The well-known family of `name`, with its index.
fn family_of(name: &str) -> Option<usize> {
    let name = name.trim_end_matches('.');
    FAMILIES.iter().position(|f| {
        f.domains.iter().any(|d| {
            name.eq_ignore_ascii_case(d)
                || (name.len() > d.len()
                    && name.as_bytes()[name.len() - d.len() - 1] == b'.'
                    && name[name.len() - d.len()..].eq_ignore_ascii_case(d))
        })
    })
}

/// What the owner says of `name`: `Some(true)` it agrees, `Some(false)` it contradicts, `None`
/// the name is not a well-known one or the owner is unknown.
pub fn owner_agrees(name: &str, orgname: Option<&str>) -> Option<bool> {
    let i = family_of(name)?;
    let org = orgname?;
    Some(compiled()[i].is_match(org))
}

/// How far `name` can be believed, learned from the system's resolver (`from_system`) or not,
/// on an address of organisation `orgname`.
pub fn trust(name: &str, from_system: bool, orgname: Option<&str>) -> NameTrust {
    match owner_agrees(name, orgname) {
        Some(true) => NameTrust::Verified,
        Some(false) => NameTrust::Contradicted,
        None if from_system => NameTrust::Trusted,
        None => NameTrust::Unverified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_names_are_checked_against_their_owner() {
        assert_eq!(trust("github.com", false, Some("GitHub, Inc.")), NameTrust::Verified);
        assert_eq!(trust("api.GitHub.com.", false, Some("GitHub, Inc.")), NameTrust::Verified);
        assert_eq!(trust("github.com", false, Some("Gtelecom Pty Ltd")), NameTrust::Contradicted);
        assert_eq!(trust("github.com", true, Some("Gtelecom Pty Ltd")), NameTrust::Contradicted, "any source");
        assert_eq!(trust("www.github.com", false, Some("Fastly, Inc.")), NameTrust::Contradicted);
        assert_eq!(trust("raw.githubusercontent.com", false, Some("Fastly, Inc.")), NameTrust::Verified);
        assert_eq!(trust("rr3---sn-abc.googlevideo.com", false, Some("Hetzner Online GmbH")), NameTrust::Contradicted);
        assert_eq!(trust("rr3---sn-abc.googlevideo.com", false, Some("Google LLC")), NameTrust::Verified);
        // An organisation named to look like the service's does not pass: full match.
        assert_eq!(trust("github.com", false, Some("GitHub, Inc. lookalike")), NameTrust::Contradicted);
        // Not a subdomain: notgithub.com is not github.com.
        assert_eq!(trust("notgithub.com", false, Some("Gtelecom Pty Ltd")), NameTrust::Unverified);
    }

    #[test]
    fn unknown_names_and_owners_stay_unverified_unless_the_system_resolver_said_so() {
        assert_eq!(trust("slack.com", false, Some("Amazon.com, Inc.")), NameTrust::Unverified);
        assert_eq!(trust("github.com", false, None), NameTrust::Unverified, "owner unknown");
        assert_eq!(trust("example.org", true, Some("Whoever")), NameTrust::Trusted);
        assert!(NameTrust::Trusted.decides() && NameTrust::Verified.decides());
        assert!(!NameTrust::Unverified.decides() && !NameTrust::Contradicted.decides());
    }
}
