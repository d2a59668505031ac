//! Jira part of the control API (`/_sim/jira/…`): settings (transition latency, injected bulk
//! failures, webhook retries), rate limits, users, projects, workflows, OAuth authorization codes,
//! holding an issue's transition (a deterministic 409), raw issues, and `act`: any REST call made as
//! a given user (a person working in Jira), with webhooks and all.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::model::{Perm, Project, User, Workflow};
use super::ratelimit::JiraRateLimit;
use super::{JReq, Jira, JiraSettings, Version};

pub fn router(j: Arc<Jira>) -> Router {
    Router::new()
        .route(
            "/_sim/jira/settings",
            get(get_settings).patch(patch_settings),
        )
        .route("/_sim/jira/rate-limits", get(get_limits).put(put_limits))
        .route("/_sim/jira/users", get(users).post(add_users))
        .route("/_sim/jira/projects", get(projects).post(add_project))
        .route(
            "/_sim/jira/projects/{key}/workflow",
            put(set_project_workflow),
        )
        .route("/_sim/jira/workflows", get(workflows))
        .route("/_sim/jira/workflows/{name}", put(put_workflow))
        .route("/_sim/jira/oauth/codes", post(oauth_code))
        .route("/_sim/jira/issues/{key}", get(issue))
        .route(
            "/_sim/jira/issues/{key}/hold-transition",
            post(hold).delete(release),
        )
        .route("/_sim/jira/act", post(act))
        .with_state(j)
}

type S = State<Arc<Jira>>;

fn err(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

async fn get_settings(State(j): S) -> Json<JiraSettings> {
    Json(j.settings())
}

/// Changes only the given settings; setting bulk failures restarts their element count.
async fn patch_settings(State(j): S, Json(patch): Json<Value>) -> Response {
    let mut current = serde_json::to_value(j.settings()).unwrap_or_default();
    if let (Some(c), Some(p)) = (current.as_object_mut(), patch.as_object()) {
        c.extend(p.clone());
    }
    match serde_json::from_value::<JiraSettings>(current) {
        Ok(s) => {
            j.set_settings(s.clone());
            Json(s).into_response()
        }
        Err(e) => err(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn get_limits(State(j): S) -> Json<Vec<JiraRateLimit>> {
    Json(j.limits.list())
}

async fn put_limits(
    State(j): S,
    Json(rules): Json<Vec<JiraRateLimit>>,
) -> Json<Vec<JiraRateLimit>> {
    j.limits.set(rules);
    Json(j.limits.list())
}

async fn users(State(j): S) -> Json<Vec<User>> {
    Json(j.db.read().users.clone())
}

/// Adds users (or replaces ones with the same account id).
async fn add_users(State(j): S, Json(list): Json<Vec<User>>) -> Response {
    let mut db = j.db.write();
    for u in list {
        if u.account_id.is_empty() || u.email.is_empty() {
            return err(StatusCode::BAD_REQUEST, "account_id and email are required");
        }
        db.users.retain(|x| x.account_id != u.account_id);
        db.users.push(u);
    }
    Json(db.users.clone()).into_response()
}

async fn projects(State(j): S) -> Json<Vec<Project>> {
    Json(j.db.read().projects.clone())
}

/// A new project; its id is assigned, its workflow must exist, issue types and priorities default
/// to the standard ones.
async fn add_project(State(j): S, Json(mut p): Json<Project>) -> Response {
    let mut db = j.db.write();
    if p.key.is_empty() || db.project(&p.key).is_some() {
        return err(
            StatusCode::BAD_REQUEST,
            "a new, non-empty project key is required",
        );
    }
    if p.workflow.is_empty() {
        p.workflow = super::seed::DEFAULT_WORKFLOW.into();
    }
    if !db.workflows.contains_key(&p.workflow) {
        return err(
            StatusCode::BAD_REQUEST,
            format!("no workflow named '{}'", p.workflow),
        );
    }
    if p.issue_types.is_empty() {
        p.issue_types = vec!["10001".into(), "10002".into(), "10003".into()];
    }
    if p.priorities.is_empty() {
        p.priorities = db.priorities.iter().map(|x| x.id.clone()).collect();
    }
    if p.name.is_empty() {
        p.name = p.key.clone();
    }
    p.id = db.next_project_id.to_string();
    db.next_project_id += 1;
    p.next_number = 1;
    db.projects.push(p.clone());
    (StatusCode::CREATED, Json(p)).into_response()
}

async fn workflows(State(j): S) -> Json<Vec<Workflow>> {
    Json(j.db.read().workflows.values().cloned().collect())
}

/// Creates or replaces a workflow; every status it names must exist and the initial one be listed.
async fn put_workflow(
    State(j): S,
    Path(name): Path<String>,
    Json(mut w): Json<Workflow>,
) -> Response {
    let mut db = j.db.write();
    w.name = name.clone();
    let known = |s: &String| db.status(s).is_some();
    let targets_ok = w
        .transitions
        .iter()
        .all(|t| known(&t.to) && t.from.iter().all(known));
    if !w.statuses.iter().all(known) || !w.statuses.contains(&w.initial) || !targets_ok {
        return err(
            StatusCode::BAD_REQUEST,
            "every status must exist and the initial status be listed",
        );
    }
    db.workflows.insert(name, w.clone());
    Json(w).into_response()
}

#[derive(Deserialize)]
struct WorkflowRef {
    workflow: String,
}

async fn set_project_workflow(
    State(j): S,
    Path(key): Path<String>,
    Json(r): Json<WorkflowRef>,
) -> Response {
    let mut db = j.db.write();
    if !db.workflows.contains_key(&r.workflow) {
        return err(
            StatusCode::BAD_REQUEST,
            format!("no workflow named '{}'", r.workflow),
        );
    }
    match db
        .projects
        .iter_mut()
        .find(|p| p.key.eq_ignore_ascii_case(&key))
    {
        Some(p) => {
            p.workflow = r.workflow;
            Json(p.clone()).into_response()
        }
        None => err(StatusCode::NOT_FOUND, format!("no project '{key}'")),
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeRequest {
    pub client_id: String,
    pub account_id: String,
    pub scopes: Vec<String>,
}

/// An authorization code as if the user had consented on `auth.atlassian.com/authorize`.
async fn oauth_code(State(j): S, Json(r): Json<CodeRequest>) -> Response {
    if j.db.read().user(&r.account_id).is_none() {
        return err(StatusCode::BAD_REQUEST, "unknown account_id");
    }
    let code = j
        .oauth
        .lock()
        .issue_code(&r.client_id, &r.account_id, &r.scopes);
    Json(json!({"code": code})).into_response()
}

async fn issue(State(j): S, Path(key): Path<String>) -> Response {
    let db = j.db.read();
    match db.issue_id(&key).and_then(|id| db.issues.get(&id)) {
        Some(i) => Json(i.clone()).into_response(),
        None => err(StatusCode::NOT_FOUND, format!("no issue '{key}'")),
    }
}

/// Marks a transition as in progress on the issue, as another client mid-transition would.
async fn hold(State(j): S, Path(key): Path<String>) -> Response {
    let id = j.db.read().issue_id(&key);
    match id {
        Some(id) => {
            j.in_flight.lock().insert(id);
            StatusCode::NO_CONTENT.into_response()
        }
        None => err(StatusCode::NOT_FOUND, format!("no issue '{key}'")),
    }
}

async fn release(State(j): S, Path(key): Path<String>) -> Response {
    if let Some(id) = j.db.read().issue_id(&key) {
        j.in_flight.lock().remove(&id);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// A REST call made as `account_id`: `path` is relative to `/rest/api/3/` (`issue/SEC-1/transitions`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JiraAct {
    pub account_id: String,
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub body: Option<Value>,
}

async fn act(State(j): S, Json(a): Json<JiraAct>) -> Response {
    let Some(user) = j.db.read().user(&a.account_id).cloned() else {
        return err(StatusCode::BAD_REQUEST, "unknown account_id");
    };
    let Ok(method) = Method::from_bytes(a.method.to_ascii_uppercase().as_bytes()) else {
        return err(StatusCode::BAD_REQUEST, "bad method");
    };
    let mut headers = HeaderMap::new();
    let basic = STANDARD.encode(format!("{}:{}", user.email, user.api_token));
    if let Ok(v) = HeaderValue::try_from(format!("Basic {basic}")) {
        headers.insert(http::header::AUTHORIZATION, v);
    }
    let req = JReq {
        method,
        segs: a
            .path
            .trim_matches('/')
            .split('/')
            .map(String::from)
            .collect(),
        version: Version::V3,
        query: a.query.into_iter().collect(),
        headers,
        body: a.body.map(|b| b.to_string().into()).unwrap_or_default(),
    };
    let resp = j.handle(req).await;
    let body = resp
        .body
        .or_else(|| resp.raw.map(|(t, _)| Value::String(t)));
    Json(json!({"status": resp.status.as_u16(), "body": body})).into_response()
}

/// Every permission, for `grants` in a project seed.
pub fn all_perms() -> Vec<Perm> {
    Perm::ALL.to_vec()
}
