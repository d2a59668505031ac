//! End-to-end tests of the API against real PostgreSQL and NATS and the ServiceNow emulator.
//! One binary, one module per area.

mod support;

mod atomic;
mod auth;
mod destination;
mod findings;
mod hostile;
mod integrations;
mod tenants;
