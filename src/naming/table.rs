//! The bounded map from address (and whom the name is for) to the name last learned for it.
//!
//! Only DNS answers and reverse DNS are kept here: a TLS SNI or HTTP Host names its own
//! connection (`flows::Flow::name`), never the address. A DNS answer to a program's own resolver
//! is kept under that program's [`NameScope`], so it names the address for that program only.

use super::{NameFact, NameScope, NameSource};
use crate::bounded::BoundedMap;
use crate::time::{SECOND, Ts};
use std::net::IpAddr;

/// Default number of addresses remembered (7/8 of a power of two: see `crate::bounded`).
pub const NAME_TABLE_CAPACITY: usize = 57_344;
/// After this much packet time a name may be replaced by a less trustworthy one.
pub const NAME_STALE_AFTER: i64 = 3600 * SECOND;

#[derive(Clone, Debug)]
struct Entry {
    name: String,
    source: NameSource,
    learned: Ts,
}

/// Trust tier of a source: lower is more trustworthy. SNI and HTTP Host are both sent by the
/// program itself, so they rank the same.
fn tier(s: NameSource) -> u8 {
    match s {
        NameSource::Sni | NameSource::HttpHost => 0,
        NameSource::Dns => 1,
        NameSource::ReverseDns => 2,
    }
}

/// Address → (name, source, learned-at), bounded: beyond capacity a name neither learned nor
/// looked up (for an alert or a reported flow) since the CLOCK hand last passed is evicted, so
/// the names of destinations in use stay while a flood of DNS answers churns through.
pub struct NameTable {
    map: BoundedMap<(IpAddr, NameScope), Entry>,
}

impl Default for NameTable {
    fn default() -> Self {
        NameTable::new(NAME_TABLE_CAPACITY)
    }
}

impl NameTable {
    pub fn new(capacity: usize) -> NameTable {
        NameTable { map: BoundedMap::new(capacity.max(1)) }
    }

    /// Learns `fact` for `scope` at packet time `now`. An existing name is replaced (or
    /// refreshed) only by a source at least as trustworthy, or once it is older than an hour of
    /// packet time.
    pub fn insert(&mut self, fact: NameFact, scope: NameScope, now: Ts) {
        let key = (fact.ip, scope);
        if let Some(e) = self.map.get_mut(&key) {
            let stale = now.micros_since(e.learned) > NAME_STALE_AFTER;
            if stale || tier(fact.source) <= tier(e.source) {
                *e = Entry { name: fact.name, source: fact.source, learned: now };
            }
            return;
        }
        let entry = Entry { name: fact.name, source: fact.source, learned: now };
        self.map.get_or_insert_with(key, |_, _| true, |_, _| {}, |_| entry);
    }

    /// The name a program in `scope` knows `ip` by, with its source and scope (marks it as
    /// used): the name for everyone or the one for `scope`, the more trustworthy source first,
    /// the name for everyone on a tie.
    pub fn lookup(&self, ip: IpAddr, scope: NameScope) -> Option<(&str, NameSource, NameScope)> {
        let everyone = self.map.get(&(ip, NameScope::Everyone));
        let own = if scope == NameScope::Everyone { None } else { self.map.get(&(ip, scope)) };
        let pick = match (everyone, own) {
            (Some(e), Some(o)) if tier(o.source) < tier(e.source) => Some((o, scope)),
            (Some(e), _) => Some((e, NameScope::Everyone)),
            (None, Some(o)) => Some((o, scope)),
            (None, None) => None,
        };
        pick.map(|(e, sc)| (e.name.as_str(), e.source, sc))
    }

    /// The name known for `ip` in exactly `scope`, with where it came from and when it was
    /// learned.
    pub fn get(&self, ip: IpAddr, scope: NameScope) -> Option<(&str, NameSource, Ts)> {
        self.map.get(&(ip, scope)).map(|e| (e.name.as_str(), e.source, e.learned))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Most addresses held at once.
    pub fn capacity(&self) -> usize {
        self.map.capacity()
    }

    /// Most addresses held at once so far.
    pub fn peak(&self) -> usize {
        self.map.peak()
    }

    /// Names evicted to make room for new ones (the table was full).
    pub fn evicted(&self) -> u64 {
        self.map.evicted()
    }

    /// Bytes a full table of `capacity` names takes, counting `avg_name` bytes per name.
    pub fn bytes_when_full(capacity: usize, avg_name: usize) -> usize {
        BoundedMap::<(IpAddr, NameScope), Entry>::bytes_when_full(capacity) + capacity * avg_name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fact(ip: &str, name: &str, source: NameSource) -> NameFact {
        NameFact { ip: ip.parse().unwrap(), name: name.into(), source, conn: None }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const ALL: NameScope = NameScope::Everyone;

    trait Insert {
        fn put(&mut self, f: NameFact, now: Ts);
        fn name(&self, ip: IpAddr) -> Option<&str>;
    }

    impl Insert for NameTable {
        fn put(&mut self, f: NameFact, now: Ts) {
            self.insert(f, ALL, now)
        }
        fn name(&self, ip: IpAddr) -> Option<&str> {
            self.lookup(ip, ALL).map(|(n, _, _)| n)
        }
    }

    #[test]
    fn a_programs_own_answer_names_the_address_for_it_only() {
        let mut t = NameTable::default();
        let mine = NameScope::Program(7);
        t.insert(fact("1.2.3.4", "www.github.com", NameSource::Dns), mine, Ts(0));
        assert_eq!(t.lookup(ip("1.2.3.4"), mine), Some(("www.github.com", NameSource::Dns, mine)));
        assert_eq!(t.lookup(ip("1.2.3.4"), NameScope::Program(8)), None, "another program");
        assert_eq!(t.lookup(ip("1.2.3.4"), NameScope::Unattributed), None, "an unknown program");
        assert_eq!(t.lookup(ip("1.2.3.4"), ALL), None, "everyone");
        // The system resolver's answer wins a tie; reverse DNS does not beat the program's own.
        t.insert(fact("1.2.3.4", "rev.example", NameSource::ReverseDns), ALL, Ts(1));
        assert_eq!(t.lookup(ip("1.2.3.4"), mine).map(|l| l.0), Some("www.github.com"));
        assert_eq!(t.lookup(ip("1.2.3.4"), NameScope::Program(8)).map(|l| l.0), Some("rev.example"));
        t.insert(fact("1.2.3.4", "sys.example", NameSource::Dns), ALL, Ts(2));
        assert_eq!(t.lookup(ip("1.2.3.4"), mine), Some(("sys.example", NameSource::Dns, ALL)));
    }

    #[test]
    fn trust_order_and_staleness() {
        let mut t = NameTable::default();
        t.put(fact("1.2.3.4", "dns.example", NameSource::Dns), Ts(0));
        assert_eq!(t.name(ip("1.2.3.4")), Some("dns.example"));
        t.put(fact("1.2.3.4", "sni.example", NameSource::Sni), Ts(1));
        assert_eq!(t.name(ip("1.2.3.4")), Some("sni.example"));
        t.put(fact("1.2.3.4", "host.example", NameSource::HttpHost), Ts(2));
        assert_eq!(t.name(ip("1.2.3.4")), Some("host.example"), "same tier replaces");
        t.put(fact("1.2.3.4", "other.example", NameSource::Dns), Ts(3));
        assert_eq!(t.name(ip("1.2.3.4")), Some("host.example"), "DNS does not beat Host");
        t.put(fact("1.2.3.4", "rev.example", NameSource::ReverseDns), Ts(2 + NAME_STALE_AFTER + 1));
        assert_eq!(t.get(ip("1.2.3.4"), ALL).unwrap().0, "rev.example", "an hour-old name gives way");
        assert_eq!(t.name(ip("9.9.9.9")), None);
    }

    #[test]
    fn evicts_the_oldest() {
        let mut t = NameTable::new(3);
        for (i, a) in ["1.0.0.1", "1.0.0.2", "1.0.0.3"].iter().enumerate() {
            t.put(fact(a, "a", NameSource::Dns), Ts(i as i64));
        }
        t.put(fact("1.0.0.1", "b", NameSource::Dns), Ts(5)); // renamed: used again
        t.put(fact("1.0.0.4", "c", NameSource::Dns), Ts(6));
        assert_eq!(t.len(), 3);
        assert_eq!(t.name(ip("1.0.0.2")), None);
        assert_eq!(t.name(ip("1.0.0.1")), Some("b"));
        assert_eq!(t.name(ip("1.0.0.4")), Some("c"));
        assert_eq!(t.evicted(), 1);
        // A name looked up (for an alert) outlives names learned after it but never used.
        for (i, a) in ["1.0.0.5", "1.0.0.6", "1.0.0.7", "1.0.0.8"].iter().enumerate() {
            assert_eq!(t.name(ip("1.0.0.4")), Some("c"));
            t.put(fact(a, "d", NameSource::Dns), Ts(7 + i as i64));
        }
        assert_eq!(t.name(ip("1.0.0.4")), Some("c"));
    }

    proptest! {
        #[test]
        fn stays_bounded(ops in proptest::collection::vec((0u8..20, 0u8..4, 0u8..3), 0..400)) {
            let mut t = NameTable::new(8);
            for (i, (a, n, s)) in ops.into_iter().enumerate() {
                let source = [NameSource::Sni, NameSource::Dns, NameSource::ReverseDns][usize::from(s)];
                t.insert(NameFact { ip: IpAddr::from([10, 0, 0, a]), name: format!("n{n}"), source, conn: None }, NameScope::Everyone, Ts(i as i64));
                prop_assert!(t.len() <= 8);
            }
        }
    }
}
