//! sync-applier against real PostgreSQL and NATS: transitions, idempotency, ordering,
//! dead letters, a crash between commit and publish, kill -9 mid-stream, decoder fuzzing, and a
//! vendor defined only in the tests.

mod batch;
mod crash;
mod fake_vendor;
mod future;
mod fuzz;
mod loop_;
mod support;
