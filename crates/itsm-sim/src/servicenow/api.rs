//! Transport-neutral request and response for everything under `/api/now`, so the Batch API can run
//! its sub-requests through exactly the code the HTTP handler uses.

use axum::body::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use serde_json::Value;

use super::errors::SnError;

#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    /// Raw query string (without `?`), kept verbatim for `Link` URLs.
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ApiRequest {
    pub fn params(&self) -> Params {
        Params(serde_urlencoded::from_str::<Vec<(String, String)>>(&self.query).unwrap_or_default())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

#[derive(Clone, Debug)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

impl ApiResponse {
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: Vec::new(),
        }
    }

    pub fn json(status: StatusCode, body: &Value) -> Self {
        let mut r = Self {
            status,
            headers: HeaderMap::new(),
            body: body.to_string().into_bytes(),
        };
        r.headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        r
    }

    pub fn error(e: &SnError) -> Self {
        let mut r = Self::json(e.status, &e.body());
        for (name, value) in &e.headers {
            r.set(name, value);
        }
        r
    }

    pub fn set(&mut self, name: &str, value: &str) {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            self.headers.insert(n, v);
        }
    }
}

impl From<SnError> for ApiResponse {
    fn from(e: SnError) -> Self {
        Self::error(&e)
    }
}
