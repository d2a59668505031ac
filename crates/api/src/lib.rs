//! `api`: Lockstep's gRPC API for admins and analysts.
//!
//! - `IntegrationService` ([`integrations`]): integrations with sealed credentials (never
//!   returned), connection test, credential rotation, webhook secret rotation with overlap
//!   (`webhook_secrets`). Writes need an admin token.
//! - `MappingService` ([`mapping`]): severity and status rules, checked against the instance's
//!   choice lists.
//! - `PresetService` ([`presets`]): tenant-wide ticket field defaults.
//! - `FindingService` ([`findings`]): import (JSON, SARIF 2.1.0 — [`import`]), list, get with
//!   ticket links, activity feed, analyst status changes (published as
//!   `lockstep.finding.changed`, which the ticket-writer pushes to the tickets).
//! - `WorkbenchService` ([`workbench`]): every ticket-linked finding, filtered and paged.
//! - `TokenService` ([`tokens`]): the tenant's API tokens, listed and revoked (admin).
//!
//! Every RPC authenticates a bearer token and scopes every read and write to its tenant; ids of
//! another tenant behave exactly like ids that do not exist.
//!
//! [`http`]: the same services as an HTTP JSON API (`docs/http-api.md`), each route calling the
//! service object its gRPC twin runs.

mod app;
pub mod config;
mod ctx;
mod fields;
pub mod findings;
pub mod http;
pub mod import;
pub mod import_ndjson;
pub mod import_stream;
pub mod integrations;
pub mod mapping;
pub mod presets;
mod replay;
pub mod tokens;
mod webhook_secrets;
mod webhook_setup;
pub mod workbench;

pub use app::{App, Deps};
pub use config::Config;
