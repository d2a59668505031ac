//! `ingest-webhook`: the fast path of the inbound loop. Vendors POST deliveries to
//! `/v1/webhooks/{integration_id}`; each is authenticated (by its vendor's scheme, with every
//! active secret of the integration: `lockstep_connectors::webhook`) before
//! anything reads its content, published raw to `lockstep.webhook.<tenant>.<integration>` (in a
//! group with the integration's other deliveries of the moment, see `group_commit`), and answered
//! 202 only after JetStream acknowledged it. The sync-applier gives it meaning.
//!
//! Answers: 202 stored (or already stored), 401 for every authentication failure including an
//! unknown or inactive integration (each doing the same verification work), 413 over the body
//! limit (which leaves room for the envelope within NATS's max_payload, see [`limits`]), 408 for a
//! body that does not arrive in time, 429 when too many deliveries are in flight, 503 when storing
//! is not confirmed (JetStream or the database unreachable, or the acknowledgement late: the
//! delivery may still be stored, and a retry never applies twice) — the latter two with
//! `Retry-After`, so the vendor retries and an acknowledged delivery is never lost. Slow and idle
//! clients are cut off by the server in `serve`.

mod app;
pub mod config;
mod error;
mod group_commit;
pub mod limits;
mod metrics;
mod receive;
mod serve;
mod targets;

pub use app::{App, Deps};
pub use config::{Config, IngestSettings};
pub use error::IngestError;
