//! The delivery loop: jobs wait in due-time order and are sent one at a time, so with no delay,
//! jitter or reordering configured a target sees events in the order they happened.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::{DEFAULT_TOKEN_HEADER, Job, Signing, Webhooks, sign};

pub(crate) async fn run(
    hooks: Arc<Webhooks>,
    mut rx: mpsc::UnboundedReceiver<Job>,
    client: reqwest::Client,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut queue: BTreeMap<(Instant, u64), Job> = BTreeMap::new();
    loop {
        let next_due = queue.first_key_value().map(|((due, _), _)| *due);
        let wait = async move {
            match next_due {
                Some(due) => tokio::time::sleep_until(due).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.changed() => break,
            job = rx.recv() => match job {
                Some(job) => { queue.insert((job.due, job.delivery_id), job); }
                None => break,
            },
            _ = wait => {
                if let Some((_, job)) = queue.pop_first()
                    && hooks.is_current(job.generation)
                {
                    send(&hooks, &client, job).await;
                }
            }
        }
    }
}

async fn send(hooks: &Webhooks, client: &reqwest::Client, job: Job) {
    let spec = &job.target.spec;
    // The attempt's own wall-clock time: receivers check it against theirs (±5 min), so it does not
    // follow the emulator's adjustable record clock.
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut headers = BTreeMap::new();
    headers.insert("content-type".to_string(), "application/json".to_string());
    match spec.signing {
        Signing::StandardWebhooks => {
            headers.insert("webhook-id".to_string(), job.event.event_id.clone());
            headers.insert("webhook-timestamp".to_string(), timestamp.to_string());
            if let Some(secret) = &spec.secret {
                headers.insert(
                    "webhook-signature".to_string(),
                    sign::signature(secret, &job.event.event_id, timestamp, &job.event.body),
                );
            }
        }
        Signing::HubSha256 => {
            if let Some(secret) = &spec.secret {
                headers.insert(
                    "x-hub-signature".to_string(),
                    sign::hub_signature(secret, &job.event.body),
                );
            }
        }
    }
    for (k, v) in &job.event.headers {
        headers.insert(k.to_ascii_lowercase(), v.clone());
    }
    if job.retry > 0
        && let Some(name) = spec.retry.as_ref().and_then(|r| r.header.as_ref())
    {
        headers.insert(name.to_ascii_lowercase(), job.retry.to_string());
    }
    if let Some(token) = &spec.token {
        let name = spec
            .token_header
            .as_deref()
            .unwrap_or(DEFAULT_TOKEN_HEADER)
            .to_ascii_lowercase();
        headers.insert(name, token.clone());
    }
    let mut req = client
        .post(&spec.url)
        .timeout(hooks.timeout())
        .body(job.event.body.clone());
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let result = match req.send().await {
        Ok(resp) => Ok(resp.status().as_u16()),
        Err(e) => Err(e.to_string()),
    };
    hooks.retry_after_failure(&job, &result);
    hooks.finish(job.delivery_id, headers, result);
}
