//! When to hedge and how long to back off: the recent answer times of one upstream, and the jittered
//! backoff used when the upstream names no `Retry-After`.
//!
//! Hedging follows "The Tail at Scale" (Dean & Barroso): an attempt that has not answered after the
//! 95th percentile of recent answer times is probably stuck (a hung connection, a slow backend), so a
//! second attempt is sent beside it and the first good answer wins. The delay is measured from the moment
//! the attempt left the rate limiter, so waiting for the rate never triggers a hedge; it never goes below
//! the upstream's floor (so a fast upstream is not hedged at every hiccup) nor above the attempt's
//! time-to-headers budget (past which the attempt is abandoned anyway). Until enough answers are seen, the
//! delay is `max(floor, COLD_DELAY)`.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// How many recent answer times are kept.
const WINDOW: usize = 64;
/// How many are needed before the percentile is trusted.
const MIN_SAMPLES: usize = 8;
/// The hedge delay of an upstream with too few answers seen yet.
const COLD_DELAY: Duration = Duration::from_secs(1);

/// The recent answer times of one upstream, and the hedge delay they give.
pub(crate) struct Latencies {
    floor: Duration,
    cap: Duration,
    samples: Mutex<VecDeque<Duration>>,
}

impl Latencies {
    /// `floor` zero disables hedging; `cap` is the attempt's time-to-headers budget.
    pub(crate) fn new(floor: Duration, cap: Duration) -> Self {
        Self { floor, cap, samples: Mutex::new(VecDeque::with_capacity(WINDOW)) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Duration>> {
        self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records the time of one good answer (from leaving the rate limiter to the end of the body).
    pub(crate) fn record(&self, took: Duration) {
        let mut samples = self.lock();
        if samples.len() == WINDOW {
            samples.pop_front();
        }
        samples.push_back(took);
    }

    /// How long an attempt may go without an answer before a hedge is sent; `None` when hedging is off.
    pub(crate) fn hedge_delay(&self) -> Option<Duration> {
        if self.floor.is_zero() {
            return None;
        }
        let samples = self.lock();
        let delay = if samples.len() < MIN_SAMPLES {
            COLD_DELAY
        } else {
            let mut sorted: Vec<Duration> = samples.iter().copied().collect();
            sorted.sort_unstable();
            sorted[((sorted.len() - 1) as f64 * 0.95).round() as usize]
        };
        Some(delay.max(self.floor).min(self.cap))
    }
}

/// The wait before retry number `failures` (1-based) when the upstream named none: exponential from
/// `base`, capped at `max`, with equal jitter (between half and all of the step), so that calls failing
/// together do not come back together.
pub(crate) fn backoff(base: Duration, max: Duration, failures: u32) -> Duration {
    let step = base.saturating_mul(1u32 << failures.saturating_sub(1).min(16)).min(max);
    step / 2 + step.mul_f64(rand::random::<f64>() / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn cold_then_the_p95_within_floor_and_cap() {
        let l = Latencies::new(300 * MS, 5000 * MS);
        assert_eq!(l.hedge_delay(), Some(COLD_DELAY), "too few answers seen");
        for _ in 0..60 {
            l.record(10 * MS);
        }
        assert_eq!(l.hedge_delay(), Some(300 * MS), "a fast upstream is hedged at the floor");
        for _ in 0..10 {
            l.record(2000 * MS);
        }
        assert_eq!(l.hedge_delay(), Some(2000 * MS), "the p95 of a slow tail");
        for _ in 0..WINDOW {
            l.record(9000 * MS);
        }
        assert_eq!(l.hedge_delay(), Some(5000 * MS), "never past the time-to-headers budget");
        assert_eq!(Latencies::new(Duration::ZERO, 5000 * MS).hedge_delay(), None, "floor 0 = off");
    }

    #[test]
    fn backoff_grows_with_equal_jitter_and_stops_at_the_cap() {
        for (failures, step) in [(1, 100), (2, 200), (3, 400), (6, 2000), (40, 2000)] {
            for _ in 0..50 {
                let wait = backoff(100 * MS, 2000 * MS, failures);
                assert!(wait >= step * MS / 2 && wait <= step * MS, "{failures}: {wait:?}");
            }
        }
    }
}
