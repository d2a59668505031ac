//! Webhook-secret rotation routes: each calls `IntegrationService` of this process, the
//! functions gRPC calls. Admin role (the service checks it). A generated secret is in the
//! rotation's answer only; like every API answer it carries `Cache-Control: no-store`.

use axum::Json;
use axum::extract::{Path, State};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::integration_service_server::IntegrationService as _;
use lockstep_service_kit::problem::Problem;

use super::HttpState;
use super::dto_admin::{RotateWebhookSecretBody, WebhookSecrets};
use super::extract::{Body, Credential};

/// Makes a new webhook secret current; the one it replaces stays accepted until retired, so
/// the vendor can switch over without a delivery being refused.
#[utoipa::path(post, path = "/v1/integrations/{id}/webhook-secret", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), request_body = RotateWebhookSecretBody,
    responses((status = 200, body = WebhookSecrets)))]
pub async fn rotate(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
    Body(body): Body<RotateWebhookSecretBody>,
) -> Result<Json<WebhookSecrets>, Problem> {
    let req = pb::RotateWebhookSecretRequest {
        id,
        webhook_secret: body.webhook_secret,
        generate: body.generate,
    };
    let resp = state
        .integrations
        .rotate_webhook_secret(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

/// Stops accepting every previous webhook secret: only the current one is accepted after this.
#[utoipa::path(post, path = "/v1/integrations/{id}/webhook-secret/retire", tag = "integrations",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = WebhookSecrets)))]
pub async fn retire(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<Json<WebhookSecrets>, Problem> {
    let req = pb::RetireWebhookSecretsRequest { id };
    let resp = state
        .integrations
        .retire_webhook_secrets(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}
