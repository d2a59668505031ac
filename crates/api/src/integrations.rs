//! `IntegrationService`: integrations with sealed credentials. Reads need any role, writes and
//! the connection test need admin. Credentials are never returned, only whether they are set and
//! a fingerprint of the sealed value.

use lockstep_connectors::{ConnectionReport, ConnectorError, VendorSpec};
use lockstep_crypto::{Aad, Purpose};
use lockstep_domain::{IntegrationId, Vendor};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::integration_service_server::IntegrationService;
use lockstep_service_kit::convert::{integration_id, page_size, ts};
use lockstep_service_kit::{Access, status, vendor};
use lockstep_store::{IntegrationRecord, IntegrationSettings, NewIntegration, StoreError};
use tonic::{Request, Response, Status};

use crate::ctx::{Ctx, id_for_request, offset_page};
use crate::replay;
use crate::webhook_setup;

pub struct Integrations {
    pub(crate) ctx: Ctx,
}

pub fn to_pb(record: &IntegrationRecord) -> pb::Integration {
    pb::Integration {
        id: record.id.to_string(),
        vendor: record.vendor.as_str().to_owned(),
        name: record.name.clone(),
        base_url: record.base_url.clone(),
        auth_kind: record.auth_kind.as_str().to_owned(),
        credentials_set: true,
        credentials_fingerprint: vendor::fingerprint(&record.sealed_credentials),
        webhook_secret_set: record.sealed_webhook_secret.is_some(),
        settings: Some(pb::IntegrationSettings {
            auto_close_on_resolve: record.settings.auto_close_on_resolve,
            default_table: record
                .settings
                .default_table_or_project
                .clone()
                .unwrap_or_default(),
            poll_interval_secs: record.settings.poll_interval_secs,
            allow_unsigned: record.settings.allow_unsigned,
        }),
        active: record.active,
        create_time: ts(record.created_at),
        update_time: ts(record.updated_at),
        credentials_rotate_time: ts(record.credentials_rotated_at),
        // Set by CreateIntegration only.
        registered_webhook_id: String::new(),
        webhook_setup_steps: String::new(),
    }
}

fn settings_from_pb(
    spec: &dyn VendorSpec,
    settings: Option<&pb::IntegrationSettings>,
) -> Result<IntegrationSettings, Status> {
    let Some(s) = settings else {
        return Ok(IntegrationSettings::default());
    };
    let table = s.default_table.trim();
    let default_table_or_project = if table.is_empty() {
        None
    } else {
        let target = spec.parse_container(table).map_err(|e| match e {
            ConnectorError::InvalidConfig { message } => {
                Status::invalid_argument(format!("settings.default_table {message}"))
            }
            other => Status::invalid_argument(format!("settings.default_table: {other}")),
        })?;
        Some(target.container().to_owned())
    };
    if s.poll_interval_secs != 0 && s.poll_interval_secs < 30 {
        return Err(Status::invalid_argument(
            "settings.poll_interval_secs must be at least 30 (or 0 for the default of 300)",
        ));
    }
    Ok(IntegrationSettings {
        auto_close_on_resolve: s.auto_close_on_resolve,
        default_table_or_project,
        poll_interval_secs: if s.poll_interval_secs == 0 {
            IntegrationSettings::DEFAULT_POLL_INTERVAL_SECS
        } else {
            s.poll_interval_secs
        },
        allow_unsigned: s.allow_unsigned,
    })
}

fn check_name(name: &str) -> Result<String, Status> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Status::invalid_argument(
            "name is required: one line of at most 100 characters, such as \"servicenow-prod\"",
        ));
    }
    Ok(name.to_owned())
}

pub fn report_to_pb(report: &ConnectionReport) -> pb::TestConnectionResponse {
    pb::TestConnectionResponse {
        ok: report.ok(),
        instance: report.instance.clone(),
        user_name: report.user_name.clone().unwrap_or_default(),
        checks: report
            .checks
            .iter()
            .map(|c| pb::ConnectionCheck {
                id: c.id.to_owned(),
                title: c.title.to_owned(),
                status: c.status.as_str().to_owned(),
                detail: c.detail.clone(),
                problem: c.problem.unwrap_or_default().to_owned(),
                remedy: c.remedy.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl IntegrationService for Integrations {
    async fn create_integration(
        &self,
        request: Request<pb::CreateIntegrationRequest>,
    ) -> Result<Response<pb::Integration>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Admin, "creating an integration")
            .await?;
        let req = request.into_inner();
        let replay_id = id_for_request(caller.tenant, "CreateIntegration", &req.request_id)?;
        let vendor_name = req.vendor.trim();
        let vendor: Vendor = if vendor_name.is_empty() {
            Vendor::ServiceNow
        } else {
            vendor_name
                .parse()
                .map_err(|e| Status::invalid_argument(format!("vendor: {e}")))?
        };
        let name = check_name(&req.name)?;
        let spec = self
            .ctx
            .connectors
            .registry()
            .spec(vendor)
            .map_err(|e| status::from_connector(&e))?;
        let base_url = spec
            .normalize_base_url(&req.base_url)
            .map_err(|e| match e {
                ConnectorError::Unusable { message } => Status::invalid_argument(message),
                other => Status::invalid_argument(format!("base_url: {other}")),
            })?;
        vendor::check_destination(&self.ctx.connectors, &base_url).await?;
        let credentials = vendor::credentials_from_pb(req.credentials.as_ref())?;
        vendor::check_auth_kind(spec.as_ref(), &credentials)?;
        let settings = settings_from_pb(spec.as_ref(), req.settings.as_ref())?;
        let id = replay_id.map_or_else(IntegrationId::new, IntegrationId::from_uuid);
        let keyring = self.ctx.connectors.keyring();
        let sealed_credentials =
            vendor::seal_credentials(keyring, caller.tenant, id, &credentials)?;
        let webhook_base = Some(req.webhook_base_url.trim())
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
            .or_else(|| self.ctx.webhook_base_url.clone());
        if req.register_webhook && webhook_base.is_none() {
            return Err(Status::invalid_argument(
                "register_webhook needs Lockstep's public webhook base URL: name webhook_base_url \
                 (https://lockstep.example.com) or set [webhooks] public_base_url in the api's config",
            ));
        }
        let given_secret = req.webhook_secret.trim();
        // A registered webhook always gets a secret: the admin's, else a generated one.
        let generated_secret = (req.register_webhook && given_secret.is_empty())
            .then(webhook_setup::generate_secret)
            .transpose()?;
        let secret = generated_secret.as_deref().unwrap_or(given_secret);
        let sealed_webhook_secret = if secret.is_empty() {
            None
        } else {
            Some(
                keyring
                    .seal(
                        secret.as_bytes(),
                        &Aad::new(caller.tenant, id, Purpose::WebhookSecret),
                    )
                    .map_err(|e| status::internal(&e))?,
            )
        };
        let new = NewIntegration {
            id,
            vendor,
            name,
            base_url,
            auth_kind: vendor::auth_kind(&credentials),
            sealed_credentials,
            sealed_webhook_secret,
            settings,
        };
        let store = &self.ctx.store;
        // A repeated request_id returns the original only if the request is the same.
        let replay = |existing: IntegrationRecord| {
            // A generated secret differs on every retry; the first call's one stands.
            let mut new = new.clone();
            if generated_secret.is_some() {
                new.sealed_webhook_secret = existing.sealed_webhook_secret.clone();
            }
            replay::same_integration(keyring, &req.request_id, existing, &new)
        };
        if replay_id.is_some() {
            match store.integrations().get(caller.tenant, id).await {
                Ok(existing) => return Ok(Response::new(to_pb(&replay(existing)?))),
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(status::from_store(e)),
            }
        }
        let record = match store.integrations().create(caller.tenant, &new).await {
            Ok(record) => record,
            // A concurrent retry with the same request_id may have won the race.
            Err(e) if replay_id.is_some() => replay(
                store
                    .integrations()
                    .get(caller.tenant, id)
                    .await
                    .map_err(|_| status::from_store(e))?,
            )?,
            Err(e) => return Err(status::from_store(e)),
        };
        tracing::info!(integration = %record.id, name = %record.name, by = %caller.name, "integration created");
        let mut created = to_pb(&record);
        if let Some(base) = webhook_base {
            let callback = webhook_setup::callback_url(&base, &record)?;
            let secret_text = match (&generated_secret, given_secret.is_empty()) {
                (Some(generated), _) => generated.clone(),
                (None, false) => "the webhook secret given when creating the integration".into(),
                (None, true) => "none is set: set one with RotateWebhookSecret first".into(),
            };
            let outcome = webhook_setup::set_up(
                &self.ctx,
                &record,
                &callback,
                secret,
                &secret_text,
                req.register_webhook,
            )
            .await;
            if let Some(id) = &outcome.registered_id {
                store
                    .integrations()
                    .set_vendor_webhook_id(caller.tenant, record.id, Some(id))
                    .await
                    .map_err(status::from_store)?;
                tracing::info!(integration = %record.id, webhook = %id, "vendor webhook registered");
            }
            created.registered_webhook_id = outcome.registered_id.unwrap_or_default();
            created.webhook_setup_steps = outcome.steps.unwrap_or_default();
        }
        Ok(Response::new(created))
    }

    async fn get_integration(
        &self,
        request: Request<pb::GetIntegrationRequest>,
    ) -> Result<Response<pb::Integration>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Read, "reading integrations")
            .await?;
        let id = integration_id("id", &request.get_ref().id)?;
        let record = self
            .ctx
            .store
            .integrations()
            .get(caller.tenant, id)
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(to_pb(&record)))
    }

    async fn list_integrations(
        &self,
        request: Request<pb::ListIntegrationsRequest>,
    ) -> Result<Response<pb::ListIntegrationsResponse>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Read, "listing integrations")
            .await?;
        let req = request.get_ref();
        let size = page_size(req.page_size, 50, 200)?;
        let all = self
            .ctx
            .store
            .integrations()
            .list(caller.tenant)
            .await
            .map_err(status::from_store)?;
        let (page, next_page_token) = offset_page(&all, size, &req.page_token)?;
        Ok(Response::new(pb::ListIntegrationsResponse {
            integrations: page.iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_integration(
        &self,
        request: Request<pb::UpdateIntegrationRequest>,
    ) -> Result<Response<pb::Integration>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Admin, "updating an integration")
            .await?;
        let req = request.into_inner();
        let id = integration_id("id", &req.id)?;
        let mask: Vec<&str> = req.update_mask.iter().map(|m| m.trim()).collect();
        if let Some(bad) = mask.iter().find(|m| !matches!(**m, "settings" | "active")) {
            return Err(Status::invalid_argument(format!(
                "update_mask names {bad:?}; updatable fields are settings and active"
            )));
        }
        let wants = |field: &str| mask.is_empty() || mask.contains(&field);
        let current = self
            .ctx
            .store
            .integrations()
            .get(caller.tenant, id)
            .await
            .map_err(status::from_store)?;
        let settings = if wants("settings") {
            let spec = self
                .ctx
                .connectors
                .registry()
                .spec(current.vendor)
                .map_err(|e| status::from_connector(&e))?;
            Some(settings_from_pb(spec.as_ref(), req.settings.as_ref())?)
        } else {
            None
        };
        if wants("active") && req.active && !current.active {
            // Where the name leads may have changed while the integration was inactive.
            vendor::check_destination(&self.ctx.connectors, &current.base_url).await?;
        }
        // Settings and `active` change together or not at all.
        let record = self
            .ctx
            .store
            .in_tx(async |tx| {
                let mut record = tx.integrations().get(caller.tenant, id).await?;
                if let Some(settings) = &settings {
                    record = tx
                        .integrations()
                        .update_settings(caller.tenant, id, settings)
                        .await?;
                }
                if wants("active") && record.active != req.active {
                    record = tx
                        .integrations()
                        .set_active(caller.tenant, id, req.active)
                        .await?;
                }
                Ok::<_, StoreError>(record)
            })
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(to_pb(&record)))
    }

    async fn delete_integration(
        &self,
        request: Request<pb::DeleteIntegrationRequest>,
    ) -> Result<Response<pb::DeleteIntegrationResponse>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Admin, "deleting an integration")
            .await?;
        let id = integration_id("id", &request.get_ref().id)?;
        let integrations = || self.ctx.store.integrations();
        let record = integrations()
            .get(caller.tenant, id)
            .await
            .map_err(status::from_store)?;
        // Before the delete, which wipes the credentials the vendor call needs.
        let webhook_cleanup = webhook_setup::tear_down(&self.ctx, &record).await;
        integrations()
            .delete(caller.tenant, id)
            .await
            .map_err(status::from_store)?;
        tracing::info!(integration = %id, by = %caller.name, "integration deleted");
        Ok(Response::new(pb::DeleteIntegrationResponse {
            webhook_cleanup: webhook_cleanup.unwrap_or_default(),
        }))
    }

    async fn test_connection(
        &self,
        request: Request<pb::TestConnectionRequest>,
    ) -> Result<Response<pb::TestConnectionResponse>, Status> {
        let caller = self
            .ctx
            .caller(
                &request,
                Access::Admin,
                "testing an integration's connection",
            )
            .await?;
        let id = integration_id("id", &request.get_ref().id)?;
        let record = self
            .ctx
            .store
            .integrations()
            .get(caller.tenant, id)
            .await
            .map_err(status::from_store)?;
        let client = self
            .ctx
            .connectors
            .build(&vendor::access(&record))
            .map_err(|e| status::from_connector(&e))?;
        let report = client.test_connection().await;
        Ok(Response::new(report_to_pb(&report)))
    }

    async fn rotate_credentials(
        &self,
        request: Request<pb::RotateCredentialsRequest>,
    ) -> Result<Response<pb::Integration>, Status> {
        let caller = self
            .ctx
            .caller(
                &request,
                Access::Admin,
                "rotating an integration's credentials",
            )
            .await?;
        let req = request.into_inner();
        let id = integration_id("id", &req.id)?;
        let credentials = vendor::credentials_from_pb(req.credentials.as_ref())?;
        // Existence first, so another tenant's id is NOT_FOUND before anything is sealed.
        let current = self
            .ctx
            .store
            .integrations()
            .get(caller.tenant, id)
            .await
            .map_err(status::from_store)?;
        let spec = self
            .ctx
            .connectors
            .registry()
            .spec(current.vendor)
            .map_err(|e| status::from_connector(&e))?;
        vendor::check_auth_kind(spec.as_ref(), &credentials)?;
        let sealed = vendor::seal_credentials(
            self.ctx.connectors.keyring(),
            caller.tenant,
            id,
            &credentials,
        )?;
        let record = self
            .ctx
            .store
            .integrations()
            .rotate_credentials(caller.tenant, id, vendor::auth_kind(&credentials), &sealed)
            .await
            .map_err(status::from_store)?;
        tracing::info!(integration = %id, by = %caller.name, "integration credentials rotated");
        Ok(Response::new(to_pb(&record)))
    }

    async fn rotate_webhook_secret(
        &self,
        request: Request<pb::RotateWebhookSecretRequest>,
    ) -> Result<Response<pb::WebhookSecretsResponse>, Status> {
        crate::webhook_secrets::rotate(&self.ctx, request).await
    }

    async fn retire_webhook_secrets(
        &self,
        request: Request<pb::RetireWebhookSecretsRequest>,
    ) -> Result<Response<pb::WebhookSecretsResponse>, Status> {
        crate::webhook_secrets::retire(&self.ctx, request).await
    }

    async fn get_field_metadata(
        &self,
        request: Request<pb::GetFieldMetadataRequest>,
    ) -> Result<Response<pb::FieldMetadata>, Status> {
        crate::fields::get(&self.ctx, request).await
    }
}
