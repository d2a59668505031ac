//! Slow, idle and oversized clients over raw TCP: each is cut off within the configured time, the
//! connection bound holds, and a shutdown with such clients connected ends within its drain time.

use std::time::{Duration, Instant};

use lockstep_bus::Bus;
use lockstep_domain::{IntegrationId, Vendor};
use lockstep_store::IntegrationSettings;
use lockstep_testkit::{TestDb, TestNats};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::*;

/// Far beyond every configured time below: reaching it means the server never cut the client off.
const NEVER: Duration = Duration::from_secs(20);

async fn setup(env: &[(&str, &str)]) -> (TestDb, TestNats, IntegrationId, Running) {
    let db = TestDb::new().await;
    let nats = TestNats::new().await;
    let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
    let (_, id) = integration(
        db.store(),
        Vendor::ServiceNow,
        IntegrationSettings::default(),
    )
    .await;
    let app = start(config(&db, "production", env), db.store(), &bus).await;
    (db, nats, id, app)
}

async fn connect(app: &Running) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (EOF or reset) and returns what it sent, or
/// panics after [`NEVER`].
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(NEVER, read)
        .await
        .expect("the server never closed the connection");
    String::from_utf8_lossy(&received).into_owned()
}

const SHORT: &[(&str, &str)] = &[
    ("LOCKSTEP_INGEST__HEADER_READ_TIMEOUT", "300ms"),
    ("LOCKSTEP_INGEST__BODY_READ_TIMEOUT", "300ms"),
];

#[tokio::test]
async fn half_the_headers_or_none_at_all_are_cut_off_at_the_header_timeout() {
    let (_db, _nats, id, app) = setup(SHORT).await;
    let mut half = connect(&app).await;
    half.write_all(format!("POST /v1/webhooks/{id} HTTP/1.1\r\nHost: t\r\nContent-Ty").as_bytes())
        .await
        .unwrap();
    let mut idle = connect(&app).await;
    let started = Instant::now();
    until_closed(&mut half).await;
    until_closed(&mut idle).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_413_before_any_of_it_is_read() {
    let (_db, _nats, id, app) = setup(SHORT).await;
    let mut client = connect(&app).await;
    client
        .write_all(
            format!(
                "POST /v1/webhooks/{id} HTTP/1.1\r\nHost: t\r\nContent-Length: 104857600\r\n\r\nhello"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let answer = until_closed(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408_at_the_body_timeout() {
    let (_db, _nats, id, app) = setup(SHORT).await;
    let mut client = connect(&app).await;
    client
        .write_all(
            format!(
                "POST /v1/webhooks/{id} HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nhello"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let answer = until_closed(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test]
async fn past_max_connections_a_new_connection_waits_until_one_closes() {
    let (_db, _nats, _id, app) = setup(&[("LOCKSTEP_INGEST__MAX_CONNECTIONS", "1")]).await;
    let held = connect(&app).await;
    let mut second = connect(&app).await;
    second
        .write_all(b"POST /v1/webhooks/x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), second.peek(&mut buf)).await;
    assert!(
        early.is_err(),
        "the second connection was served while the first held the only slot"
    );
    drop(held);
    let answer = until_closed(&mut second).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn shutdown_with_slow_clients_connected_ends_within_the_drain_time() {
    // Timeouts far beyond the drain, so only the drain can end these connections.
    let (_db, _nats, id, app) = setup(&[
        ("LOCKSTEP_INGEST__HEADER_READ_TIMEOUT", "60s"),
        ("LOCKSTEP_INGEST__BODY_READ_TIMEOUT", "60s"),
        ("LOCKSTEP_INGEST__SHUTDOWN_DRAIN", "500ms"),
    ])
    .await;
    let mut slow_body = connect(&app).await;
    slow_body
        .write_all(
            format!(
                "POST /v1/webhooks/{id} HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nhello"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut half = connect(&app).await;
    half.write_all(b"POST /v1/webhooks/x HTTP/1.1\r\nHo")
        .await
        .unwrap();
    // A request on each connection has reached the server once a fresh one is answered.
    let probe = http().post(app.url(id)).body("{}").send().await.unwrap();
    assert_eq!(probe.status(), 401);

    let started = Instant::now();
    app.shutdown.trigger();
    tokio::time::timeout(NEVER, app.task)
        .await
        .expect("shutdown waited for the slow clients")
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "shutdown took {took:?} with a 500ms drain"
    );
    until_closed(&mut slow_body).await;
    until_closed(&mut half).await;
}

#[tokio::test]
async fn a_chunked_body_that_outgrows_the_limit_is_refused_413() {
    let (_db, _nats, id, app) = setup(&[("LOCKSTEP_INGEST__MAX_BODY_BYTES", "100")]).await;
    let mut client = connect(&app).await;
    let chunk = "x".repeat(200);
    client
        .write_all(
            format!(
                "POST /v1/webhooks/{id} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
                chunk.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let answer = until_closed(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    app.stop().await;
}
