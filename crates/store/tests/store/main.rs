//! Integration tests of lockstep-store against a real PostgreSQL: one database per test (testkit),
//! so every test runs in parallel with the others.

mod activity;
mod apply_batch;
mod connect;
mod finding_lists;
mod findings;
mod helpers;
mod inbox;
mod integrations;
mod isolation;
mod links;
mod mapping;
mod poll_claims;
mod poll_state;
mod presets;
mod sla_batch;
mod tenants;
mod transactions;
mod version_guard;
mod workbench;
mod workbench_copies;
