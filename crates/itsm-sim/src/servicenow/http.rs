//! HTTP surface of the ServiceNow emulator: `/api/now/*` and `/oauth_token.do`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{any, post};
use http::{HeaderValue, header};

use super::ServiceNow;
use super::api::{ApiRequest, ApiResponse};
use super::errors::{MAX_BODY_BYTES, SnError};
use super::oauth;

pub fn router(sn: Arc<ServiceNow>) -> Router {
    Router::new()
        .route("/api/now/{*rest}", any(api))
        .route("/oauth_token.do", post(token))
        .with_state(sn)
}

/// Reads the body up to the platform's 10 MB limit (§1.1).
async fn read_body(req: Request) -> Result<(http::request::Parts, axum::body::Bytes), SnError> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = declared.filter(|len| *len > MAX_BODY_BYTES) {
        return Err(SnError::too_large(len));
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| SnError::too_large(declared.unwrap_or(MAX_BODY_BYTES + 1)))?;
    Ok((parts, bytes))
}

async fn api(State(sn): State<Arc<ServiceNow>>, req: Request) -> Response {
    let resp = match read_body(req).await {
        Ok((parts, body)) => sn.handle(ApiRequest {
            method: parts.method,
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or("").to_string(),
            headers: parts.headers,
            body,
        }),
        Err(e) => e.into(),
    };
    into_response(resp)
}

async fn token(State(sn): State<Arc<ServiceNow>>, req: Request) -> Response {
    let resp = match read_body(req).await {
        Ok((parts, body)) => {
            let ct = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            oauth::token(&sn, ct, &body)
        }
        Err(e) => e.into(),
    };
    into_response(resp)
}

/// Adds the headers every platform response carries (seen on captured responses, §1.3).
pub fn into_response(r: ApiResponse) -> Response {
    let mut resp = Response::new(Body::from(r.body));
    *resp.status_mut() = r.status;
    *resp.headers_mut() = r.headers;
    let h = resp.headers_mut();
    h.insert(header::SERVER, HeaderValue::from_static("ServiceNow"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache,no-store,must-revalidate,max-age=-1"),
    );
    h.insert(
        header::PRAGMA,
        HeaderValue::from_static("no-store,no-cache"),
    );
    h.insert(header::EXPIRES, HeaderValue::from_static("0"));
    resp
}
