//! Fault injection, per endpoint and switchable at run time (`PUT /_sim/faults`).
//!
//! A rule matches on method and path prefix; the first matching rule decides. It can add latency
//! (fixed plus jitter), answer with an injected error at some rate, or drop the connection without
//! an answer at some rate. The injected errors are the ones a real instance or its front end
//! produces (§7.4, §9 and §13 of the reference): 502/503 HTML pages, a hibernating instance (200 with
//! an HTML page), semaphore-exhaustion 429s without rate-limit headers, and the transaction-timeout
//! text. The control API (`/_sim/…`) is never faulted.

use std::time::Duration;

use axum::body::Body;
use http::{HeaderValue, Method, Response, StatusCode, header};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::rng::SimRng;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultRule {
    /// Only requests with this method (`GET`, `POST`, …); any method when absent.
    pub method: Option<String>,
    /// Path prefix, e.g. `/api/now/table/incident` or `/oauth_token.do`. Empty matches every path.
    pub path_prefix: String,
    /// Added to every matching request before anything else happens.
    pub latency_ms: u64,
    /// Uniform extra latency in `0..=latency_jitter_ms`.
    pub latency_jitter_ms: u64,
    /// Probability (0..=1) that a matching request is answered with `error` instead of being served.
    pub error_rate: f64,
    pub error: InjectedError,
    /// Probability (0..=1) that the connection is closed without any response.
    pub reset_rate: f64,
    /// The rule applies to at most this many matching requests, then it is spent. Unlimited when absent.
    pub times: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InjectedError {
    /// An HTML error page from the load balancer with this status (500, 502, 503, 504).
    Status { status: u16 },
    /// A hibernating developer instance: 200 with an HTML page instead of JSON.
    Hibernating,
    /// Semaphore exhaustion: 429 with `Retry-After`, no `X-RateLimit-*` headers.
    TooManyRequests { retry_after_secs: u64 },
    /// The transaction quota killed the request.
    TransactionTimeout,
}

impl Default for InjectedError {
    fn default() -> Self {
        Self::Status { status: 503 }
    }
}

pub enum FaultAction {
    Serve,
    Reset,
    Respond(Response<Body>),
}

pub struct FaultDecision {
    pub latency: Duration,
    pub action: FaultAction,
    /// Short tag for the request log (`latency`, `reset`, `error:503`, …).
    pub tag: Option<String>,
}

#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<(FaultRule, u64)>>,
}

impl Faults {
    pub fn set(&self, rules: Vec<FaultRule>) {
        *self.rules.lock() = rules.into_iter().map(|r| (r, 0)).collect();
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().iter().map(|(r, _)| r.clone()).collect()
    }

    pub fn decide(&self, method: &Method, path: &str, rng: &SimRng) -> FaultDecision {
        let serve = FaultDecision {
            latency: Duration::ZERO,
            action: FaultAction::Serve,
            tag: None,
        };
        if path.starts_with("/_sim") {
            return serve;
        }
        let rule = {
            let mut rules = self.rules.lock();
            let hit = rules.iter_mut().find(|(r, used)| {
                path.starts_with(&r.path_prefix)
                    && r.method
                        .as_deref()
                        .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
                    && r.times.is_none_or(|t| *used < t)
            });
            match hit {
                Some((rule, used)) => {
                    *used += 1;
                    rule.clone()
                }
                None => return serve,
            }
        };
        let latency = Duration::from_millis(rule.latency_ms + rng.up_to(rule.latency_jitter_ms));
        let mut tag = (!latency.is_zero()).then(|| format!("latency:{}ms", latency.as_millis()));
        let action = if rng.chance(rule.reset_rate) {
            tag = Some("reset".into());
            FaultAction::Reset
        } else if rng.chance(rule.error_rate) {
            tag = Some(format!("error:{}", rule.error.tag()));
            FaultAction::Respond(rule.error.response())
        } else {
            FaultAction::Serve
        };
        FaultDecision {
            latency,
            action,
            tag,
        }
    }
}

impl InjectedError {
    fn tag(&self) -> String {
        match self {
            Self::Status { status } => status.to_string(),
            Self::Hibernating => "hibernating".into(),
            Self::TooManyRequests { .. } => "429".into(),
            Self::TransactionTimeout => "transaction_timeout".into(),
        }
    }

    pub fn response(&self) -> Response<Body> {
        let html = |status: StatusCode, body: String| {
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = status;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html;charset=UTF-8"),
            );
            r
        };
        match self {
            Self::Status { status } => {
                let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let reason = status.canonical_reason().unwrap_or("Error");
                html(
                    status,
                    format!(
                        "<html><head><title>{} {reason}</title></head><body><center><h1>{} {reason}</h1></center></body></html>",
                        status.as_u16(),
                        status.as_u16()
                    ),
                )
            }
            Self::Hibernating => html(
                StatusCode::OK,
                "<html><head><title>Instance Hibernating page</title></head><body><h1>Your instance is hibernating</h1>\
                 <p>Sign in to wake your instance.</p></body></html>"
                    .into(),
            ),
            Self::TooManyRequests { retry_after_secs } => {
                let mut r = html(StatusCode::TOO_MANY_REQUESTS, "<html><body>Too Many Requests</body></html>".into());
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
                r
            }
            Self::TransactionTimeout => {
                // The reference gives the text but not the status ("varies"); 500 with the standard
                // error envelope is what the Table API returns for a cancelled transaction.
                let body = serde_json::json!({
                    "error": {"message": "Transaction cancelled: maximum execution time exceeded", "detail": null},
                    "status": "failure"
                });
                let mut r = Response::new(Body::from(body.to_string()));
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
                r
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: &str) -> FaultRule {
        FaultRule {
            path_prefix: prefix.into(),
            ..FaultRule::default()
        }
    }

    #[test]
    fn first_matching_rule_decides_and_sim_paths_are_exempt() {
        let faults = Faults::default();
        let rng = SimRng::new(1);
        faults.set(vec![
            FaultRule {
                error_rate: 1.0,
                method: Some("POST".into()),
                ..rule("/api/now/table/incident")
            },
            FaultRule {
                reset_rate: 1.0,
                ..rule("/api/now")
            },
        ]);
        let post = faults.decide(&Method::POST, "/api/now/table/incident", &rng);
        assert!(
            matches!(post.action, FaultAction::Respond(ref r) if r.status() == StatusCode::SERVICE_UNAVAILABLE)
        );
        let get = faults.decide(&Method::GET, "/api/now/table/incident", &rng);
        assert!(matches!(get.action, FaultAction::Reset));
        let control = faults.decide(&Method::GET, "/_sim/faults", &rng);
        assert!(matches!(control.action, FaultAction::Serve));
    }

    #[test]
    fn times_limits_a_rule() {
        let faults = Faults::default();
        let rng = SimRng::new(1);
        faults.set(vec![FaultRule {
            error_rate: 1.0,
            times: Some(2),
            ..rule("")
        }]);
        let hits: Vec<bool> = (0..4)
            .map(|_| {
                matches!(
                    faults.decide(&Method::GET, "/x", &rng).action,
                    FaultAction::Respond(_)
                )
            })
            .collect();
        assert_eq!(hits, vec![true, true, false, false]);
    }

    #[test]
    fn latency_is_fixed_plus_bounded_jitter() {
        let faults = Faults::default();
        let rng = SimRng::new(3);
        faults.set(vec![FaultRule {
            latency_ms: 100,
            latency_jitter_ms: 50,
            ..rule("/")
        }]);
        for _ in 0..20 {
            let d = faults.decide(&Method::GET, "/api/now/table/incident", &rng);
            assert!((100..=150).contains(&(d.latency.as_millis() as u64)));
            assert!(matches!(d.action, FaultAction::Serve));
        }
    }
}
