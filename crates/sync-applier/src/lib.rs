//! `sync-applier`: turns vendor observations into finding transitions, exactly once in effect.
//!
//! It consumes `lockstep.webhook.>` (verified deliveries from ingest-webhook) and
//! `lockstep.observed.>` (the poller's readings) through one durable consumer that any number of
//! replicas share. Each event is parsed into a `TicketObservation` ([`decode`]), matched to its
//! ticket link inside the tenant, run through the domain transition with the integration's
//! inbound rules and auto-close policy, and stored in one transaction with its inbox row and
//! activity entry ([`apply`]). Only then is `lockstep.finding.changed` published (origin vendor)
//! and the event acknowledged. See [`worker`](crate::App) for batching and crash safety.
//!
//! Outcomes (metric `lockstep_events_total{consumer,outcome}`): `applied`; `duplicate` (the inbox
//! had it); `stale` (not newer than the link's version); `refused` (a vendor version more than
//! `max_clock_skew` ahead of the clock, flagged in the activity feed; see
//! `lockstep_domain::transition`); `ignored` (no live link for the ticket —
//! ServiceNow business rules fire for tickets Lockstep never made — or no inbound rule for the
//! state); `retried` (transient failure, nakked with a delay); `dead_lettered` (can never apply:
//! unparsable, unknown integration, wrong vendor; copied to `lockstep.deadletter.<consumer>`).

mod app;
pub mod apply;
pub mod batch;
pub mod config;
pub mod decode;
mod error;
mod metrics;
mod plan;
mod worker;

pub use app::{App, Deps};
pub use config::{ApplierSettings, Config};
pub use error::ApplierError;
