//! End-to-end tests of the API against real PostgreSQL and NATS and the ServiceNow emulator.
//! One binary, one module per area.

mod support;

mod atomic;
mod auth;
mod destination;
mod findings;
mod hostile;
mod http_admin;
mod http_auth;
mod http_client;
mod http_edge;
mod http_import_stream;
mod http_parity;
mod integrations;
mod stack;
mod tenants;
mod webhook_setup;
