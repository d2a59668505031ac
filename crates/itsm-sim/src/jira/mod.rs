//! The Jira Cloud site emulator. Reference: `shared/reference/jira-sdp-api.md` Part A.
//!
//! Request flow for `/rest/api/{2,3,latest}/*` (and the 3LO gateway form
//! `/ex/jira/{cloudid}/rest/api/…`): authenticate (Basic API token, PAT, OAuth) → rate limits
//! (burst per account, writes per issue) → the route. Writes emit the admin-webhook events under
//! the same lock, so a delivery describes the committed state. v3 speaks ADF where v2 speaks plain
//! strings; both share every handler.

pub mod adf;
pub mod auth;
mod comments;
pub mod control;
pub mod db;
pub mod errors;
mod fields;
pub mod hooks;
pub mod http;
mod issues;
pub mod jql;
mod meta;
pub mod model;
pub mod ratelimit;
mod render;
mod search;
pub mod seed;
mod transitions;

use std::collections::BTreeSet;
use std::sync::Arc;

use ::http::{HeaderMap, Method, StatusCode};
use axum::body::Bytes;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::auth::{Caller, OAuthStore, authenticate};
use self::db::JiraDb;
use self::errors::{JResult, JiraError};
use self::ratelimit::RateLimits;
use crate::clock::SimClock;
use crate::webhooks::Webhooks;

/// Emulator knobs (`GET/PATCH /_sim/jira/settings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JiraSettings {
    /// How long a transition holds its issue; a second transition meanwhile gets 409.
    pub transition_latency_ms: u64,
    /// Bulk-create elements still to fail (counted across requests), and which ones: every
    /// `bulk_fail_every`-th element processed fails until `bulk_fail_remaining` reaches 0.
    pub bulk_fail_remaining: u32,
    pub bulk_fail_every: u32,
    /// Webhook retries after a 408/409/425/429/5xx or a connection failure (Cloud: "up to 5",
    /// unconfirmed) and the pause before each; they apply to webhooks registered afterwards.
    pub webhook_max_retries: u32,
    pub webhook_retry_backoff_ms: u64,
}

impl Default for JiraSettings {
    fn default() -> Self {
        Self {
            transition_latency_ms: 0,
            bulk_fail_remaining: 0,
            bulk_fail_every: 1,
            webhook_max_retries: 5,
            webhook_retry_backoff_ms: 1000,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V2,
    V3,
}

#[derive(Clone, Debug)]
pub struct JReq {
    pub method: Method,
    /// Path segments after `/rest/api/{version}/`.
    pub segs: Vec<String>,
    pub version: Version,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl JReq {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter, comma lists split (`fields=a,b&fields=c`).
    pub fn params(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    pub fn json(&self) -> JResult<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            JiraError::bad_request(format!(
                "Unexpected character in the request body, or invalid JSON: {e}"
            ))
        })
    }
}

#[derive(Clone, Debug)]
pub struct JResp {
    pub status: StatusCode,
    pub body: Option<Value>,
    /// A body that is not JSON (the 401 text): text and content type.
    pub raw: Option<(String, &'static str)>,
    pub headers: Vec<(String, String)>,
}

impl JResp {
    pub fn ok(body: Value) -> Self {
        Self::with(StatusCode::OK, body)
    }
    pub fn with(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            raw: None,
            headers: Vec::new(),
        }
    }
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            body: None,
            raw: None,
            headers: Vec::new(),
        }
    }
}

pub struct Jira {
    pub(crate) db: RwLock<JiraDb>,
    pub(crate) oauth: Mutex<OAuthStore>,
    settings: RwLock<JiraSettings>,
    pub(crate) limits: RateLimits,
    /// Issues with a transition in progress (409 for a second one).
    pub(crate) in_flight: Mutex<BTreeSet<u64>>,
    /// Bulk elements seen since the injected-failure settings were last set.
    bulk_seen: Mutex<u64>,
    /// Emitted webhook deliveries, for `X-Atlassian-Webhook-Identifier`.
    event_seq: std::sync::atomic::AtomicU64,
    pub(crate) clock: Arc<SimClock>,
    pub(crate) webhooks: Arc<Webhooks>,
    pub(crate) base_url: String,
    seed: u64,
}

impl std::fmt::Debug for Jira {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jira")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Jira {
    pub fn new(seed: u64, clock: Arc<SimClock>, webhooks: Arc<Webhooks>, base_url: String) -> Self {
        Self {
            db: RwLock::new(seed::seed(clock.now())),
            oauth: Mutex::new(OAuthStore::new(seed)),
            settings: RwLock::new(JiraSettings::default()),
            limits: RateLimits::default(),
            in_flight: Mutex::new(BTreeSet::new()),
            bulk_seen: Mutex::new(0),
            event_seq: std::sync::atomic::AtomicU64::new(0),
            clock,
            webhooks,
            base_url,
            seed,
        }
    }

    pub fn settings(&self) -> JiraSettings {
        self.settings.read().clone()
    }

    pub fn set_settings(&self, s: JiraSettings) {
        *self.settings.write() = s;
        *self.bulk_seen.lock() = 0;
    }

    /// Back to the seeded site (the shared reset also drops the delivery targets).
    pub fn reset(&self) {
        *self.db.write() = seed::seed(self.clock.now());
        *self.oauth.lock() = OAuthStore::new(self.seed);
        *self.settings.write() = JiraSettings::default();
        self.limits.set(Vec::new());
        self.in_flight.lock().clear();
        *self.bulk_seen.lock() = 0;
        self.event_seq
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a transition is being performed on the issue (white-box tests wait on this).
    pub fn transition_in_progress(&self, issue_id: u64) -> bool {
        self.in_flight.lock().contains(&issue_id)
    }

    pub(crate) fn next_event(&self) -> u64 {
        self.event_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }

    /// `/rest/webhooks/1.0/webhook[/{id}]` (`req.segs` is what follows `webhook`).
    pub fn handle_webhooks(&self, req: JReq) -> JResp {
        let result = self
            .caller(&req.headers)
            .and_then(|caller| hooks::handle(self, &caller, &req));
        result.unwrap_or_else(JResp::from)
    }

    /// Takes one element of a bulk create's injected-failure budget, if this one should fail.
    pub(crate) fn bulk_element_fails(&self) -> bool {
        let mut s = self.settings.write();
        if s.bulk_fail_remaining == 0 {
            return false;
        }
        let n = {
            let mut seen = self.bulk_seen.lock();
            *seen += 1;
            *seen
        };
        let every = u64::from(s.bulk_fail_every.max(1));
        if n % every == 0 {
            s.bulk_fail_remaining -= 1;
            true
        } else {
            false
        }
    }

    fn caller(&self, headers: &HeaderMap) -> JResult<Caller> {
        let db = self.db.read();
        let oauth = self.oauth.lock();
        authenticate(&db, &oauth, headers, self.clock.unix())?
            .ok_or_else(JiraError::unauthenticated)
    }

    /// Everything under `/rest/api/{2,3,latest}/`.
    pub async fn handle(&self, req: JReq) -> JResp {
        let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
        // serverInfo answers anonymous callers, like the real site.
        if segs == ["serverInfo"] {
            return meta::server_info(self);
        }
        let caller = match self.caller(&req.headers) {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        let write = req.method != Method::GET;
        let issue_for_limit = match segs.as_slice() {
            ["issue", k, ..] if write && *k != "bulk" => self.db.read().issue_id(k),
            _ => None,
        };
        let verdict = self
            .limits
            .check(&caller.account_id, issue_for_limit, self.clock.unix());
        let scope = if write {
            "write:jira-work"
        } else {
            "read:jira-work"
        };
        let result = match verdict.denied {
            Some(e) => Err(e),
            None => match caller.require_scope(scope) {
                Ok(()) => self.route(&caller, &req, &segs).await,
                Err(e) => Err(e),
            },
        };
        let mut resp = result.unwrap_or_else(JResp::from);
        resp.headers.extend(verdict.headers);
        resp
    }

    async fn route(&self, caller: &Caller, req: &JReq, segs: &[&str]) -> JResult<JResp> {
        let m = &req.method;
        let get = *m == Method::GET;
        let post = *m == Method::POST;
        match segs {
            ["myself"] if get => meta::myself(self, caller),
            ["mypermissions"] if get => meta::my_permissions(self, caller, req),
            ["user"] if get => meta::user(self, req),
            ["field"] if get => Ok(meta::fields(self)),
            ["priority"] if get => Ok(meta::priorities(self)),
            ["priority", "search"] if get => Ok(meta::priority_search(self, req)),
            ["resolution"] if get => Ok(meta::resolutions(self)),
            ["status"] if get => Ok(meta::statuses(self)),
            ["issuetype"] if get => Ok(meta::issue_types(self)),
            ["issueLinkType"] if get => Ok(meta::link_types(self)),
            ["project"] if get => Ok(meta::projects(self, caller)),
            ["project", "search"] if get => Ok(meta::project_search(self, caller)),
            ["project", p] if get => meta::project(self, caller, p),
            ["project", p, "statuses"] if get => meta::project_statuses(self, caller, p),
            ["issue", "createmeta", p, "issuetypes"] if get => {
                meta::createmeta_types(self, caller, req, p)
            }
            ["issue", "createmeta", p, "issuetypes", t] if get => {
                meta::createmeta_fields(self, caller, req, p, t)
            }
            ["issue"] if post => issues::create(self, caller, req),
            ["issue", "bulk"] if post => issues::bulk(self, caller, req),
            ["issue", k] if get => issues::get(self, caller, req, k),
            ["issue", k] if *m == Method::PUT => issues::edit(self, caller, req, k),
            ["issue", k] if *m == Method::DELETE => issues::delete(self, caller, req, k),
            ["issue", k, "comment"] if get => comments::comments(self, caller, req, k),
            ["issue", k, "comment"] if post => comments::add_comment(self, caller, req, k),
            ["issue", k, "transitions"] if get => transitions::list(self, caller, req, k),
            ["issue", k, "transitions"] if post => transitions::perform(self, caller, req, k).await,
            ["issueLink"] if post => comments::link(self, caller, req),
            ["search", "jql"] if get || post => search::search(self, caller, req),
            ["search", "approximate-count"] if post => search::approximate_count(self, caller, req),
            ["search"] => Err(search::removed()),
            _ => Err(JiraError::not_found(
                "null for uri: the emulator does not serve this resource",
            )),
        }
    }
}

impl From<JiraError> for JResp {
    fn from(e: JiraError) -> Self {
        let body = match &e.raw {
            Some(_) => None,
            None => Some(e.body()),
        };
        JResp {
            status: e.status,
            body,
            raw: e.raw.clone(),
            headers: e.headers.clone(),
        }
    }
}
