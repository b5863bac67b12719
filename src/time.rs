//! Packet time: the one clock every decision uses.
//!
//! Timestamps are microseconds since the Unix epoch, taken from the pcap header (replay) or
//! from the capture (live). Nothing in the engine reads the wall clock, so replaying a capture
//! gives the same alerts every run.

use std::fmt;

/// A point in packet time, in microseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub i64);

/// One second in [`Ts`] units.
pub const SECOND: i64 = 1_000_000;

impl Ts {
    /// Builds a timestamp from seconds and microseconds (a pcap `timeval`).
    pub fn from_timeval(sec: i64, usec: i64) -> Ts {
        Ts(sec.saturating_mul(SECOND).saturating_add(usec))
    }

    /// Builds a timestamp from (fractional) seconds; handy in tests.
    pub fn from_secs_f64(s: f64) -> Ts {
        Ts((s * SECOND as f64).round() as i64)
    }

    /// Seconds as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / SECOND as f64
    }

    /// `self - earlier` in microseconds (negative if `earlier` is later).
    pub fn micros_since(self, earlier: Ts) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// `self - earlier` in seconds.
    pub fn secs_since(self, earlier: Ts) -> f64 {
        self.micros_since(earlier) as f64 / SECOND as f64
    }

    /// This time plus `micros`.
    pub fn plus_micros(self, micros: i64) -> Ts {
        Ts(self.0.saturating_add(micros))
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2016-04-07T10:07:31.123Z`.
    pub fn rfc3339(self) -> String {
        match chrono::DateTime::from_timestamp_micros(self.0) {
            Some(dt) => dt.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            None => format!("@{}us", self.0),
        }
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_with_millis() {
        assert_eq!(Ts::from_timeval(0, 1_500).rfc3339(), "1970-01-01T00:00:00.001Z");
        assert_eq!(Ts::from_secs_f64(1.25).micros_since(Ts(0)), 1_250_000);
    }
}
