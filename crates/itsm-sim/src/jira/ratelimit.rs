//! Rate limits as Cloud applies them to API-token traffic (reference A8): a burst budget per
//! account (`RateLimit-Reason: jira-burst-based`) and a write budget per issue
//! (`jira-per-issue-on-write`). Fixed windows on the emulator clock, so tests move time instead of
//! sleeping. Real budgets are not published (third-party figures are unconfirmed); tests set them.

use std::collections::BTreeMap;

use http::StatusCode;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

use super::errors::JiraError;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// Requests per account (all accounts when `account_id` is absent, each counted separately).
    #[default]
    Burst,
    /// Writes to one issue, whoever writes.
    PerIssueWrite,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JiraRateLimit {
    pub kind: LimitKind,
    pub account_id: Option<String>,
    pub limit: u32,
    pub window_secs: u64,
    /// `Retry-After` on a 429; the rest of the window when absent.
    pub retry_after_secs: Option<u64>,
}

impl Default for JiraRateLimit {
    fn default() -> Self {
        Self {
            kind: LimitKind::Burst,
            account_id: None,
            limit: 100,
            window_secs: 1,
            retry_after_secs: None,
        }
    }
}

#[derive(Default)]
pub struct Verdict {
    pub denied: Option<JiraError>,
    pub headers: Vec<(String, String)>,
}

/// Requests counted per (rule index, account or issue, window start).
type Counts = BTreeMap<(usize, String, i64), u32>;

#[derive(Debug, Default)]
pub struct RateLimits {
    state: Mutex<(Vec<JiraRateLimit>, Counts)>,
}

fn reset_header(at: i64) -> String {
    OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]Z"))
                .ok()
        })
        .unwrap_or_default()
}

impl RateLimits {
    pub fn set(&self, rules: Vec<JiraRateLimit>) {
        *self.state.lock() = (rules, BTreeMap::new());
    }

    pub fn list(&self) -> Vec<JiraRateLimit> {
        self.state.lock().0.clone()
    }

    /// Counts this request against every matching rule; the first exhausted one denies it.
    pub fn check(&self, account_id: &str, write_to_issue: Option<u64>, now: i64) -> Verdict {
        let mut guard = self.state.lock();
        let (rules, counts) = &mut *guard;
        let mut verdict = Verdict::default();
        for (i, rule) in rules.iter().enumerate() {
            let key = match rule.kind {
                LimitKind::Burst if rule.account_id.as_deref().is_none_or(|a| a == account_id) => {
                    account_id.to_string()
                }
                LimitKind::PerIssueWrite => match write_to_issue {
                    Some(id) => id.to_string(),
                    None => continue,
                },
                LimitKind::Burst => continue,
            };
            let window = rule.window_secs.max(1) as i64;
            let start = now - now.rem_euclid(window);
            let used = counts.entry((i, key, start)).or_insert(0);
            let reason = match rule.kind {
                LimitKind::Burst => "jira-burst-based",
                LimitKind::PerIssueWrite => "jira-per-issue-on-write",
            };
            if *used >= rule.limit {
                let retry = rule
                    .retry_after_secs
                    .unwrap_or((start + window - now).max(1) as u64);
                // The 429 body is not documented; Jira's envelope with a plain message.
                let e = JiraError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.")
                    .with_header("retry-after", retry.to_string())
                    .with_header("x-ratelimit-limit", rule.limit.to_string())
                    .with_header("x-ratelimit-remaining", "0")
                    .with_header("x-ratelimit-reset", reset_header(start + window))
                    .with_header("ratelimit-reason", reason);
                verdict.denied = Some(e);
                return verdict;
            }
            *used += 1;
            let remaining = rule.limit - *used;
            verdict.headers = vec![
                ("x-ratelimit-limit".into(), rule.limit.to_string()),
                ("x-ratelimit-remaining".into(), remaining.to_string()),
            ];
            if remaining * 5 < rule.limit {
                verdict
                    .headers
                    .push(("x-ratelimit-nearlimit".into(), "true".into()));
            }
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_limit_is_per_account_and_resets_with_the_window() {
        let rl = RateLimits::default();
        rl.set(vec![JiraRateLimit {
            limit: 2,
            window_secs: 10,
            ..JiraRateLimit::default()
        }]);
        assert!(rl.check("a", None, 100).denied.is_none());
        assert!(rl.check("a", None, 101).denied.is_none());
        let denied = rl.check("a", None, 102).denied.expect("third is denied");
        assert_eq!(denied.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(denied.headers.contains(&("retry-after".into(), "8".into())));
        assert!(rl.check("b", None, 102).denied.is_none(), "other account");
        assert!(rl.check("a", None, 110).denied.is_none(), "next window");
    }

    #[test]
    fn per_issue_write_limit_counts_writes_to_one_issue() {
        let rl = RateLimits::default();
        rl.set(vec![JiraRateLimit {
            kind: LimitKind::PerIssueWrite,
            limit: 1,
            window_secs: 2,
            ..JiraRateLimit::default()
        }]);
        assert!(rl.check("a", Some(1), 0).denied.is_none());
        assert!(rl.check("b", Some(2), 0).denied.is_none());
        assert!(rl.check("a", None, 0).denied.is_none(), "reads are free");
        let e = rl.check("b", Some(1), 1).denied.expect("denied");
        assert!(
            e.headers
                .contains(&("ratelimit-reason".into(), "jira-per-issue-on-write".into()))
        );
    }
}
