//! `POST /v1/webhooks/{integration_id}`: find the integration, verify, publish, and answer 202 only
//! once JetStream has stored the event.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use lockstep_crypto::SecretBytes;
use lockstep_domain::{IntegrationId, Vendor};
use lockstep_platform::telemetry::propagation;
use lockstep_proto::v1;
use ring::digest;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::config::IngestSettings;
use crate::error::IngestError;
use crate::group_commit::GroupCommit;
use crate::targets::{Target, Targets};
use lockstep_connectors::webhook::{
    self as verify, IntegrationSecret, Method, Presented, Rejection, WebhookSecrets,
};

/// The one route: where vendors deliver.
pub(crate) const ROUTE: &str = "/v1/webhooks/{integration_id}";

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
    /// Stands in for the secret of an unknown or inactive integration (or one without a
    /// secret), so its refusal costs what a real integration's does: random, made at start.
    pub dummy_secret: WebhookSecrets,
    /// Verifier runs since start (see [`crate::App::verifier_runs`]).
    pub verifier_runs: Arc<AtomicU64>,
}

/// A random secret of the usual shape (64 characters used as typed) that no sender can know.
pub(crate) fn dummy_secret() -> WebhookSecrets {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the system random generator works");
    let secret = IntegrationSecret::from_opened(SecretBytes::new(hex::encode(bytes)))
        .expect("a non-empty secret");
    WebhookSecrets::new(vec![secret])
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
    body: Body,
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
    body: Body,
    vendor_label: &mut &'static str,
) -> Result<Accepted, IngestError> {
    let body = read_body(&shared.settings, headers, body).await?;
    let unavailable = |source: Box<dyn std::error::Error + Send + Sync>| IngestError::Unavailable {
        retry_after: shared.settings.retry_after_secs,
        source,
    };
    // A malformed id looks up a fixed id that names nothing, so it costs what an unknown one does.
    let id: Option<IntegrationId> = integration.parse().ok();
    let target = shared
        .targets
        .get(id.unwrap_or_else(nobody))
        .await
        .map_err(|e| unavailable(Box::new(e)))?
        .filter(|_| id.is_some());
    let presented = Presented {
        headers,
        query,
        body: &body,
    };
    if let Some(target) = &target {
        *vendor_label = target.vendor.as_str();
    }
    let now = OffsetDateTime::now_utc();
    let method = authenticate(shared, target.as_deref(), &presented, now.unix_timestamp())
        .map_err(IngestError::Unauthorized)?;
    let target = target.ok_or(IngestError::Unauthorized(Rejection::UnknownIntegration))?;
    let auth = target.spec.webhook_auth();

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
        shared.group.store(
            target.tenant,
            target.integration,
            target.spec.webhook_payload_is_notice(),
            event,
        ),
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

/// The id a malformed integration id is looked up as: the nil UUID, which no integration has.
fn nobody() -> IntegrationId {
    "00000000-0000-0000-0000-000000000000"
        .parse()
        .expect("the nil UUID is an id")
}

/// The body, refused with 413 from `Content-Length` before any of it is read when the sender
/// declares too much, and with 408 when it does not arrive within `body_read_timeout`.
async fn read_body(
    settings: &IngestSettings,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, IngestError> {
    let limit = settings.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(IngestError::TooLarge { limit });
    }
    let content_type = headers.get(header::CONTENT_TYPE).map_or(0, |v| v.len());
    if content_type > crate::limits::MAX_CONTENT_TYPE {
        return Err(IngestError::BadBody(format!(
            "the Content-Type header is {content_type} bytes long; at most {} are accepted",
            crate::limits::MAX_CONTENT_TYPE
        )));
    }
    let read = tokio::time::timeout(
        settings.body_read_timeout,
        axum::body::to_bytes(body, limit),
    );
    match read.await {
        Err(_) => Err(IngestError::BodyTimeout(settings.body_read_timeout)),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => {
            let over = std::error::Error::source(&err)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
            Err(if over {
                IngestError::TooLarge { limit }
            } else {
                IngestError::BadBody(err.to_string())
            })
        }
    }
}

/// Checks the delivery's credentials with every vendor's verifier: the target's own against its
/// secret, every other (and all of them when there is no target: an unknown, deleted, inactive
/// or malformed id) against the dummy secret. So a refusal does the same work whatever the id
/// names, and its timing tells nothing about which integrations exist; the work depends on the
/// request alone. The target's verifier decides.
fn authenticate(
    shared: &Shared,
    target: Option<&Target>,
    presented: &Presented<'_>,
    now_unix: i64,
) -> Result<Method, Rejection> {
    let tolerance = shared.settings.timestamp_tolerance;
    let mut decided = Err(Rejection::UnknownIntegration);
    for &vendor in Vendor::ALL {
        let Ok(spec) = shared.targets.registry().spec(vendor) else {
            continue;
        };
        let auth = spec.webhook_auth();
        shared.verifier_runs.fetch_add(1, Ordering::Relaxed);
        let Some(target) = target.filter(|t| t.vendor == vendor) else {
            let outcome = auth.check(presented, &shared.dummy_secret, now_unix, tolerance);
            std::hint::black_box(outcome).ok();
            continue;
        };
        let allow_unsigned = target.allow_unsigned && shared.unsigned_permitted;
        decided = if target.secrets.is_empty() {
            // Without a secret only an unsigned delivery may pass; presented credentials are
            // still checked (against the dummy) so this refusal costs the same as the others.
            match auth.check(presented, &shared.dummy_secret, now_unix, tolerance) {
                Ok(None) if allow_unsigned => Ok(Method::Unsigned),
                Ok(None) => Err(Rejection::MissingCredentials),
                _ => Err(Rejection::NoSecret),
            }
        } else {
            verify::authenticate(
                auth,
                presented,
                &target.secrets,
                allow_unsigned,
                now_unix,
                tolerance,
            )
        };
    }
    decided
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
        // The request's span: the applier continues this delivery's trace even when it shares
        // a message with deliveries of other requests.
        traceparent: propagation::traceparent(&tracing::Span::current()),
    }
}
