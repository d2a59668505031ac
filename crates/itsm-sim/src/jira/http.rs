//! HTTP surface of the Jira emulator: `/rest/api/{2,3,latest}/*`, the 3LO gateway form
//! `/ex/jira/{cloudid}/rest/api/…`, `/rest/webhooks/1.0/webhook[/…]`, `POST /oauth/token` and
//! `GET /oauth/token/accessible-resources`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{any, get, post};
use http::{HeaderName, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use super::auth::{CLOUD_ID, authenticate};
use super::errors::JiraError;
use super::{JReq, JResp, Jira, Version};

const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

pub fn router(jira: Arc<Jira>) -> Router {
    Router::new()
        .route("/rest/api/{*rest}", any(api))
        .route("/ex/jira/{*rest}", any(api))
        .route("/rest/webhooks/1.0/webhook", any(admin_webhooks))
        .route("/rest/webhooks/1.0/webhook/{*rest}", any(admin_webhooks))
        .route("/oauth/token", post(token))
        .route("/oauth/token/accessible-resources", get(resources))
        .with_state(jira)
}

fn into_response(r: JResp) -> Response {
    let (body, ct) = match (&r.raw, &r.body) {
        (Some((text, ct)), _) => (Body::from(text.clone()), Some(*ct)),
        (None, Some(v)) => (
            Body::from(v.to_string()),
            Some("application/json;charset=UTF-8"),
        ),
        (None, None) => (Body::empty(), None),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = r.status;
    let h = resp.headers_mut();
    if let Some(ct) = ct {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            h.insert(k, v);
        }
    }
    h.insert("x-arequestid", HeaderValue::from_static("itsm-sim"));
    resp
}

async fn read(req: Request) -> Result<(http::request::Parts, axum::body::Bytes), JiraError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            JiraError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.",
            )
        })?;
    Ok((parts, bytes))
}

fn query_of(parts: &http::request::Parts) -> Vec<(String, String)> {
    serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default()
}

/// `…/rest/api/{version}/{rest}` → version and segments; `/ex/jira/{cloudid}/` is stripped.
fn split(path: &str) -> Option<(Version, Vec<String>)> {
    let path = match path.strip_prefix("/ex/jira/") {
        Some(rest) => {
            let (cloud, rest) = rest.split_once('/')?;
            if cloud != CLOUD_ID {
                return None;
            }
            format!("/{rest}")
        }
        None => path.to_string(),
    };
    let rest = path.strip_prefix("/rest/api/")?;
    let mut segs = rest.trim_end_matches('/').split('/');
    let version = match segs.next()? {
        "2" | "latest" => Version::V2,
        "3" => Version::V3,
        _ => return None,
    };
    Some((version, segs.map(String::from).collect()))
}

async fn api(State(j): State<Arc<Jira>>, req: Request) -> Response {
    let (parts, body) = match read(req).await {
        Ok(x) => x,
        Err(e) => return into_response(e.into()),
    };
    let Some((version, segs)) = split(parts.uri.path()) else {
        return into_response(JiraError::not_found("No such REST resource.").into());
    };
    let req = JReq {
        method: parts.method.clone(),
        segs,
        version,
        query: query_of(&parts),
        headers: parts.headers,
        body,
    };
    into_response(j.handle(req).await)
}

async fn admin_webhooks(State(j): State<Arc<Jira>>, req: Request) -> Response {
    let (parts, body) = match read(req).await {
        Ok(x) => x,
        Err(e) => return into_response(e.into()),
    };
    let segs = parts
        .uri
        .path()
        .trim_start_matches("/rest/webhooks/1.0/webhook")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let req = JReq {
        method: parts.method.clone(),
        segs,
        version: Version::V2,
        query: query_of(&parts),
        headers: parts.headers,
        body,
    };
    into_response(j.handle_webhooks(req))
}

/// Atlassian's token endpoint takes JSON; form bodies are accepted too.
async fn token(State(j): State<Arc<Jira>>, req: Request) -> Response {
    let (_, body) = match read(req).await {
        Ok(x) => x,
        Err(e) => return into_response(e.into()),
    };
    let parsed: Value = serde_json::from_slice(&body).unwrap_or_else(|_| {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    });
    let now = j.clock.unix();
    let (status, v) = j.oauth.lock().token_endpoint(&parsed, now);
    into_response(JResp::with(status, v))
}

async fn resources(State(j): State<Arc<Jira>>, req: Request) -> Response {
    let (parts, _) = match read(req).await {
        Ok(x) => x,
        Err(e) => return into_response(e.into()),
    };
    let who = {
        let db = j.db.read();
        let oauth = j.oauth.lock();
        authenticate(&db, &oauth, &parts.headers, j.clock.unix())
    };
    match who {
        Ok(Some(c)) => {
            let scopes: Vec<String> = c.scopes.unwrap_or_default().into_iter().collect();
            into_response(JResp::ok(json!([{
                "id": CLOUD_ID, "url": j.base_url, "name": "itsm-sim", "scopes": scopes,
                "avatarUrl": format!("{}/avatar/site", j.base_url)
            }])))
        }
        Ok(None) => into_response(JiraError::unauthenticated().into()),
        Err(e) => into_response(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_versions_and_the_gateway_prefix() {
        let (v, s) = split("/rest/api/3/issue/SEC-1").expect("v3");
        assert_eq!(
            (v, s),
            (Version::V3, vec!["issue".to_string(), "SEC-1".into()])
        );
        assert_eq!(
            split("/rest/api/latest/myself").map(|x| x.0),
            Some(Version::V2)
        );
        let gw = format!("/ex/jira/{CLOUD_ID}/rest/api/3/myself");
        assert_eq!(split(&gw).map(|x| x.1), Some(vec!["myself".to_string()]));
        assert!(split("/ex/jira/other/rest/api/3/myself").is_none());
        assert!(split("/rest/api/4/myself").is_none());
    }
}
