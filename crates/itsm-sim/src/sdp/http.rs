//! HTTP surface of the SDP emulator: `/api/v3/*` (the on-premises default portal),
//! `/app/<portal>/api/v3/*`, and the Zoho-like `POST /oauth/v2/token`.
//! `input_data` is read from the form body or the query string (reference B2: XSOAR sends it in
//! the query even on POST/PUT).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{any, post};
use http::{HeaderValue, header};
use serde_json::Value;

use super::errors::SdpError;
use super::{SReq, SResp, Sdp};

const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

pub fn router(sdp: Arc<Sdp>) -> Router {
    Router::new()
        .route("/api/v3/{*rest}", any(api))
        .route("/app/{portal}/api/v3/{*rest}", any(api))
        .route("/oauth/v2/token", post(token))
        .with_state(sdp)
}

fn respond(r: SResp) -> Response {
    let mut resp = Response::new(Body::from(r.body.to_string()));
    *resp.status_mut() = r.status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    resp
}

/// `(portal, segments after api/v3/)`; `None` for a path that is not a v3 call.
pub fn split(path: &str, default_portal: &str) -> Option<(String, Vec<String>)> {
    let (portal, rest) = match path.strip_prefix("/app/") {
        Some(rest) => {
            let (portal, rest) = rest.split_once('/')?;
            (portal.to_string(), rest.strip_prefix("api/v3/")?)
        }
        None => (default_portal.to_string(), path.strip_prefix("/api/v3/")?),
    };
    let segs = rest
        .trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    Some((portal, segs))
}

/// `input_data` from the form body, else the query string; JSON that does not parse is 4001.
pub fn input_data(query: &str, body: &[u8]) -> Result<Option<Value>, SdpError> {
    let from = |bytes: &[u8]| -> Option<String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).ok()?;
        pairs
            .into_iter()
            .find(|(k, _)| k == "input_data")
            .map(|(_, v)| v)
    };
    let Some(text) = from(body).or_else(|| from(query.as_bytes())) else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|_| SdpError::field(4001, "input_data", "Unable to parse JSON for : input_data"))
}

async fn api(State(sdp): State<Arc<Sdp>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return respond(SdpError::new(4000, "The request body is too large").into());
    };
    let default = sdp.default_portal();
    let Some((portal, segs)) = split(parts.uri.path(), &default) else {
        return respond(SdpError::not_found().into());
    };
    let input = match input_data(parts.uri.query().unwrap_or(""), &body) {
        Ok(v) => v,
        Err(e) => return respond(e.into()),
    };
    respond(sdp.handle(SReq {
        method: parts.method,
        portal,
        segs,
        headers: parts.headers,
        input,
    }))
}

/// Zoho Accounts' token endpoint (form-encoded; the query string is accepted too, as Zoho does).
async fn token(State(sdp): State<Arc<Sdp>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    let mut form: BTreeMap<String, String> =
        serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
    let posted: BTreeMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    form.extend(posted);
    let (status, v) = sdp.token_endpoint(&form);
    respond(SResp { status, body: v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_both_base_paths() {
        let (p, s) = split("/app/secops/api/v3/requests/12", "itdesk").expect("portal form");
        assert_eq!(
            (p.as_str(), s),
            ("secops", vec!["requests".to_string(), "12".into()])
        );
        let (p, s) = split("/api/v3/requests", "itdesk").expect("plain form");
        assert_eq!((p.as_str(), s), ("itdesk", vec!["requests".to_string()]));
        assert!(split("/app/secops/api/v2/requests", "itdesk").is_none());
    }

    #[test]
    fn input_data_comes_from_the_body_or_the_query() {
        let q = "input_data=%7B%22a%22%3A1%7D";
        assert_eq!(input_data(q, b"").unwrap().unwrap()["a"], 1);
        assert_eq!(input_data("", q.as_bytes()).unwrap().unwrap()["a"], 1);
        assert!(input_data("input_data=%7Bnope", b"").is_err());
        assert!(input_data("", b"").unwrap().is_none());
    }
}
