//! The ServiceNow instance emulator. Reference: `shared/reference/servicenow-api.md`.
//!
//! Request flow for `/api/now/*`: authenticate (§7) → rate-limit rules (§9) → Table API (§1) or
//! Batch API (§8). Writes run the business rules (§3), journal and SLA engine (§6) and emit the
//! outbound webhook event (§10) under the same lock, so the state a webhook describes is the state
//! that was committed.

pub mod acl;
pub mod api;
pub mod auth;
pub mod batch;
pub mod control;
pub mod db;
pub mod errors;
pub mod events;
pub mod http;
pub mod oauth;
pub mod query;
pub mod ratelimit;
pub mod render;
pub mod rules;
pub mod schema;
pub mod seed;
pub mod sla;
pub mod table_api;
mod tables;
pub mod write;

use std::sync::Arc;

use ::http::HeaderValue;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use self::acl::Caller;
use self::api::{ApiRequest, ApiResponse};
use self::auth::{AuthInput, AuthStore, authenticate};
use self::db::Db;
use self::errors::SnError;
use self::ratelimit::RateLimits;
use self::schema::TableDef;
use self::table_api::{TableRoute, Version};
use self::write::Change;
use crate::clock::SimClock;
use crate::webhooks::Webhooks;

/// Instance properties and emulator knobs, switchable at run time (`PATCH /_sim/servicenow/settings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SnSettings {
    /// `glide.authenticate.basic_auth.restriction.enforce`: Basic only for holders of
    /// `snc_basic_auth_api_access` and web-service-only users.
    pub basic_auth_gate: bool,
    /// `glide.invalid_query.returns_no_rows`.
    pub invalid_query_returns_no_rows: bool,
    /// Field-level read ACLs (label-only `sys_choice` for non-admins, measured on Australia).
    pub field_acls: bool,
    /// `glide.oauth.inbound.client.credential.grant_type.enabled`.
    pub client_credentials_enabled: bool,
    pub access_token_lifespan_secs: u64,
    pub refresh_token_lifespan_secs: u64,
    /// Items a batch runs before the rest go to `unserviced_requests`; unlimited when absent.
    pub batch_max_requests: Option<usize>,
    /// The batch transaction quota (30 s on the platform).
    pub batch_time_budget_ms: u64,
    /// How often the SLA job refreshes timings; 0 = only on demand.
    pub sla_job_interval_secs: u64,
}

impl Default for SnSettings {
    fn default() -> Self {
        Self {
            basic_auth_gate: false,
            invalid_query_returns_no_rows: false,
            field_acls: true,
            client_credentials_enabled: false,
            access_token_lifespan_secs: 1800,
            refresh_token_lifespan_secs: 8_640_000,
            batch_max_requests: None,
            batch_time_budget_ms: 30_000,
            sla_job_interval_secs: 60,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Table(TableRoute),
    Batch,
    Unknown,
}

/// Maps a path under `/api/now` to what serves it.
pub fn route(path: &str) -> Route {
    let Some(rest) = path.strip_prefix("/api/now/") else {
        return Route::Unknown;
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let (version, segments) = match segments.first() {
        Some(&"v1") => (Version::V1, &segments[1..]),
        Some(&"v2") => (Version::V2, &segments[1..]),
        _ => (Version::Latest, &segments[..]),
    };
    match segments {
        ["table", t] if !t.is_empty() => Route::Table(TableRoute {
            version,
            table: t.to_string(),
            sys_id: None,
        }),
        ["table", t, id] if !t.is_empty() && !id.is_empty() => Route::Table(TableRoute {
            version,
            table: t.to_string(),
            sys_id: Some(id.to_string()),
        }),
        ["batch"] if version != Version::V2 => Route::Batch,
        _ => Route::Unknown,
    }
}

pub struct ServiceNow {
    pub(crate) db: RwLock<Db>,
    pub(crate) auth: Mutex<AuthStore>,
    settings: RwLock<SnSettings>,
    pub(crate) limits: RateLimits,
    pub(crate) clock: Arc<SimClock>,
    webhooks: Arc<Webhooks>,
    pub(crate) base_url: String,
    seed: u64,
}

impl std::fmt::Debug for ServiceNow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceNow")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn seeded_db(seed: u64, clock: &SimClock) -> Db {
    let mut db = Db::empty(seed);
    seed::seed(&mut db, clock.now());
    db
}

impl ServiceNow {
    pub fn new(seed: u64, clock: Arc<SimClock>, webhooks: Arc<Webhooks>, base_url: String) -> Self {
        Self {
            db: RwLock::new(seeded_db(seed, &clock)),
            auth: Mutex::new(AuthStore::new(seed)),
            settings: RwLock::new(SnSettings::default()),
            limits: RateLimits::default(),
            clock,
            webhooks,
            base_url,
            seed,
        }
    }

    pub fn settings(&self) -> SnSettings {
        self.settings.read().clone()
    }

    pub fn set_settings(&self, s: SnSettings) {
        *self.settings.write() = s;
    }

    /// Back to the freshly seeded instance: data, users, OAuth clients and tokens, settings, rules.
    pub fn reset(&self) {
        *self.db.write() = seeded_db(self.seed, &self.clock);
        *self.auth.lock() = AuthStore::new(self.seed);
        *self.settings.write() = SnSettings::default();
        self.limits.set(Vec::new());
    }

    /// Emits the business-rule webhook for a committed write (called with the write lock held).
    pub(crate) fn emit(&self, db: &Db, def: &TableDef, sys_id: &str, change: Change) {
        if !self.webhooks.wants("servicenow", def.name) {
            return;
        }
        if let Some(event) = events::event(db, def, sys_id, change) {
            self.webhooks.emit(event);
        }
    }

    fn caller(&self, req: &ApiRequest) -> Result<Caller, SnError> {
        let params = req.params();
        let input = AuthInput {
            headers: &req.headers,
            api_key_param: params.get("x-sn-apikey"),
            now: self.clock.unix(),
            basic_auth_gate: self.settings.read().basic_auth_gate,
        };
        authenticate(&self.db.read(), &self.auth.lock(), &input)
    }

    /// Everything under `/api/now`.
    pub fn handle(&self, mut req: ApiRequest) -> ApiResponse {
        if let Some(m) = req
            .header("x-http-method-override")
            .and_then(|m| ::http::Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes()).ok())
        {
            req.method = m;
        }
        let caller = match self.caller(&req) {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        let route = route(&req.path);
        let (api, table) = match &route {
            Route::Table(t) => ("table", Some(t.table.as_str())),
            Route::Batch => ("batch", None),
            Route::Unknown => ("other", None),
        };
        let verdict =
            self.limits
                .check(&caller, api, req.method.as_str(), table, self.clock.unix());
        let mut resp = match verdict.denied {
            Some(e) => e.into(),
            None => match &route {
                Route::Table(t) => table_api::handle(self, &caller, &req, t),
                Route::Batch => batch::handle(self, &caller, &req),
                Route::Unknown => Err(SnError::bad_uri()),
            }
            .unwrap_or_else(ApiResponse::from),
        };
        for (name, value) in verdict.headers {
            if let Ok(v) = HeaderValue::try_from(value) {
                resp.headers.insert(name, v);
            }
        }
        resp
    }
}
