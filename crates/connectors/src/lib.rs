//! Lockstep's vendor connectors. One module per vendor builds requests and parses answers; the
//! one [`http::HttpExecutor`] does the IO for all of them (timeouts, safe retries, `Retry-After`,
//! bounded concurrency per integration, masked logging, metrics). Errors of every vendor are one
//! [`ConnectorError`], whose [`ErrorClass`] the services map to gRPC and HTTP statuses.
//!
//! ServiceNow is first ([`servicenow`]); Jira and ServiceDesk Plus slot in beside it.

pub mod error;
pub mod http;
pub mod servicenow;

pub use error::{AuthFailure, ConnectorError, ErrorClass, Result};
pub use http::{HttpConfig, HttpExecutor, RetryPolicy, install_crypto_provider};
