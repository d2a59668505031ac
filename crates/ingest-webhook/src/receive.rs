//! `POST /v1/webhooks/{integration_id}`: find the integration, verify, publish, and answer 202 only
//! once JetStream has stored the event.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use lockstep_domain::IntegrationId;
use lockstep_proto::v1;
use ring::digest;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::config::IngestSettings;
use crate::error::IngestError;
use crate::group_commit::GroupCommit;
use crate::targets::{Target, Targets};
use crate::verify::{self, Method, Presented, Rejection};

/// Everything a request needs, shared by all of them.
pub(crate) struct Shared {
    pub targets: Targets,
    /// Stores deliveries, grouping those of one integration that arrive together.
    pub group: GroupCommit,
    pub settings: IngestSettings,
    /// Whether allow_unsigned may be honoured at all (false in production mode).
    pub unsigned_permitted: bool,
    /// Bounds publishes in flight; a full receiver answers 429 instead of queueing.
    pub in_flight: Semaphore,
}

/// What was accepted, for the metric labels.
struct Accepted {
    vendor: &'static str,
    method: Method,
    duplicate: bool,
}

pub(crate) async fn receive(
    State(shared): State<Arc<Shared>>,
    Path(integration): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let mut vendor = "unknown";
    let result = handle(
        &shared,
        &integration,
        query.as_deref(),
        &headers,
        body,
        &mut vendor,
    )
    .await;
    let (status, outcome, reason) = match &result {
        Ok(a) => (
            StatusCode::ACCEPTED,
            "accepted",
            if a.duplicate {
                "duplicate"
            } else {
                a.method.as_str()
            },
        ),
        Err(e) => (e.status(), e.outcome(), e.reason()),
    };
    let vendor = match &result {
        Ok(a) => a.vendor,
        Err(_) => vendor,
    };
    metrics::counter!("lockstep_webhook_requests_total",
        "vendor" => vendor, "outcome" => outcome, "reason" => reason)
    .increment(1);
    metrics::histogram!("lockstep_webhook_response_seconds", "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(a) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "status": "accepted", "duplicate": a.duplicate })),
        )
            .into_response(),
        Err(err) => {
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                tracing::warn!(%integration, error = %err, "webhook not accepted");
            } else {
                tracing::info!(%integration, %status, reason, "webhook refused");
            }
            err.into_response()
        }
    }
}

async fn handle(
    shared: &Shared,
    integration: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    vendor_label: &mut &'static str,
) -> Result<Accepted, IngestError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => IngestError::TooLarge {
            limit: shared.settings.max_body_bytes,
        },
        _ => IngestError::BadBody(rejection.body_text()),
    })?;
    let unavailable = |source: Box<dyn std::error::Error + Send + Sync>| IngestError::Unavailable {
        retry_after: shared.settings.retry_after_secs,
        source,
    };
    let unknown = IngestError::Unauthorized(Rejection::UnknownIntegration);
    let id: IntegrationId = integration.parse().map_err(|_| unknown)?;
    let target = shared
        .targets
        .get(id)
        .await
        .map_err(|e| unavailable(Box::new(e)))?
        .ok_or(IngestError::Unauthorized(Rejection::UnknownIntegration))?;
    *vendor_label = target.vendor.as_str();

    let auth = verify::for_vendor(target.vendor);
    let presented = Presented {
        headers,
        query,
        body: &body,
    };
    let now = OffsetDateTime::now_utc();
    let method = verify::authenticate(
        auth,
        &presented,
        target.secret.as_ref(),
        target.allow_unsigned && shared.unsigned_permitted,
        now.unix_timestamp(),
        shared.settings.timestamp_tolerance,
    )
    .map_err(IngestError::Unauthorized)?;

    let delivery_id = auth.delivery_id(&presented);
    let event = event(&target, delivery_id, headers, &body, now);
    let event_id = event.event_id.clone();
    let _permit = shared
        .in_flight
        .try_acquire()
        .map_err(|_| IngestError::Overloaded {
            retry_after: shared.settings.retry_after_secs,
        })?;
    let published = tokio::time::timeout(
        shared.settings.publish_timeout,
        shared.group.store(target.tenant, target.integration, event),
    )
    .await
    .map_err(|elapsed| unavailable(Box::new(elapsed)))?
    .map_err(|e| match e {
        Some(err) => unavailable(Box::new(err)),
        None => unavailable("the publishing task ended without an answer".into()),
    })?;
    tracing::debug!(%event_id, sequence = published.sequence,
        duplicate = published.duplicate, "webhook stored");
    Ok(Accepted {
        vendor: target.vendor.as_str(),
        method,
        duplicate: published.duplicate,
    })
}

/// The event for a verified delivery. Its id is the integration plus the sender's delivery id
/// (the same on the sender's retries) or, without one, a hash of the body: a retried delivery
/// is the same event, which JetStream drops within its duplicate window and the applier's inbox
/// ignores after that.
fn event(
    target: &Target,
    delivery_id: Option<String>,
    headers: &HeaderMap,
    body: &Bytes,
    now: OffsetDateTime,
) -> v1::WebhookReceived {
    let dedupe_key = match &delivery_id {
        Some(id) => id.clone(),
        None => format!(
            "sha256-{}",
            hex::encode(digest::digest(&digest::SHA256, body))
        ),
    };
    v1::WebhookReceived {
        event_id: format!("wh:{}:{dedupe_key}", target.integration),
        tenant_id: target.tenant.to_string(),
        integration_id: target.integration.to_string(),
        vendor: target.vendor.as_str().to_owned(),
        body: body.to_vec(),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        delivery_id: delivery_id.unwrap_or_default(),
        received_at: Some(lockstep_proto::to_timestamp(now)),
    }
}
