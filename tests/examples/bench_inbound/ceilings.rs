//! Ceilings measured in the same run, beside the JetStream baselines: how fast each half of
//! the inbound loop could go on this machine if everything of ours but the unavoidable part cost
//! nothing.
//!
//! - **HTTP floor**: the same client, signed requests and concurrency against an endpoint that
//!   answers 202 without verifying, parsing or storing anything. The load generator shares the two
//!   cores with the receiver, so no receiver measured this way can go faster.
//! - **PostgreSQL floor**: the applier's own batch statements (`batch::apply_batch`: inbox claim,
//!   row locks, link, finding and activity writes) on events decoded beforehand, with the
//!   applier's worker count and transaction size, and no JetStream at all.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use lockstep_platform::Shutdown;
use lockstep_store::Store;
use lockstep_sync_applier::apply::{Applied, Receiver};
use lockstep_sync_applier::batch::apply_batch;
use lockstep_sync_applier::decode::Inbound;

/// Serves `POST /v1/webhooks/{id}` answering 202 at once, on a port of its own, until `stop`.
/// Returns the URL to post to for `integration`.
pub async fn start_http_floor(integration: &str, stop: Shutdown) -> anyhow::Result<String> {
    let router = Router::new().route(
        "/v1/webhooks/{integration_id}",
        post(|_body: Bytes| async {
            (
                StatusCode::ACCEPTED,
                axum::Json(serde_json::json!({ "status": "accepted", "duplicate": false })),
            )
        }),
    );
    let (listener, addr) = lockstep_platform::bind(([127, 0, 0, 1], 0).into()).await?;
    tokio::spawn(lockstep_platform::serve(listener, router, stop));
    Ok(format!("http://{addr}/v1/webhooks/{integration}"))
}

/// Applies `events` with `workers` concurrent tasks, `per_transaction` events per transaction, as
/// the applier's workers would, and returns events per second. Every event must apply and change
/// its finding, or the figure would measure a cheaper path.
pub async fn postgres_floor(
    store: &Store,
    events: Vec<Inbound>,
    workers: usize,
    per_transaction: usize,
) -> anyhow::Result<f64> {
    let total = events.len();
    let chunks: VecDeque<Vec<Inbound>> = events
        .chunks(per_transaction.max(1))
        .map(<[Inbound]>::to_vec)
        .collect();
    let queue = Arc::new(Mutex::new(chunks));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let (store, queue) = (store.clone(), queue.clone());
            tokio::spawn(async move {
                let mut changed = 0;
                loop {
                    let Some(chunk) = queue.lock().unwrap().pop_front() else {
                        return anyhow::Ok(changed);
                    };
                    let mut tx = store.begin().await?;
                    let refs: Vec<&Inbound> = chunk.iter().collect();
                    let results = apply_batch(
                        &mut tx,
                        &Receiver::new("postgres-floor", time::OffsetDateTime::now_utc()),
                        &refs,
                    )
                    .await?;
                    tx.commit().await?;
                    changed += results
                        .iter()
                        .filter(|r| matches!(r, Applied::Applied { change: Some(_) }))
                        .count();
                }
            })
        })
        .collect();
    let mut changed = 0;
    for task in tasks {
        changed += task.await??;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(
        changed == total,
        "only {changed} of {total} events changed their finding in the PostgreSQL floor run"
    );
    Ok(rate)
}

/// Runs `n` jobs with `concurrency` workers; returns jobs per second.
pub async fn closed_loop<F, Fut>(n: usize, concurrency: usize, job: F) -> f64
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, job) = (next.clone(), job.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    job(i).await;
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}
