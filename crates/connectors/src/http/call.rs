//! One JSON REST call as a vendor module describes it, before it becomes a [`VendorRequest`].
//!
//! ServiceNow and Jira both speak plain JSON REST: an operation name for logs and metrics, a
//! method, a path below the vendor's API root, query pairs, an optional JSON body and whether
//! running it twice is harmless. Each client resolves the path against its own root; turning the
//! rest into a request is the same for both and lives here.

use http::{HeaderValue, Method, header};
use lockstep_domain::{IntegrationId, Vendor};
use serde_json::Value;
use url::Url;

use super::VendorRequest;
use crate::error::Result;

/// One REST call with a JSON body and a JSON answer.
#[derive(Debug, Clone)]
pub(crate) struct RestCall {
    pub op: &'static str,
    pub method: Method,
    /// Below the vendor's API root; the client decides what root that is.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    /// Overrides the method's default idempotency (e.g. a PATCH that only sets fields).
    pub idempotent: Option<bool>,
    /// Send without credentials (a reachability probe).
    pub anonymous: bool,
}

impl RestCall {
    pub fn new(op: &'static str, method: Method, path: impl Into<String>) -> Self {
        Self {
            op,
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            idempotent: None,
            anonymous: false,
        }
    }

    pub fn get(op: &'static str, path: impl Into<String>) -> Self {
        Self::new(op, Method::GET, path)
    }

    pub fn post(op: &'static str, path: impl Into<String>, body: Value) -> Self {
        Self::new(op, Method::POST, path).body(body)
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// The request to `url` (this call's path already resolved against the client's root): the
    /// query pairs appended, `Accept: application/json`, the JSON body and idempotency set.
    pub fn to_request(
        &self,
        vendor: Vendor,
        integration: IntegrationId,
        mut url: Url,
    ) -> Result<VendorRequest> {
        if !self.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(self.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut req = VendorRequest::new(vendor, self.op, integration, self.method.clone(), url)
            .header(header::ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(body) = &self.body {
            req = req.json(body)?;
        }
        if let Some(idempotent) = self.idempotent {
            req = req.idempotent(idempotent);
        }
        Ok(req)
    }
}
