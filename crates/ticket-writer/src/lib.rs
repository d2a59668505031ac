//! `ticket-writer`: everything that writes tickets.
//!
//! - `TicketService` ([`service`]): `PreviewTickets` (the exact draft, nothing sent),
//!   `CreateTicket`, `BulkCreateTickets` (≤ 500, per-finding results) and `CheckTicketLinks`.
//! - No duplicates ([`writer`]): a pending link is written before the vendor call (the database
//!   allows one pending-or-live link per finding and integration); the write-back turns it live.
//!   A retry that meets a pending link looks the ticket up by its correlation id
//!   (`lockstep:<finding id>`) instead of creating another, and creates only once the pending
//!   link is older than any request could run ([`config::WriterSettings::pending_stale_after`]).
//! - Write-back: link (key, external id, URL), activity row, `lockstep.ticket.created`, metric
//!   `lockstep_finding_to_ticket_seconds`.
//! - Outbound status push ([`push`]): `lockstep.finding.changed` events whose origin is not the
//!   vendor move the linked tickets per the integration's outbound rules.

mod app;
pub mod config;
pub mod push;
pub mod service;
pub mod spec;
pub mod writer;

pub use app::{App, Deps};
pub use config::Config;
