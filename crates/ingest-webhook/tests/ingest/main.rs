//! ingest-webhook against real PostgreSQL and NATS: what is accepted, what is refused (and that
//! nothing refused reaches the stream), limits, metrics, and a NATS server restarted under load.

mod fuzz;
use lockstep_testkit::nats_server;
mod receive;
mod resilience;
mod rotation;
mod slow;
mod support;
mod timing;
