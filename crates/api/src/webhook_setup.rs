//! Webhook auto-setup around CreateIntegration and DeleteIntegration: the vendor's webhook back
//! to Lockstep registered through the connector's optional [`WebhookRegistrar`] and removed
//! again, or, when the vendor has no registrar or the account may not use it, the manual steps
//! the connector writes. Neither ever fails the create or the delete: the integration is what
//! the admin asked for, and the poller reads changes whether or not a webhook exists.

use lockstep_connectors::{ConnectorError, WebhookRequest};
use lockstep_domain::TicketTarget;
use lockstep_service_kit::vendor;
use lockstep_store::IntegrationRecord;
use ring::rand::{SecureRandom, SystemRandom};
use tonic::Status;
use url::Url;

use crate::ctx::Ctx;

/// What a create says about the webhook.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub registered_id: Option<String>,
    pub steps: Option<String>,
}

/// A new webhook secret: 32 random bytes, hex.
pub(crate) fn generate_secret() -> Result<String, Status> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Status::internal("no randomness for the webhook secret"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `<base>/v1/webhooks/<integration id>`, the delivery URL ingest-webhook serves.
pub(crate) fn callback_url(base: &str, record: &IntegrationRecord) -> Result<Url, Status> {
    let bad = || {
        Status::invalid_argument(format!(
            "webhook_base_url {base:?} is not an absolute http(s) URL such as \
             https://lockstep.example.com (or set [webhooks] public_base_url)"
        ))
    };
    let base = Url::parse(base.trim()).map_err(|_| bad())?;
    if !matches!(base.scheme(), "https" | "http") || base.host_str().is_none() {
        return Err(bad());
    }
    let path = format!(
        "{}/v1/webhooks/{}",
        base.path().trim_end_matches('/'),
        record.id
    );
    let mut url = base;
    url.set_path(&path);
    url.set_query(None);
    Ok(url)
}

/// Registers the webhook when `register` asks and the connector can; the manual steps otherwise.
/// `secret_text` is what the steps say about the secret: the secret itself when Lockstep
/// generated it (the admin must paste it; it is shown only in this answer), else a pointer to
/// the one the admin gave.
pub(crate) async fn set_up(
    ctx: &Ctx,
    record: &IntegrationRecord,
    callback: &Url,
    secret: &str,
    secret_text: &str,
    register: bool,
) -> Outcome {
    let scope: Vec<TicketTarget> = record
        .settings
        .default_table_or_project
        .as_deref()
        .and_then(|c| TicketTarget::parse(record.vendor, c).ok())
        .into_iter()
        .collect();
    let connector = match ctx.connectors.build(&vendor::access(record)) {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                registered_id: None,
                steps: Some(format!("Lockstep could not use the integration: {e}")),
            };
        }
    };
    let shown = WebhookRequest {
        callback_url: callback,
        secret: secret_text,
        scope: &scope,
    };
    let steps = |why: Option<String>| {
        let text = connector.manual_webhook_steps(&shown);
        Some(match why {
            Some(why) => format!("{why}\n{text}"),
            None => text,
        })
    };
    let registrar = match connector.webhooks() {
        Some(r) if register => r,
        Some(_) => {
            return Outcome {
                registered_id: None,
                steps: steps(None),
            };
        }
        None => {
            let why = register.then(|| {
                format!(
                    "Lockstep cannot register {} webhooks through its API.",
                    record.vendor.as_str()
                )
            });
            return Outcome {
                registered_id: None,
                steps: steps(why),
            };
        }
    };
    let request = WebhookRequest { secret, ..shown };
    match registrar.register(&request).await {
        Ok(done) => Outcome {
            registered_id: Some(done.vendor_id),
            steps: None,
        },
        Err(e) => {
            tracing::warn!(integration = %record.id, error = %e, "the vendor webhook was not registered; the answer carries the manual steps");
            let why = match &e {
                ConnectorError::Permission { .. } => {
                    format!("The integration's account may not manage webhooks ({e}).")
                }
                _ => format!("Registering the webhook failed ({e})."),
            };
            Outcome {
                registered_id: None,
                steps: steps(Some(why)),
            }
        }
    }
}

/// Removes the webhook Lockstep registered for `record`, if any. Best effort: a failure is
/// logged and returned as the text DeleteIntegration reports; the delete goes on.
pub(crate) async fn tear_down(ctx: &Ctx, record: &IntegrationRecord) -> Option<String> {
    let vendor_id = match ctx
        .store
        .integrations()
        .vendor_webhook_id(record.tenant_id, record.id)
        .await
    {
        Ok(Some(id)) => id,
        Ok(None) => return None,
        Err(e) => return Some(failed(record, "?", &e.to_string())),
    };
    let result = match ctx.connectors.build(&vendor::access(record)) {
        Ok(connector) => match connector.webhooks() {
            Some(registrar) => registrar.unregister(&vendor_id).await,
            None => Err(ConnectorError::unusable(
                "the vendor has no webhook registrar",
            )),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            tracing::info!(integration = %record.id, webhook = %vendor_id, "vendor webhook removed");
            None
        }
        Err(e) => Some(failed(record, &vendor_id, &e.to_string())),
    }
}

fn failed(record: &IntegrationRecord, vendor_id: &str, error: &str) -> String {
    tracing::warn!(integration = %record.id, webhook = %vendor_id, error, "the vendor webhook could not be removed; the integration is deleted anyway");
    format!(
        "The {} webhook {vendor_id} Lockstep registered could not be removed ({error}); remove \
         it by hand in the vendor's webhook settings (its URL ends in /v1/webhooks/{}).",
        record.vendor.as_str(),
        record.id
    )
}
