//! `ingest-webhook`: the fast path of the inbound loop. Vendors POST deliveries to
//! `/v1/webhooks/{integration_id}`; each is authenticated (per vendor, see [`verify`]) before
//! anything reads its content, published raw to `lockstep.webhook.<tenant>.<integration>` (in a
//! group with the integration's other deliveries of the moment, see `group_commit`), and answered
//! 202 only after JetStream acknowledged it. The sync-applier gives it meaning.
//!
//! Answers: 202 stored (or already stored), 401 for every authentication failure including an
//! unknown or inactive integration, 413 over the body limit, 429 when too many deliveries are in
//! flight, 503 when JetStream (or the database) cannot be reached — the latter two with
//! `Retry-After`, so the vendor retries and an acknowledged delivery is never lost.

mod app;
pub mod config;
mod error;
mod group_commit;
pub mod limits;
mod metrics;
mod receive;
mod serve;
mod targets;
pub mod verify;

pub use app::{App, Deps};
pub use config::{Config, IngestSettings};
pub use error::IngestError;
