//! The ManageEngine ServiceDesk Plus v3 emulator. Reference: `shared/reference/jira-sdp-api.md`
//! Part B (its UNCONFIRMED points are marked where they are chosen here).
//!
//! Request flow for `/api/v3/*` (the on-premises default portal) and `/app/<portal>/api/v3/*`:
//! portal → `Accept: application/vnd.manageengine.sdp.v3+json` → authenticate (`authtoken` on
//! premises, `Zoho-oauthtoken` on Cloud) → rate limit (4015, HTTP 429) → injected errors inside an
//! HTTP 200 → the route. Writes fire the admin-configured webhooks under the same lock.

pub mod auth;
pub mod control;
pub mod db;
pub mod errors;
pub mod hooks;
pub mod http;
mod input;
mod list;
mod lookups;
pub mod model;
pub mod render;
mod requests;
pub mod seed;

use std::collections::BTreeMap;
use std::sync::Arc;

use ::http::{HeaderMap, Method, StatusCode};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::auth::{OAuthStore, authenticate};
use self::db::Portal;
use self::errors::{SResult, SdpError};
use self::model::{SdpWebhook, Technician};
use crate::clock::SimClock;
use crate::webhooks::Webhooks;

pub const ACCEPT: &str = "application/vnd.manageengine.sdp.v3+json";

/// Emulator knobs (`GET/PATCH /_sim/sdp/settings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SdpSettings {
    /// Refuse calls without the v3 `Accept` header (reference B1: "required"; what SDP answers
    /// without it is UNCONFIRMED, here 4007 / HTTP 404).
    pub require_accept: bool,
    /// Calls per technician per (simulated) minute before 4015 / HTTP 429; 0 = unlimited. SDP does
    /// not publish its limits (UNCONFIRMED).
    pub rate_limit_per_minute: u32,
    /// The next N API calls answer HTTP 200 with a failed `response_status` carrying
    /// `error_in_200_code` (the official collection checks `status_code` even on 200).
    pub errors_in_200_remaining: u32,
    pub error_in_200_code: u32,
    /// `expires_in` of Cloud access tokens.
    pub access_token_lifetime_secs: i64,
}

impl Default for SdpSettings {
    fn default() -> Self {
        Self {
            require_accept: true,
            rate_limit_per_minute: 0,
            errors_in_200_remaining: 0,
            error_in_200_code: 4004,
            access_token_lifetime_secs: 3600,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SReq {
    pub method: Method,
    pub portal: String,
    /// Path segments after `api/v3/`.
    pub segs: Vec<String>,
    pub headers: HeaderMap,
    /// `input_data`, from the form body or the query string, parsed.
    pub input: Option<Value>,
}

#[derive(Clone, Debug)]
pub struct SResp {
    pub status: StatusCode,
    pub body: Value,
}

impl From<SdpError> for SResp {
    fn from(e: SdpError) -> Self {
        Self {
            status: e.status(),
            body: e.body(),
        }
    }
}

#[derive(Default)]
pub(crate) struct Db {
    pub portals: Vec<Portal>,
}

impl Db {
    pub fn portal(&self, name: &str) -> Option<&Portal> {
        self.portals.iter().find(|p| p.name == name)
    }
    pub fn portal_mut(&mut self, name: &str) -> Option<&mut Portal> {
        self.portals.iter_mut().find(|p| p.name == name)
    }
}

pub struct Sdp {
    pub(crate) db: RwLock<Db>,
    pub(crate) oauth: Mutex<OAuthStore>,
    /// Admin-configured webhooks (beside the portals: writes read them with a portal locked).
    hooks: RwLock<Vec<SdpWebhook>>,
    settings: RwLock<SdpSettings>,
    /// Technician id → (minute, calls in it).
    window: Mutex<BTreeMap<String, (i64, u32)>>,
    last_ms: Mutex<i64>,
    event_seq: std::sync::atomic::AtomicU64,
    pub(crate) clock: Arc<SimClock>,
    pub(crate) webhooks: Arc<Webhooks>,
    /// The instance URL (what a connector is configured with).
    pub base_url: String,
    seed: u64,
}

impl std::fmt::Debug for Sdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sdp").finish_non_exhaustive()
    }
}

fn seeded() -> Db {
    Db {
        portals: seed::seed(),
    }
}

impl Sdp {
    pub fn new(seed: u64, clock: Arc<SimClock>, webhooks: Arc<Webhooks>, base_url: String) -> Self {
        Self {
            db: RwLock::new(seeded()),
            oauth: Mutex::new(OAuthStore::new(seed)),
            hooks: RwLock::new(Vec::new()),
            settings: RwLock::new(SdpSettings::default()),
            window: Mutex::new(BTreeMap::new()),
            last_ms: Mutex::new(0),
            event_seq: std::sync::atomic::AtomicU64::new(0),
            clock,
            webhooks,
            base_url,
            seed,
        }
    }

    pub fn settings(&self) -> SdpSettings {
        self.settings.read().clone()
    }

    pub fn set_settings(&self, s: SdpSettings) {
        *self.settings.write() = s;
    }

    pub fn reset(&self) {
        *self.db.write() = seeded();
        *self.oauth.lock() = OAuthStore::new(self.seed);
        self.hooks.write().clear();
        *self.settings.write() = SdpSettings::default();
        self.window.lock().clear();
        *self.last_ms.lock() = 0;
        self.event_seq
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// The simulated clock in epoch ms (wall clock + the clock's offset), strictly increasing so
    /// every write has its own `last_updated_time` and pollers can dedupe on it.
    pub fn now_ms(&self) -> i64 {
        let wall = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        let now = wall + self.clock.offset_secs() * 1000;
        let mut last = self.last_ms.lock();
        *last = now.max(*last + 1);
        *last
    }

    /// The portal behind `/api/v3/` without `/app/<portal>`.
    pub fn default_portal(&self) -> String {
        let db = self.db.read();
        db.portals
            .iter()
            .find(|p| p.default)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    }

    pub fn hooks_snapshot(&self) -> Vec<SdpWebhook> {
        self.hooks.read().clone()
    }

    /// Registers a webhook (its delivery target too) and returns it with its ids.
    pub fn add_hook(&self, mut h: SdpWebhook) -> SResult<SdpWebhook> {
        if self.db.read().portal(&h.portal).is_none() {
            return Err(SdpError::field(4001, "portal", "no such portal"));
        }
        if !(h.url.starts_with("http://") || h.url.starts_with("https://")) {
            return Err(SdpError::field(
                4001,
                "url",
                "the URL must be an absolute http(s) URL",
            ));
        }
        let mut hooks = self.hooks.write();
        h.id = hooks.iter().map(|x| x.id).max().unwrap_or(0) + 1;
        h.target_id = self.webhooks.add_target(hooks::target_spec(&h)).id;
        hooks.push(h.clone());
        Ok(h)
    }

    pub fn remove_hook(&self, id: u64) -> bool {
        let mut hooks = self.hooks.write();
        let Some(pos) = hooks.iter().position(|h| h.id == id) else {
            return false;
        };
        let h = hooks.remove(pos);
        self.webhooks.remove_target(&h.target_id);
        true
    }

    pub(crate) fn next_event(&self) -> u64 {
        self.event_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }

    pub fn token_endpoint(&self, form: &BTreeMap<String, String>) -> (StatusCode, Value) {
        let life = self.settings().access_token_lifetime_secs;
        let now = self.now_ms();
        self.oauth.lock().token_endpoint(form, now, life)
    }

    fn check_rate(&self, who: &Technician) -> SResult<()> {
        let limit = self.settings().rate_limit_per_minute;
        if limit == 0 {
            return Ok(());
        }
        let minute = self.clock.unix().div_euclid(60);
        let mut w = self.window.lock();
        let e = w.entry(who.id.clone()).or_insert((minute, 0));
        if e.0 != minute {
            *e = (minute, 0);
        }
        e.1 += 1;
        if e.1 > limit {
            return Err(SdpError::new(4015, "API rate limit reached"));
        }
        Ok(())
    }

    fn injected_error(&self) -> Option<SdpError> {
        let mut s = self.settings.write();
        if s.errors_in_200_remaining == 0 {
            return None;
        }
        s.errors_in_200_remaining -= 1;
        let mut e = SdpError::new(s.error_in_200_code, "Internal error (injected by itsm-sim)");
        e.http = Some(StatusCode::OK);
        Some(e)
    }

    /// Everything under a portal's `api/v3/`.
    pub fn handle(&self, req: SReq) -> SResp {
        self.authorize(&req)
            .and_then(|who| self.run_as(&who, &req))
            .unwrap_or_else(SResp::from)
    }

    fn authorize(&self, req: &SReq) -> SResult<Technician> {
        let now = self.now_ms();
        let who = {
            let db = self.db.read();
            let portal = db.portal(&req.portal).ok_or_else(SdpError::not_found)?;
            if self.settings().require_accept {
                let accept = req
                    .headers
                    .get(::http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !accept.contains(ACCEPT) {
                    return Err(SdpError::new(
                        4007,
                        format!("Invalid URL: v3 calls need the header Accept: {ACCEPT}"),
                    ));
                }
            }
            authenticate(portal, &self.oauth.lock(), &req.headers, now)?
        };
        self.check_rate(&who)?;
        if let Some(e) = self.injected_error() {
            return Err(e);
        }
        Ok(who)
    }

    /// Runs a call as `who` (also the control API's `act`: a person working in SDP).
    pub fn run_as(&self, who: &Technician, req: &SReq) -> SResult<SResp> {
        if req.method != Method::GET && who.read_only {
            return Err(SdpError::forbidden());
        }
        let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
        let m = &req.method;
        let (get, post, put, delete) = (
            *m == Method::GET,
            *m == Method::POST,
            *m == Method::PUT,
            *m == Method::DELETE,
        );
        let body = match segs.as_slice() {
            ["requests"] if get => list::list(self, req)?,
            ["requests"] if post => requests::create(self, who, req)?,
            ["requests", "_metainfo"] if get => lookups::metainfo(self, req)?,
            ["requests", id] if get => requests::get(self, req, id)?,
            ["requests", id] if put => requests::update(self, who, req, id)?,
            ["requests", id] if delete => requests::trash(self, who, req, id)?,
            ["requests", id, "_close"] if put || post => requests::close(self, who, req, id)?,
            ["requests", id, "resolutions"] if get => requests::resolution(self, req, id)?,
            ["requests", id, "resolutions"] if post || put => {
                requests::resolve(self, who, req, id)?
            }
            ["requests", id, "notes"] if get => requests::notes(self, req, id)?,
            ["requests", id, "notes"] if post => requests::add_note(self, who, req, id)?,
            ["requests", id, "link_requests"] if get => requests::links(self, req, id)?,
            ["requests", id, "link_requests"] if post || delete => {
                requests::link(self, who, req, id, post)?
            }
            [kind] if get => lookups::list(self, req, kind)?,
            _ => return Err(SdpError::not_found()),
        };
        Ok(SResp {
            status: StatusCode::OK,
            body,
        })
    }
}
