//! End-to-end tests of the ticket-writer (with the api beside it) against real PostgreSQL and
//! NATS and the ServiceNow emulator. One binary, one module per area.

mod support;

mod crash;
mod create;
mod fake_vendor;
mod push;
mod tenants;
