//! When to try a failed integration again: exponential backoff with jitter, capped, and never
//! sooner than the vendor asked (`Retry-After`). Pure, so it is tested without a clock.

use std::time::Duration;

/// The delay before the next attempt after `failures` consecutive failures (1 = the first).
/// `jitter` in `0.0..=1.0` spreads retries of many integrations that failed together: the delay
/// is scaled into `[0.5, 1.0]` of the exponential step.
pub fn retry_delay(
    failures: u32,
    base: Duration,
    max: Duration,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Duration {
    let exponent = failures.saturating_sub(1).min(20);
    let step = base.saturating_mul(1u32 << exponent).min(max);
    let jittered = step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
    match retry_after {
        Some(asked) => jittered.max(asked),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(10);
    const MAX: Duration = Duration::from_secs(900);

    #[test]
    fn doubles_per_failure_up_to_the_cap() {
        let d = |n| retry_delay(n, BASE, MAX, None, 1.0);
        assert_eq!(d(1), Duration::from_secs(10));
        assert_eq!(d(2), Duration::from_secs(20));
        assert_eq!(d(4), Duration::from_secs(80));
        assert_eq!(d(10), MAX);
        assert_eq!(d(u32::MAX), MAX);
    }

    #[test]
    fn jitter_only_shortens_and_retry_after_is_a_floor() {
        assert_eq!(retry_delay(1, BASE, MAX, None, 0.0), Duration::from_secs(5));
        let asked = Duration::from_secs(120);
        assert_eq!(retry_delay(1, BASE, MAX, Some(asked), 0.3), asked);
        assert_eq!(
            retry_delay(8, BASE, MAX, Some(asked), 1.0),
            Duration::from_secs(900)
        );
    }
}
