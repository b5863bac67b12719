//! A sliding window of byte counts in fixed time slots (a ring of buckets).
//!
//! The window holds the `slots` most recent slots of `slot_us` each, ending with the slot of
//! the newest time seen: with 100 slots of 0.1 s it covers the current slot and the 99 before,
//! i.e. the last 9.9–10.0 s. Expired slots are subtracted exactly (no lost buckets, unlike the
//! legacy daemon's B4). Times that go backwards are counted in the newest slot.

use crate::time::Ts;

#[derive(Clone, Debug)]
pub struct Window {
    buckets: Box<[u32]>,
    slot_us: i64,
    /// Absolute index (time / slot_us) of the newest slot.
    head: i64,
    sum: u64,
}

impl Window {
    pub fn new(slots: usize, slot_us: i64) -> Window {
        Window { buckets: vec![0; slots.max(1)].into_boxed_slice(), slot_us: slot_us.max(1), head: i64::MIN, sum: 0 }
    }

    /// Moves the window so that it ends with the slot of `t`.
    pub fn advance(&mut self, t: Ts) {
        let idx = t.0.div_euclid(self.slot_us);
        if self.head == i64::MIN {
            self.head = idx;
            return;
        }
        if idx <= self.head {
            return;
        }
        let n = self.buckets.len() as i64;
        let steps = (idx - self.head).min(n);
        for i in 1..=steps {
            let pos = (self.head + i).rem_euclid(n) as usize;
            self.sum -= u64::from(self.buckets[pos]);
            self.buckets[pos] = 0;
        }
        self.head = idx;
    }

    /// Adds `bytes` at time `t` (advancing first).
    pub fn add(&mut self, t: Ts, bytes: u32) {
        self.advance(t);
        let pos = self.head.rem_euclid(self.buckets.len() as i64) as usize;
        let b = &mut self.buckets[pos];
        let added = b.saturating_add(bytes) - *b;
        *b += added;
        self.sum += u64::from(added);
    }

    /// Adds another window's bytes (same slot size and count) into this one: the result is
    /// what this window would hold had it also seen the other's traffic.
    pub fn absorb(&mut self, other: &Window) {
        if other.head == i64::MIN || other.buckets.len() != self.buckets.len() {
            return;
        }
        self.advance(Ts(other.head * self.slot_us));
        let n = self.buckets.len() as i64;
        for back in 0..n {
            let idx = other.head - back;
            if idx <= self.head - n {
                break;
            }
            let add = other.buckets[idx.rem_euclid(n) as usize];
            let pos = idx.rem_euclid(n) as usize;
            let added = self.buckets[pos].saturating_add(add) - self.buckets[pos];
            self.buckets[pos] += added;
            self.sum += u64::from(added);
        }
    }

    /// Takes another window's bytes (same slot size and count) out of this one, slot by slot,
    /// never below zero: the inverse of [`Window::absorb`] for bytes this window also counted.
    pub fn subtract(&mut self, other: &Window) {
        if other.head == i64::MIN || self.head == i64::MIN || other.buckets.len() != self.buckets.len() {
            return;
        }
        let n = self.buckets.len() as i64;
        for back in 0..n {
            let idx = other.head - back;
            if idx <= self.head - n || idx > self.head {
                continue;
            }
            let pos = idx.rem_euclid(n) as usize;
            let take = self.buckets[pos].min(other.buckets[pos]);
            self.buckets[pos] -= take;
            self.sum -= u64::from(take);
        }
    }

    /// Bytes inside the window.
    pub fn sum(&self) -> u64 {
        self.sum
    }

    /// Empties the window.
    pub fn clear(&mut self) {
        self.buckets.iter_mut().for_each(|b| *b = 0);
        self.sum = 0;
        self.head = i64::MIN;
    }

    /// Start time of the oldest non-empty slot, if any.
    pub fn oldest_start(&self) -> Option<Ts> {
        if self.head == i64::MIN {
            return None;
        }
        let n = self.buckets.len() as i64;
        (0..n)
            .rev()
            .map(|back| self.head - back)
            .find(|idx| self.buckets[idx.rem_euclid(n) as usize] > 0)
            .map(|idx| Ts(idx * self.slot_us))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_expire_exactly() {
        let mut w = Window::new(100, 100_000);
        for i in 0..200 {
            w.add(Ts(i * 100_000), 10);
            assert_eq!(w.sum(), 10 * (i as u64 + 1).min(100));
        }
        w.advance(Ts(199 * 100_000 + 10_000_000));
        assert_eq!(w.sum(), 0);
    }

    #[test]
    fn absorbing_adds_the_overlapping_slots_only() {
        let mut a = Window::new(10, 1_000_000);
        let mut b = Window::new(10, 1_000_000);
        a.add(Ts(20_000_000), 5);
        b.add(Ts(5_000_000), 100); // outside a's window once aligned
        b.add(Ts(15_000_000), 7);
        b.add(Ts(21_000_000), 1);
        a.absorb(&b);
        assert_eq!(a.sum(), 5 + 7 + 1);
        a.advance(Ts(30_000_000)); // the window now holds slots 21..=30
        assert_eq!(a.sum(), 1, "slots age out as usual after absorbing");
    }

    #[test]
    fn subtracting_takes_out_the_overlapping_slots_never_below_zero() {
        let mut a = Window::new(10, 1_000_000);
        let mut b = Window::new(10, 1_000_000);
        a.add(Ts(20_000_000), 5);
        a.add(Ts(21_000_000), 50);
        b.add(Ts(5_000_000), 100); // long gone from a's window
        b.add(Ts(20_000_000), 9);
        b.add(Ts(21_000_000), 20);
        a.subtract(&b);
        assert_eq!(a.sum(), 30);
        assert_eq!(a.oldest_start(), Some(Ts(21_000_000)));
    }

    #[test]
    fn backwards_time_counts_in_newest_slot() {
        let mut w = Window::new(10, 1_000_000);
        w.add(Ts(5_000_000), 1);
        w.add(Ts(4_000_000), 2);
        assert_eq!(w.sum(), 3);
        assert_eq!(w.oldest_start(), Some(Ts(5_000_000)));
    }
}
