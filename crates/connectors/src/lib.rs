//! Lockstep's vendor connectors: the one seam between the services and every vendor.
//!
//! - [`Connector`] ([`connector`]): the dyn-safe async trait the services call (connection test,
//!   create single and bulk, find by correlation, outbound push, change feed, optional SLA,
//!   field metadata, deep link), with its vendor-neutral types.
//! - [`VendorSpec`] ([`spec`]): what a vendor is without a client (webhook authentication, the
//!   payload parser, URL normalisation, container parsing, deep-link shape, connector factory).
//! - [`registry`]: the only `match` on `Vendor`; [`Connectors`] builds and caches the connectors
//!   of stored integrations from their sealed [`Credentials`] ([`credentials`]).
//! - [`webhook`]: the one webhook verifier (several active secrets, for rotation);
//!   [`webhook_setup`]: the optional capability to register the vendor's webhook
//!   ([`Connector::webhooks`]) and the manual steps when it cannot.
//! - One module per vendor builds requests and parses answers; the one [`http::HttpExecutor`]
//!   does the IO for all of them (timeouts, safe retries, `Retry-After`, bounded concurrency per
//!   integration, masked logging, metrics). Errors of every vendor are one [`ConnectorError`],
//!   whose [`ErrorClass`] the services map to gRPC and HTTP statuses in one place.
//!
//! ServiceNow ([`servicenow`]) and ServiceDesk Plus ([`sdp`]) are implemented; Jira so far brings
//! only its webhook authentication ([`jira`]).

pub mod connector;
pub mod credentials;
pub mod error;
pub mod http;
pub mod jira;
pub mod registry;
mod root_url;
pub mod sdp;
pub mod servicenow;
pub mod sink;
pub mod spec;
pub mod webhook;
pub mod webhook_setup;

pub use connector::{
    CheckReport, CheckStatus, Choice, ConnectionReport, Connector, CreatedTicket, FeedBatch,
    FieldInfo, FieldMetadata, MappingCheck, OutboundChange, SlaSource, SlaStatus, TicketCreate,
};
pub use credentials::{AuthKind, Credentials};
pub use error::{AuthFailure, ConnectorError, ErrorClass, Result};
pub use http::{HttpConfig, HttpExecutor, RetryPolicy, install_crypto_provider};
pub use registry::{Connectors, IntegrationAccess, Registry};
pub use sink::{CredentialsSink, CredentialsSinks};
pub use spec::{ConnectorSetup, VendorSpec};
pub use webhook_setup::{RegisteredWebhook, WebhookRegistrar, WebhookRequest};
