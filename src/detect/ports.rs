//! Which port carried most of a threat's bytes, in fixed space (no allocation per packet).

/// Byte counts for up to `N` ports; when full, a new port replaces the one with the fewest
/// bytes (a heavy-hitters approximation that is exact for up to `N` ports).
#[derive(Clone, Copy, Debug, Default)]
pub struct PortTally {
    slots: [(u16, u64); 4],
}

impl PortTally {
    pub fn add(&mut self, port: u16, bytes: u64) {
        if let Some(s) = self.slots.iter_mut().find(|s| s.1 > 0 && s.0 == port) {
            s.1 += bytes;
            return;
        }
        let min = self.slots.iter_mut().min_by_key(|s| s.1).expect("four slots");
        *min = (port, min.1 + bytes.max(1));
    }

    /// Adds another tally's counts.
    pub fn absorb(&mut self, other: &PortTally) {
        for &(port, bytes) in other.slots.iter().filter(|s| s.1 > 0) {
            self.add(port, bytes);
        }
    }

    /// The port with the most bytes; ties go to the lower port; 0 when empty.
    pub fn dominant(&self) -> u16 {
        self.slots.iter().filter(|s| s.1 > 0).max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map_or(0, |s| s.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominant_is_max_with_low_port_tie_break() {
        let mut t = PortTally::default();
        t.add(8080, 10);
        t.add(80, 10);
        assert_eq!(t.dominant(), 80);
        t.add(8080, 1);
        assert_eq!(t.dominant(), 8080);
    }
}
