//! ServiceNow part of the control API (`/_sim/servicenow/…`): seed users, groups, OAuth clients and
//! API keys; settings and rate-limit rules; act as a human in the UI; read raw records; run the SLA
//! job. Operations bypass authentication and ACLs but not business rules, data policies or webhooks.

use std::sync::Arc;

use axum::extract::{Path, Query as UrlQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::acl::Caller;
use super::auth::{ApiKey, OAuthClient};
use super::db::{Db, Record};
use super::errors::SnError;
use super::query::values::resolve;
use super::query::{bind, matches, parse, sort_records};
use super::ratelimit::RateLimitRule;
use super::schema::{Kind, TableDef, table};
use super::seed::{add_user, raw_insert};
use super::write::{self, Change, WriteCtx};
use super::{ServiceNow, SnSettings, sla};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserSeed {
    pub user_name: String,
    /// Defaults to the user name.
    pub password: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub time_zone: String,
    pub active: bool,
    pub locked_out: bool,
    pub web_service_access_only: bool,
    /// An API key (`x-sn-apikey`) bound to this user.
    pub api_key: Option<String>,
    pub sys_id: Option<String>,
}

impl Default for UserSeed {
    fn default() -> Self {
        Self {
            user_name: String::new(),
            password: None,
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            roles: Vec::new(),
            time_zone: "GMT".into(),
            active: true,
            locked_out: false,
            web_service_access_only: false,
            api_key: None,
            sys_id: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupSeed {
    pub name: String,
    pub description: String,
    /// User names.
    pub manager: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActOp {
    Insert,
    #[default]
    Update,
    Delete,
}

/// Do what a person in the UI would: as `user`, insert, update or delete a record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActRequest {
    pub user: String,
    pub table: String,
    pub op: ActOp,
    /// Number (`INC0010001`) or sys_id; not for inserts.
    pub record: Option<String>,
    pub fields: Map<String, Value>,
}

pub fn router(sn: Arc<ServiceNow>) -> Router {
    Router::new()
        .route("/_sim/servicenow/users", post(seed_users))
        .route("/_sim/servicenow/groups", post(seed_groups))
        .route("/_sim/servicenow/oauth/clients", post(oauth_clients))
        .route("/_sim/servicenow/api-keys", post(api_keys))
        .route(
            "/_sim/servicenow/settings",
            get(get_settings).patch(patch_settings),
        )
        .route(
            "/_sim/servicenow/rate-limits",
            get(get_limits).put(put_limits),
        )
        .route("/_sim/servicenow/act", post(act))
        .route("/_sim/servicenow/records/{table}", get(list_records))
        .route("/_sim/servicenow/records/{table}/{key}", get(get_record))
        .route("/_sim/servicenow/sla/recalculate", post(recalculate))
        .with_state(sn)
}

fn sn_error(e: SnError) -> Response {
    (e.status, Json(e.body())).into_response()
}

/// Every column as its raw string (passwords left out).
pub fn raw_json(def: &TableDef, rec: &Record) -> Value {
    let map: Map<String, Value> = def
        .fields
        .iter()
        .filter(|f| f.kind != Kind::Password)
        .map(|f| {
            (
                f.name.to_string(),
                Value::String(rec.get(def, f.name).to_string()),
            )
        })
        .collect();
    Value::Object(map)
}

/// Finds a record by sys_id or by number.
pub fn find_key<'a>(db: &'a Db, def: &TableDef, key: &str) -> Option<&'a Record> {
    let t = db.table(def.name)?;
    t.get(key)
        .or_else(|| def.has("number").then(|| t.find("number", key)).flatten())
}

async fn seed_users(
    State(sn): State<Arc<ServiceNow>>,
    Json(users): Json<Vec<UserSeed>>,
) -> Response {
    let now = sn.clock.now();
    let mut db = sn.db.write();
    let mut out = Vec::new();
    for u in users {
        let old = db
            .table("sys_user")
            .and_then(|t| t.find("user_name", &u.user_name))
            .map(|r| r.sys_id().to_string());
        let sys_id = u.sys_id.clone().or(old.clone());
        if let Some(old) = old {
            if let Some(t) = db.table_mut("sys_user") {
                t.remove(&old);
            }
            if let Some(t) = db.table_mut("sys_user_has_role") {
                let d = t.def;
                t.retain(|r| r.get(d, "user") != old);
            }
        }
        let name = format!("{} {}", u.first_name, u.last_name)
            .trim()
            .to_string();
        let name = if name.is_empty() {
            u.user_name.clone()
        } else {
            name
        };
        let password = u.password.clone().unwrap_or_else(|| u.user_name.clone());
        let b = |x: bool| if x { "true" } else { "false" };
        let fields = [
            ("user_name", u.user_name.as_str()),
            ("first_name", u.first_name.as_str()),
            ("last_name", u.last_name.as_str()),
            ("name", name.as_str()),
            ("email", u.email.as_str()),
            ("user_password", password.as_str()),
            ("time_zone", u.time_zone.as_str()),
            ("active", b(u.active)),
            ("locked_out", b(u.locked_out)),
            ("web_service_access_only", b(u.web_service_access_only)),
        ];
        let id = add_user(&mut db, sys_id.as_deref(), &fields, &u.roles, now);
        if let Some(key) = &u.api_key {
            sn.auth.lock().api_keys.insert(
                key.clone(),
                ApiKey {
                    key: key.clone(),
                    user_name: u.user_name.clone(),
                    expires_at: None,
                },
            );
        }
        out.push(json!({"user_name": u.user_name, "sys_id": id}));
    }
    db.reindex("sys_user");
    Json(Value::Array(out)).into_response()
}

async fn seed_groups(
    State(sn): State<Arc<ServiceNow>>,
    Json(groups): Json<Vec<GroupSeed>>,
) -> Response {
    let now = sn.clock.now();
    let mut db = sn.db.write();
    let mut out = Vec::new();
    for g in groups {
        let manager = g
            .manager
            .as_deref()
            .and_then(|m| db.user(m))
            .map(|u| u.sys_id.clone())
            .unwrap_or_default();
        let id = raw_insert(
            &mut db,
            "sys_user_group",
            None,
            &[
                ("name", &g.name),
                ("description", &g.description),
                ("manager", &manager),
            ],
            now,
        );
        out.push(json!({"name": g.name, "sys_id": id}));
    }
    Json(Value::Array(out)).into_response()
}

async fn oauth_clients(
    State(sn): State<Arc<ServiceNow>>,
    Json(clients): Json<Vec<OAuthClient>>,
) -> StatusCode {
    let mut store = sn.auth.lock();
    for c in clients {
        store.clients.insert(c.client_id.clone(), c);
    }
    StatusCode::NO_CONTENT
}

async fn api_keys(State(sn): State<Arc<ServiceNow>>, Json(keys): Json<Vec<ApiKey>>) -> StatusCode {
    let mut store = sn.auth.lock();
    for k in keys {
        store.api_keys.insert(k.key.clone(), k);
    }
    StatusCode::NO_CONTENT
}

async fn get_settings(State(sn): State<Arc<ServiceNow>>) -> Json<SnSettings> {
    Json(sn.settings())
}

/// Merges the given keys into the current settings.
async fn patch_settings(
    State(sn): State<Arc<ServiceNow>>,
    Json(patch): Json<Map<String, Value>>,
) -> Response {
    let mut current = serde_json::to_value(sn.settings()).unwrap_or_default();
    if let Value::Object(m) = &mut current {
        m.extend(patch);
    }
    match serde_json::from_value::<SnSettings>(current) {
        Ok(s) => {
            sn.set_settings(s.clone());
            Json(s).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn get_limits(State(sn): State<Arc<ServiceNow>>) -> Json<Vec<RateLimitRule>> {
    Json(sn.limits.rules())
}

async fn put_limits(
    State(sn): State<Arc<ServiceNow>>,
    Json(rules): Json<Vec<RateLimitRule>>,
) -> Json<Vec<RateLimitRule>> {
    sn.limits.set(rules);
    Json(sn.limits.rules())
}

pub fn act_now(sn: &ServiceNow, req: &ActRequest) -> Result<Value, SnError> {
    let def = table(&req.table).ok_or_else(|| SnError::invalid_table(&req.table))?;
    let mut db = sn.db.write();
    let caller = db
        .user(&req.user)
        .map(Caller::from_user)
        .ok_or_else(SnError::unauthenticated)?;
    let now = sn.clock.now();
    let ctx = WriteCtx {
        caller: &caller,
        now,
        input_display_value: false,
    };
    // Script values work here as in queries: `"assigned_to": "javascript:gs.getUserID()"`.
    let fields: Map<String, Value> = req
        .fields
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k.clone(), Value::String(resolve(s, &caller.env(now)))),
            other => (k.clone(), other.clone()),
        })
        .collect();
    let key = req.record.as_deref().unwrap_or("");
    let existing = || {
        find_key(&db, def, key)
            .map(|r| r.sys_id().to_string())
            .ok_or_else(SnError::not_found)
    };
    let written = match req.op {
        ActOp::Insert => write::insert(&mut db, def, &fields, &ctx)?,
        ActOp::Update => {
            let id = existing()?;
            write::update(&mut db, def, &id, &fields, &ctx)?
        }
        ActOp::Delete => {
            let id = existing()?;
            write::delete(&mut db, def, &id)?;
            return Ok(json!({"result": {"sys_id": id}}));
        }
    };
    if written.change != Change::Unchanged {
        sn.emit(&db, def, &written.sys_id, written.change);
    }
    let rec = db
        .table(def.name)
        .and_then(|t| t.get(&written.sys_id))
        .ok_or_else(SnError::not_found)?;
    Ok(json!({"result": raw_json(def, rec)}))
}

async fn act(State(sn): State<Arc<ServiceNow>>, Json(req): Json<ActRequest>) -> Response {
    match act_now(&sn, &req) {
        Ok(v) => Json(v).into_response(),
        Err(e) => sn_error(e),
    }
}

#[derive(Deserialize)]
struct ListParams {
    query: Option<String>,
}

async fn list_records(
    State(sn): State<Arc<ServiceNow>>,
    Path(name): Path<String>,
    UrlQuery(p): UrlQuery<ListParams>,
) -> Response {
    let Some(def) = table(&name) else {
        return sn_error(SnError::invalid_table(&name));
    };
    let db = sn.db.read();
    let system = Caller::system();
    let bound = bind(
        &parse(p.query.as_deref().unwrap_or("")),
        def,
        &system.env(sn.clock.now()),
    );
    let mut rows: Vec<&Record> = db
        .rows(def.name)
        .iter()
        .filter(|r| matches(&bound, &db, def, r))
        .collect();
    sort_records(&db, def, &bound.query.order, &mut rows, None);
    Json(json!({"result": rows.iter().map(|r| raw_json(def, r)).collect::<Vec<_>>()}))
        .into_response()
}

async fn get_record(
    State(sn): State<Arc<ServiceNow>>,
    Path((name, key)): Path<(String, String)>,
) -> Response {
    let Some(def) = table(&name) else {
        return sn_error(SnError::invalid_table(&name));
    };
    let db = sn.db.read();
    match find_key(&db, def, &key) {
        Some(r) => Json(json!({"result": raw_json(def, r)})).into_response(),
        None => sn_error(SnError::not_found()),
    }
}

async fn recalculate(State(sn): State<Arc<ServiceNow>>) -> Json<Value> {
    let n = sla::recalculate(&mut sn.db.write(), sn.clock.now());
    Json(json!({"updated": n}))
}
