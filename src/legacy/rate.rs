//! How fast the legacy socket may change ignores: a token bucket shared by every client, so
//! that one local program cannot rewrite `ignores.user.json` (with an fsync each time) and raise
//! an announcement per change as fast as it can send lines, however many connections it opens.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Changes allowed at once, and then per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeRate {
    pub burst: u32,
    pub per_second: u32,
}

impl ChangeRate {
    /// No limit (for tests that fill the ignore list in one go).
    pub const UNLIMITED: ChangeRate = ChangeRate { burst: u32::MAX, per_second: u32::MAX };
}

impl Default for ChangeRate {
    /// A person clicking "ignore" in a GUI never comes near it; a script adding a list of
    /// ignores is slowed down, not refused outright (it can retry after the wait it is told).
    fn default() -> Self {
        ChangeRate { burst: 30, per_second: 5 }
    }
}

/// The shared bucket.
#[derive(Debug)]
pub struct ChangeLimiter {
    rate: ChangeRate,
    /// Tokens left and when they were last counted.
    state: Mutex<(f64, Instant)>,
    /// When a refusal was last announced, and refusals since then not yet announced.
    announced: Mutex<(Option<Instant>, u64)>,
}

impl ChangeLimiter {
    pub fn new(rate: ChangeRate) -> ChangeLimiter {
        ChangeLimiter {
            rate,
            state: Mutex::new((f64::from(rate.burst), Instant::now())),
            announced: Mutex::new((None, 0)),
        }
    }

    pub fn rate(&self) -> ChangeRate {
        self.rate
    }

    /// Whether a refusal at `now` is announced, and then how many refusals it stands for (this
    /// one and those held back since the last announcement): at most one announcement a
    /// second, so every refusal is seen (a person whose click was refused because a script
    /// holds the limit learns it) without a flood of refusals becoming a flood of lines.
    pub fn announce_refusal(&self, now: Instant) -> Option<u64> {
        let mut a = self.announced.lock().unwrap_or_else(|p| p.into_inner());
        a.1 += 1;
        if a.0.is_some_and(|t| now.saturating_duration_since(t) < Duration::from_secs(1)) {
            return None;
        }
        a.0 = Some(now);
        Some(std::mem::take(&mut a.1))
    }

    /// Takes one change at `now`, or says how long until the next one is allowed.
    pub fn take(&self, now: Instant) -> Result<(), Duration> {
        if self.rate == ChangeRate::UNLIMITED {
            return Ok(());
        }
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let per_second = f64::from(self.rate.per_second.max(1));
        let elapsed = now.saturating_duration_since(s.1).as_secs_f64();
        s.0 = (s.0 + elapsed * per_second).min(f64::from(self.rate.burst));
        s.1 = now.max(s.1);
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - s.0) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let l = ChangeLimiter::new(ChangeRate { burst: 3, per_second: 2 });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take(t0), Ok(()));
        }
        let wait = l.take(t0).expect_err("the burst is used up");
        assert_eq!(wait, Duration::from_millis(500));
        assert!(l.take(t0 + Duration::from_millis(400)).is_err());
        assert_eq!(l.take(t0 + Duration::from_millis(500)), Ok(()));
        // A long pause refills the burst, not more.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(l.take(later), Ok(()));
        }
        assert!(l.take(later).is_err());
        // Time going backwards takes nothing and gives nothing.
        assert!(l.take(t0).is_err());
    }

    #[test]
    fn refusals_are_announced_at_most_once_a_second_with_how_many() {
        let l = ChangeLimiter::new(ChangeRate::default());
        let t0 = Instant::now();
        assert_eq!(l.announce_refusal(t0), Some(1));
        for ms in [1, 300, 999] {
            assert_eq!(l.announce_refusal(t0 + Duration::from_millis(ms)), None);
        }
        assert_eq!(l.announce_refusal(t0 + Duration::from_secs(1)), Some(4), "three held back, and this one");
        assert_eq!(l.announce_refusal(t0 + Duration::from_secs(60)), Some(1));
    }

    #[test]
    fn unlimited_never_refuses() {
        let l = ChangeLimiter::new(ChangeRate::UNLIMITED);
        let t0 = Instant::now();
        assert!((0..100_000).all(|_| l.take(t0).is_ok()));
    }
}
