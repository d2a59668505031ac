//! sync-applier against real PostgreSQL and NATS: transitions, idempotency, ordering,
//! dead letters, a crash between commit and publish, kill -9 mid-stream, and decoder fuzzing.

mod batch;
mod crash;
mod future;
mod fuzz;
mod loop_;
mod support;
