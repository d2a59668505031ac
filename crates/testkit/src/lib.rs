//! The development-only test harness of Lockstep (a dev-dependency, never shipped).
//!
//! * [`TestDb`]: a fresh, migrated PostgreSQL database per test, created from a template in tens
//!   of milliseconds and dropped afterwards;
//! * [`TestNats`]: a NATS JetStream connection with a per-test prefix for subjects and streams;
//! * [`free_listener`] / [`spawn_on_port_zero`]: servers on OS-chosen ports;
//! * [`init_tracing`]: test logs, shown when `TEST_LOG` is set;
//! * [`NatsServer`]: a private nats-server child process a test may kill, freeze or restart;
//! * [`loopback_vendor_allow_list`]: the setting that lets services reach a local emulator.
//!
//! Where the servers are comes from `DATABASE_URL` / `NATS_URL`, or from the `.run/env` file that
//! `make test` writes when it starts private instances (see [`mod@env`]).

pub mod env;
pub mod nats_auth;
pub mod nats_server;

mod cpu_times;
mod db;
mod logging;
mod nats;
mod net;
mod vendor;

pub use cpu_times::CpuTimes;
pub use db::{TestDb, cleanup_stale_test_databases};
pub use logging::init_tracing;
pub use nats::TestNats;
pub use nats_server::NatsServer;
pub use net::{free_listener, free_std_listener, spawn_on_port_zero};
pub use vendor::loopback_vendor_allow_list;
