//! A ticket-writer and a poller beside the api under test, as `lockstep up` runs them: the
//! HTTP API's ticket and re-sync routes call them over gRPC.

use std::net::SocketAddr;
use std::time::Duration;

use lockstep_bus::Bus;
use lockstep_platform::Shutdown;
use lockstep_store::Store;

use crate::support::keyring;

/// Starts both on port 0 with `env` (the test's database, NATS prefix and emulator CA) and
/// returns their gRPC addresses: (ticket-writer, poller).
pub async fn start(
    env: Vec<(String, String)>,
    store: &Store,
    bus: &Bus,
    shutdown: &Shutdown,
) -> (SocketAddr, SocketAddr) {
    let mut writer: lockstep_ticket_writer::Config = lockstep_platform::config::load_with_env(
        lockstep_ticket_writer::config::DEFAULTS,
        None,
        env.clone(),
    )
    .unwrap();
    // Nothing in these tests changes findings for the push to carry.
    writer.writer.push_enabled = false;
    let deps = lockstep_ticket_writer::Deps {
        store: store.clone(),
        bus: bus.clone(),
        keyring: keyring(),
    };
    let writer = lockstep_ticket_writer::App::build(writer, deps)
        .await
        .unwrap();
    let writer_addr = writer.local_addr();
    tokio::spawn(writer.run(shutdown.clone()));

    let mut poller: lockstep_poller::Config =
        lockstep_platform::config::load_with_env(lockstep_poller::config::DEFAULTS, None, env)
            .unwrap();
    // Only re-syncs poll in these tests.
    poller.poller.tick = Duration::from_secs(3600);
    let deps = lockstep_poller::Deps {
        store: store.clone(),
        bus: bus.clone(),
        keyring: keyring(),
        http: poller.vendor_http.executor().unwrap(),
    };
    let poller = lockstep_poller::App::build(poller, deps).await.unwrap();
    let poller_addr = poller.grpc_addr();
    tokio::spawn(poller.run(shutdown.clone()));
    (writer_addr, poller_addr)
}
