//! SDP part of the control API (`/_sim/sdp/…`): settings (v3 Accept gate, rate limit, errors inside
//! an HTTP 200, token lifetime), webhooks as an admin configures them, statuses and technicians
//! per portal, and `act`: a v3 call made as a technician (a person working in SDP; webhooks fire).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::SdpError;
use super::model::{SdpWebhook, Status, Technician};
use super::{SReq, Sdp, SdpSettings, hooks};

pub fn router(sdp: Arc<Sdp>) -> Router {
    Router::new()
        .route(
            "/_sim/sdp/settings",
            get(get_settings).patch(patch_settings),
        )
        .route("/_sim/sdp/webhooks", get(list_hooks).post(add_hook))
        .route("/_sim/sdp/webhooks/{id}", delete(remove_hook))
        .route(
            "/_sim/sdp/portals/{portal}/statuses",
            get(statuses).post(add_status),
        )
        .route(
            "/_sim/sdp/portals/{portal}/technicians",
            post(add_technician),
        )
        .route(
            "/_sim/sdp/portals/{portal}/templates/{name}",
            axum::routing::put(set_template),
        )
        .route("/_sim/sdp/act", post(act))
        .with_state(sdp)
}

type S = State<Arc<Sdp>>;

fn err(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

async fn get_settings(State(s): S) -> Json<SdpSettings> {
    Json(s.settings())
}

async fn patch_settings(State(s): S, Json(patch): Json<Value>) -> Response {
    let mut current = serde_json::to_value(s.settings()).unwrap_or_default();
    if let (Some(c), Some(p)) = (current.as_object_mut(), patch.as_object()) {
        c.extend(p.clone());
    }
    match serde_json::from_value::<SdpSettings>(current) {
        Ok(v) => {
            s.set_settings(v.clone());
            Json(v).into_response()
        }
        Err(e) => err(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn list_hooks(State(s): S) -> Json<Vec<Value>> {
    Json(s.hooks_snapshot().iter().map(hooks::describe).collect())
}

async fn add_hook(State(s): S, Json(h): Json<SdpWebhook>) -> Response {
    match s.add_hook(h) {
        Ok(h) => (StatusCode::CREATED, Json(hooks::describe(&h))).into_response(),
        Err(e) => err(StatusCode::BAD_REQUEST, first_message(&e)),
    }
}

async fn remove_hook(State(s): S, Path(id): Path<u64>) -> StatusCode {
    if s.remove_hook(id) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

fn first_message(e: &SdpError) -> String {
    e.messages
        .first()
        .map(|m| m.message.clone())
        .unwrap_or_default()
}

async fn statuses(State(s): S, Path(portal): Path<String>) -> Response {
    match s.db.read().portal(&portal) {
        Some(p) => Json(p.statuses.clone()).into_response(),
        None => err(StatusCode::NOT_FOUND, "no such portal"),
    }
}

/// A status an admin adds (Helpdesk Customizer → Status); its id is assigned.
async fn add_status(State(s): S, Path(portal): Path<String>, Json(st): Json<Status>) -> Response {
    let mut db = s.db.write();
    let Some(p) = db.portal_mut(&portal) else {
        return err(StatusCode::NOT_FOUND, "no such portal");
    };
    if p.status_named(&st.name).is_some() {
        return err(StatusCode::CONFLICT, "a status with that name exists");
    }
    (StatusCode::CREATED, Json(p.add_status(st))).into_response()
}

/// What an admin makes mandatory in a request template (Admin → Templates & Forms):
/// `{"mandatory": ["impact", "udf_sline_301"]}` replaces the template's list.
async fn set_template(
    State(s): S,
    Path((portal, name)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let Some(fields) = body.get("mandatory").and_then(Value::as_array) else {
        return err(StatusCode::BAD_REQUEST, "expected {\"mandatory\": [..]}");
    };
    let fields: Vec<String> = fields
        .iter()
        .filter_map(|f| f.as_str().map(String::from))
        .collect();
    let mut db = s.db.write();
    let Some(p) = db.portal_mut(&portal) else {
        return err(StatusCode::NOT_FOUND, "no such portal");
    };
    let Some(t) = p.templates.iter_mut().find(|t| t.name == name) else {
        return err(StatusCode::NOT_FOUND, "no such template");
    };
    t.mandatory = fields;
    (StatusCode::OK, Json(t.clone())).into_response()
}

/// A technician (or requester with `is_technician: false`); its id is assigned.
async fn add_technician(
    State(s): S,
    Path(portal): Path<String>,
    Json(mut t): Json<Technician>,
) -> Response {
    let mut db = s.db.write();
    let Some(p) = db.portal_mut(&portal) else {
        return err(StatusCode::NOT_FOUND, "no such portal");
    };
    t.id = p.alloc_id();
    p.technicians.push(t.clone());
    (StatusCode::CREATED, Json(t)).into_response()
}

/// A v3 call as a technician, without the wire: `path` is what follows `api/v3/`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SdpAct {
    pub portal: String,
    pub email_id: String,
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub input_data: Option<Value>,
}

async fn act(State(s): S, Json(a): Json<SdpAct>) -> Response {
    let who = s.db.read().portal(&a.portal).and_then(|p| {
        p.technicians
            .iter()
            .find(|t| t.email_id == a.email_id)
            .cloned()
    });
    let Some(who) = who else {
        return err(StatusCode::NOT_FOUND, "no such portal or technician");
    };
    let Ok(method) = Method::from_bytes(a.method.to_uppercase().as_bytes()) else {
        return err(StatusCode::BAD_REQUEST, "bad method");
    };
    let req = SReq {
        method,
        portal: a.portal,
        segs: a
            .path
            .split('/')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect(),
        headers: HeaderMap::new(),
        input: a.input_data,
    };
    let r = s.run_as(&who, &req).unwrap_or_else(super::SResp::from);
    Json(json!({"status": r.status.as_u16(), "body": r.body})).into_response()
}
