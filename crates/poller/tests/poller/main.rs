//! Integration tests of the poller against a real PostgreSQL, NATS JetStream and the ServiceNow
//! emulator (one of each per test).

mod cycle;
mod fake_vendor;
mod faults;
mod notices;
mod replicas;
mod reset;
mod resync_ticket;
mod sla;
mod support;
mod sync_service;
mod watermark;
