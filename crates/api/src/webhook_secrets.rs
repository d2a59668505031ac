//! Webhook secret rotation with overlap (`RotateWebhookSecret`, `RetireWebhookSecrets`, admin
//! only): the new secret becomes current while the replaced one stays accepted, so the vendor can
//! switch over without a delivery being refused; retiring then stops accepting the old ones.
//! With `generate` the server makes the new secret and answers it once (the pages' rotate action).
//! ingest-webhook picks changes up within its secret cache's lifetime (30 s by default).

use lockstep_crypto::{Aad, Purpose};
use lockstep_proto::v1 as pb;
use lockstep_service_kit::convert::integration_id;
use lockstep_service_kit::{Access, status};
use tonic::{Request, Response, Status};

use crate::ctx::Ctx;
use crate::integrations::to_pb;

pub(crate) async fn rotate(
    ctx: &Ctx,
    request: Request<pb::RotateWebhookSecretRequest>,
) -> Result<Response<pb::WebhookSecretsResponse>, Status> {
    let caller = ctx
        .caller(&request, Access::Admin, "rotating a webhook secret")
        .await?;
    let req = request.into_inner();
    let id = integration_id("id", &req.id)?;
    let given = req.webhook_secret.trim();
    let generated = match (given.is_empty(), req.generate) {
        (false, true) => {
            return Err(Status::invalid_argument(
                "give webhook_secret or set generate, not both",
            ));
        }
        (true, false) => {
            return Err(Status::invalid_argument(
                "webhook_secret is required: the new secret the vendor will sign with \
                 (or set generate to have one generated)",
            ));
        }
        (true, true) => Some(crate::webhook_setup::generate_secret()?),
        (false, false) => None,
    };
    let secret = generated.as_deref().unwrap_or(given);
    let sealed = ctx
        .connectors
        .keyring()
        .seal(
            secret.as_bytes(),
            &Aad::new(caller.tenant, id, Purpose::WebhookSecret),
        )
        .map_err(|e| status::internal(&e))?;
    let integrations = || ctx.store.integrations();
    let record = integrations()
        .rotate_webhook_secret(caller.tenant, id, &sealed)
        .await
        .map_err(status::from_store)?;
    let previous = integrations()
        .previous_webhook_secret_count(caller.tenant, id)
        .await
        .map_err(status::from_store)?;
    tracing::info!(integration = %id, by = %caller.name, previous, "webhook secret rotated");
    Ok(Response::new(pb::WebhookSecretsResponse {
        integration: Some(to_pb(&record)),
        previous_secrets: u32::try_from(previous).unwrap_or(u32::MAX),
        retired: 0,
        // Answered once: only its sealed form is kept.
        webhook_secret: generated.unwrap_or_default(),
    }))
}

pub(crate) async fn retire(
    ctx: &Ctx,
    request: Request<pb::RetireWebhookSecretsRequest>,
) -> Result<Response<pb::WebhookSecretsResponse>, Status> {
    let caller = ctx
        .caller(&request, Access::Admin, "retiring webhook secrets")
        .await?;
    let id = integration_id("id", &request.get_ref().id)?;
    let retired = ctx
        .store
        .integrations()
        .retire_previous_webhook_secrets(caller.tenant, id)
        .await
        .map_err(status::from_store)?;
    let record = ctx
        .store
        .integrations()
        .get(caller.tenant, id)
        .await
        .map_err(status::from_store)?;
    tracing::info!(integration = %id, by = %caller.name, retired, "previous webhook secrets retired");
    Ok(Response::new(pb::WebhookSecretsResponse {
        integration: Some(to_pb(&record)),
        previous_secrets: 0,
        retired: u32::try_from(retired).unwrap_or(u32::MAX),
        webhook_secret: String::new(),
    }))
}
