//! The harness tested against the real servers it wraps.

use std::time::Duration;

use futures::TryStreamExt;
use lockstep_testkit::{TestDb, TestNats, cleanup_stale_test_databases};

#[tokio::test]
async fn every_test_database_is_fresh_migrated_and_dropped_afterwards() {
    let (a, b) = (TestDb::new().await, TestDb::new().await);
    assert_ne!(a.name(), b.name());

    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
           AND table_name IN ('tenants', 'findings', 'ticket_links', 'inbox', 'poll_state')",
    )
    .fetch_one(a.pool())
    .await
    .unwrap();
    assert_eq!(tables, 5, "the schema is migrated");

    a.store().tenants().create("only in a").await.unwrap();
    let in_b: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(b.pool())
        .await
        .unwrap();
    assert_eq!(in_b, 0, "databases do not share rows");

    let name = a.name().to_owned();
    let admin = b.pool().clone();
    drop(a);
    let still_there: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&admin)
            .await
            .unwrap();
    assert!(!still_there, "{name} is dropped with its TestDb");
}

#[tokio::test]
async fn the_stale_sweep_leaves_live_test_databases_alone() {
    let db = TestDb::new().await;
    let dropped = cleanup_stale_test_databases().await.unwrap();
    assert!(!dropped.iter().any(|name| name == db.name()));
    db.store().ping().await.unwrap();
}

#[tokio::test]
async fn nats_tests_get_private_prefixes_and_their_streams_are_deleted() {
    let nats = TestNats::new().await;
    let other = TestNats::new().await;
    assert_ne!(nats.prefix(), other.prefix());

    let name = nats.stream_name("LOCKSTEP");
    nats.jetstream()
        .create_stream(async_nats::jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![nats.subject("lockstep.>")],
            max_age: Duration::from_secs(60),
            ..Default::default()
        })
        .await
        .unwrap();
    nats.jetstream()
        .publish(nats.subject("lockstep.test"), "hi".into())
        .await
        .unwrap()
        .await
        .unwrap();

    let observer = other.jetstream().clone();
    drop(nats);
    let names: Vec<String> = observer.stream_names().try_collect().await.unwrap();
    assert!(
        !names.contains(&name),
        "{name} is deleted with its TestNats"
    );
}
