//! When to retry a vendor call and how long to wait. Pure functions, so the policy is tested
//! without a network.
//!
//! Safety rules:
//! - `429` is retried for every request: the vendor refused it without processing it.
//! - `503` is retried for every request: "service unavailable" means the request was not run
//!   (ServiceNow answers 503 for node and semaphore exhaustion and maintenance).
//! - `502` and `504`, timeouts and connections dropped mid-request are ambiguous (the vendor may
//!   have done the work), so they are retried only for idempotent requests.
//! - A failure to connect is retried for every request: nothing was sent.
//!
//! A `Retry-After` is honoured exactly (plus a little jitter) when it is within the cap; a longer
//! one stops the retries so the caller can schedule the work later instead of holding a worker.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};
use rand::Rng;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// Retry and backoff settings of the executor.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = no retries).
    pub max_attempts: u32,
    /// First backoff step; doubled per attempt.
    pub base_delay: Duration,
    /// Upper bound of a computed backoff step.
    pub max_delay: Duration,
    /// Longest `Retry-After` we wait for inside one call.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            retry_after_cap: Duration::from_secs(30),
        }
    }
}

/// What went wrong with one attempt, as far as the retry decision cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptFailure {
    Status(StatusCode),
    /// Could not connect (DNS, refused, TLS handshake): the request was never sent.
    Connect,
    /// Timed out or the connection dropped after the request may have been sent.
    Ambiguous,
    /// The destination guard refused the address: retrying cannot help, the allow-list must
    /// change.
    Refused,
}

/// The decision after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    RetryAfter(Duration),
    GiveUp,
}

impl RetryPolicy {
    /// Decides whether attempt number `attempt` (1-based) is followed by another, and after how
    /// long. `retry_after` is the vendor's hint from the failed response.
    pub fn decide(
        &self,
        attempt: u32,
        failure: AttemptFailure,
        idempotent: bool,
        retry_after: Option<Duration>,
    ) -> RetryDecision {
        if attempt >= self.max_attempts {
            return RetryDecision::GiveUp;
        }
        let retryable = match failure {
            AttemptFailure::Status(s) => match s.as_u16() {
                429 | 503 => true,
                502 | 504 => idempotent,
                _ => false,
            },
            AttemptFailure::Connect => true,
            AttemptFailure::Ambiguous => idempotent,
            AttemptFailure::Refused => false,
        };
        if !retryable {
            return RetryDecision::GiveUp;
        }
        match retry_after {
            Some(hint) if hint > self.retry_after_cap => RetryDecision::GiveUp,
            Some(hint) => RetryDecision::RetryAfter(hint + jitter(hint / 10)),
            None => RetryDecision::RetryAfter(self.backoff(attempt)),
        }
    }

    /// Exponential backoff with "equal jitter": half of the step is fixed, half random, so
    /// clients that failed together do not retry together, yet every wait has a floor.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let step = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let half = step / 2;
        half + jitter(half)
    }
}

fn jitter(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

/// The wait a response asks for: `Retry-After` as seconds or an HTTP date; failing that
/// ServiceNow's `X-RateLimit-Reset` (unix seconds of the next window) on a 429.
pub fn retry_after(headers: &HeaderMap, status: StatusCode, now: SystemTime) -> Option<Duration> {
    if let Some(v) = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
    {
        return parse_retry_after(v, now);
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let reset = headers
            .get("x-ratelimit-reset")?
            .to_str()
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()?;
        let reset = SystemTime::UNIX_EPOCH + Duration::from_secs(reset);
        return Some(reset.duration_since(now).unwrap_or(Duration::ZERO));
    }
    None
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    let now = OffsetDateTime::from(now);
    let wait = at - now;
    Some(if wait.is_negative() {
        Duration::ZERO
    } else {
        wait.unsigned_abs()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            retry_after_cap: Duration::from_secs(10),
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let p = policy();
        for _ in 0..200 {
            let d1 = p.backoff(1);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d3 = p.backoff(3);
            assert!(
                d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400),
                "{d3:?}"
            );
            let d30 = p.backoff(30);
            assert!(d30 >= Duration::from_millis(500) && d30 <= Duration::from_millis(1000));
        }
        let samples: std::collections::HashSet<_> = (0..50).map(|_| p.backoff(2)).collect();
        assert!(samples.len() > 1, "backoff must be jittered");
    }

    #[test]
    fn only_safe_failures_are_retried() {
        let p = policy();
        let s = |c: u16| AttemptFailure::Status(StatusCode::from_u16(c).unwrap());
        let retries = |f, idem| matches!(p.decide(1, f, idem, None), RetryDecision::RetryAfter(_));
        assert!(retries(s(429), false) && retries(s(503), false));
        assert!(retries(s(502), true) && !retries(s(502), false));
        assert!(retries(s(504), true) && !retries(s(504), false));
        assert!(!retries(s(500), true) && !retries(s(401), true) && !retries(s(404), true));
        assert!(retries(AttemptFailure::Connect, false));
        assert!(!retries(AttemptFailure::Refused, true));
        assert!(
            retries(AttemptFailure::Ambiguous, true) && !retries(AttemptFailure::Ambiguous, false)
        );
        assert_eq!(p.decide(4, s(429), true, None), RetryDecision::GiveUp);
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let p = policy();
        match p.decide(
            1,
            AttemptFailure::Status(StatusCode::TOO_MANY_REQUESTS),
            false,
            Some(Duration::from_secs(2)),
        ) {
            RetryDecision::RetryAfter(d) => {
                assert!(
                    d >= Duration::from_secs(2) && d <= Duration::from_millis(2200),
                    "{d:?}"
                )
            }
            other => panic!("{other:?}"),
        }
        let long = Some(Duration::from_secs(11));
        assert_eq!(
            p.decide(
                1,
                AttemptFailure::Status(StatusCode::TOO_MANY_REQUESTS),
                false,
                long
            ),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn retry_after_parses_seconds_dates_and_rate_limit_reset() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06 08:49:37Z
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);

        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", "784111800".parse().unwrap());
        assert_eq!(
            retry_after(&h, StatusCode::TOO_MANY_REQUESTS, now),
            Some(Duration::from_secs(23))
        );
        assert_eq!(retry_after(&h, StatusCode::SERVICE_UNAVAILABLE, now), None);
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(
            retry_after(&h, StatusCode::SERVICE_UNAVAILABLE, now),
            Some(Duration::from_secs(7))
        );
    }
}
