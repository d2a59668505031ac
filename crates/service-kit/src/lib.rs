//! Shared plumbing of Lockstep's gRPC services (`api`, `ticket-writer`):
//!
//! - [`auth`]: bearer API tokens (hashed at rest) → a tenant-scoped [`Caller`] with a role;
//! - [`status`]: the one mapping of store, domain and connector errors to `tonic::Status`, and
//!   [`problem`], its HTTP twin (`application/problem+json`) for the HTTP JSON API;
//! - [`server`]: a tonic server with gRPC health and reflection (v1 and v1alpha), so `grpcurl`
//!   works against every service;
//! - [`trace`]: a server span per RPC continuing the caller's W3C trace context;
//! - [`convert`]: store records → API messages, and the request parsing helpers;
//! - [`ServiceDeps`]: PostgreSQL, JetStream and the keyring, connected from configuration;
//! - [`vendor`]: the vendor-neutral glue to the connector seam (`[vendor_http]`, credentials from
//!   requests, stored integrations handed to `lockstep_connectors::Connectors`).

pub mod auth;
pub mod convert;
pub mod credentials_sink;
mod deps;
pub mod problem;
pub mod server;
pub mod status;
pub mod trace;
pub mod vendor;

pub use auth::{Access, Authenticator, Caller};
pub use deps::ServiceDeps;
