//! Inbound REST rate-limit rules (§9): per user, per role or for all users, per API (and optionally
//! method and table), counted per hour. Precedence is user > role > all; among several role rules
//! the lowest limit wins. Headers appear only when a rule matches. The platform commits its
//! counters every 30 s so it enforces with some lag; the emulator counts exactly.

use std::collections::HashMap;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::acl::Caller;
use super::errors::SnError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitRule {
    /// Sent as `X-RateLimit-Rule`; generated when empty.
    pub sys_id: String,
    pub name: String,
    /// `table`, `batch` or `any`.
    pub api: String,
    pub method: Option<String>,
    pub table: Option<String>,
    /// The rule applies to this user…
    pub user: Option<String>,
    /// …or to holders of this role; to everybody when neither is set.
    pub role: Option<String>,
    /// Requests per window.
    pub limit: u64,
    /// The platform's window is one hour; shorter windows make tests quick.
    pub window_secs: u64,
}

impl Default for RateLimitRule {
    fn default() -> Self {
        Self {
            sys_id: String::new(),
            name: String::new(),
            api: "table".into(),
            method: None,
            table: None,
            user: None,
            role: None,
            limit: 100,
            window_secs: 3600,
        }
    }
}

pub struct Verdict {
    pub headers: Vec<(&'static str, String)>,
    pub denied: Option<SnError>,
}

/// Requests counted per (rule, user, window start).
type Counters = HashMap<(String, String, i64), u64>;

#[derive(Debug, Default)]
pub struct RateLimits {
    inner: Mutex<(Vec<RateLimitRule>, Counters)>,
}

fn api_label(api: &str) -> &'static str {
    match api {
        "batch" => "Batch API",
        _ => "Table API",
    }
}

impl RateLimits {
    pub fn set(&self, mut rules: Vec<RateLimitRule>) {
        for (i, r) in rules.iter_mut().enumerate() {
            if r.sys_id.is_empty() {
                r.sys_id = format!("{:032x}", 0xa7e_0000_u64 + i as u64);
            }
            r.window_secs = r.window_secs.max(1);
        }
        *self.inner.lock() = (rules, HashMap::new());
    }

    pub fn rules(&self) -> Vec<RateLimitRule> {
        self.inner.lock().0.clone()
    }

    pub fn check(
        &self,
        caller: &Caller,
        api: &str,
        method: &str,
        table: Option<&str>,
        now: i64,
    ) -> Verdict {
        let mut inner = self.inner.lock();
        let (rules, counts) = &mut *inner;
        let applicable: Vec<&RateLimitRule> = rules
            .iter()
            .filter(|r| r.api == "any" || r.api == api)
            .filter(|r| {
                r.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
            })
            .filter(|r| r.table.as_deref().is_none_or(|t| Some(t) == table))
            .collect();
        let lowest = |it: Vec<&RateLimitRule>| it.into_iter().min_by_key(|r| r.limit).cloned();
        let by_user = lowest(
            applicable
                .iter()
                .copied()
                .filter(|r| r.user.as_deref() == Some(caller.user_name.as_str()))
                .collect(),
        );
        let rule = by_user
            .or_else(|| {
                lowest(
                    applicable
                        .iter()
                        .copied()
                        .filter(|r| {
                            r.user.is_none()
                                && r.role.as_deref().is_some_and(|x| caller.roles.contains(x))
                        })
                        .collect(),
                )
            })
            .or_else(|| {
                lowest(
                    applicable
                        .iter()
                        .copied()
                        .filter(|r| r.user.is_none() && r.role.is_none())
                        .collect(),
                )
            });
        let Some(rule) = rule else {
            return Verdict {
                headers: Vec::new(),
                denied: None,
            };
        };

        let window_start = now.div_euclid(rule.window_secs as i64) * rule.window_secs as i64;
        let reset = window_start + rule.window_secs as i64;
        let count = counts
            .entry((rule.sys_id.clone(), caller.user_name.clone(), window_start))
            .or_insert(0);
        *count += 1;
        let headers = vec![
            ("x-ratelimit-limit", rule.limit.to_string()),
            ("x-ratelimit-reset", reset.to_string()),
            ("x-ratelimit-rule", rule.sys_id.clone()),
        ];
        let denied = (*count > rule.limit).then(|| {
            SnError::rate_limited(rule.limit, api_label(api))
                .with_header("retry-after", (reset - now).max(1).to_string())
        });
        Verdict { headers, denied }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn caller(name: &str, roles: &[&str]) -> Caller {
        Caller {
            user_id: String::new(),
            user_name: name.into(),
            name: name.into(),
            roles: roles.iter().map(|r| r.to_string()).collect::<HashSet<_>>(),
            tz: time::UtcOffset::UTC,
        }
    }

    #[test]
    fn user_beats_role_beats_all_and_lowest_role_wins() {
        let rl = RateLimits::default();
        rl.set(vec![
            RateLimitRule {
                sys_id: "all".into(),
                limit: 1000,
                ..Default::default()
            },
            RateLimitRule {
                sys_id: "itil".into(),
                role: Some("itil".into()),
                limit: 50,
                ..Default::default()
            },
            RateLimitRule {
                sys_id: "itil2".into(),
                role: Some("list_updater".into()),
                limit: 20,
                ..Default::default()
            },
            RateLimitRule {
                sys_id: "beth".into(),
                user: Some("beth".into()),
                limit: 500,
                ..Default::default()
            },
        ]);
        let rule_of = |c: &Caller| rl.check(c, "table", "GET", None, 0).headers[2].1.clone();
        assert_eq!(rule_of(&caller("beth", &["itil"])), "beth");
        assert_eq!(rule_of(&caller("abel", &["itil", "list_updater"])), "itil2");
        assert_eq!(rule_of(&caller("abel", &["itil"])), "itil");
        assert_eq!(rule_of(&caller("nora", &[])), "all");
        assert!(
            rl.check(&caller("x", &[]), "batch", "POST", None, 0)
                .headers
                .is_empty()
        );
    }

    #[test]
    fn denies_past_the_limit_until_the_window_resets() {
        let rl = RateLimits::default();
        rl.set(vec![RateLimitRule {
            limit: 2,
            window_secs: 60,
            ..Default::default()
        }]);
        let c = caller("u", &[]);
        assert!(rl.check(&c, "table", "GET", None, 10).denied.is_none());
        assert!(rl.check(&c, "table", "GET", None, 11).denied.is_none());
        let v = rl.check(&c, "table", "GET", None, 12);
        let denied = v.denied.expect("third call denied");
        assert_eq!(denied.status.as_u16(), 429);
        assert_eq!(denied.headers, vec![("retry-after", "48".to_string())]);
        assert_eq!(v.headers[1].1, "60");
        assert!(rl.check(&c, "table", "GET", None, 60).denied.is_none());
    }
}
