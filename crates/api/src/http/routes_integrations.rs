//! Integration, mapping and field-metadata routes: each calls `IntegrationService` or
//! `MappingService` of this process, the functions gRPC calls.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::integration_service_server::IntegrationService as _;
use lockstep_proto::v1::mapping_service_server::MappingService as _;
use lockstep_service_kit::problem::Problem;

use super::HttpState;
use super::dto::FieldMetadata;
use super::dto_integrations::*;
use super::extract::{Body, Credential, Params};

#[utoipa::path(get, path = "/v1/integrations", tag = "integrations",
    params(("page_size" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = IntegrationPage)))]
pub async fn list(
    State(state): State<HttpState>,
    cred: Credential,
    RawQuery(query): RawQuery,
) -> Result<Json<IntegrationPage>, Problem> {
    let p = Params::parse(query.as_deref());
    let req = pb::ListIntegrationsRequest {
        page_size: i32::try_from(p.number("page_size")?).unwrap_or(i32::MAX),
        page_token: p.one("cursor"),
    };
    let resp = state
        .integrations
        .list_integrations(cred.request(req))
        .await?
        .into_inner();
    Ok(Json(IntegrationPage {
        integrations: resp.integrations.into_iter().map(Into::into).collect(),
        next_cursor: resp.next_page_token,
    }))
}

#[utoipa::path(post, path = "/v1/integrations", tag = "integrations",
    request_body = CreateIntegrationBody, responses((status = 201, body = Integration)))]
pub async fn create(
    State(state): State<HttpState>,
    cred: Credential,
    Body(body): Body<CreateIntegrationBody>,
) -> Result<(StatusCode, Json<Integration>), Problem> {
    let req = pb::CreateIntegrationRequest {
        request_id: body.request_id,
        vendor: body.vendor,
        name: body.name,
        base_url: body.base_url,
        credentials: body.credentials.to_pb()?,
        settings: body.settings.map(Into::into),
        webhook_secret: body.webhook_secret,
        register_webhook: body.register_webhook,
        webhook_base_url: body.webhook_base_url,
    };
    let resp = state
        .integrations
        .create_integration(cred.request(req))
        .await?;
    Ok((StatusCode::CREATED, Json(resp.into_inner().into())))
}

#[utoipa::path(get, path = "/v1/integrations/{id}", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), responses((status = 200, body = Integration)))]
pub async fn get(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<Json<Integration>, Problem> {
    let resp = state
        .integrations
        .get_integration(cred.request(pb::GetIntegrationRequest { id }))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

/// `UpdateIntegration` with a mask of what the body names; settings not given keep their value.
async fn update(
    state: &HttpState,
    cred: &Credential,
    id: String,
    body: PatchIntegrationBody,
) -> Result<Integration, Problem> {
    let mut mask = Vec::new();
    let mut settings = None;
    if let Some(patch) = body.settings {
        let current = state
            .integrations
            .get_integration(cred.request(pb::GetIntegrationRequest { id: id.clone() }))
            .await?
            .into_inner();
        let current: Settings = current.settings.map(Into::into).unwrap_or_default();
        settings = Some(patch.apply(current).into());
        mask.push("settings".to_owned());
    }
    if body.active.is_some() {
        mask.push("active".to_owned());
    }
    if mask.is_empty() {
        return Err(tonic::Status::invalid_argument(
            "nothing to change: give settings and/or active",
        )
        .into());
    }
    let req = pb::UpdateIntegrationRequest {
        id,
        settings,
        active: body.active.unwrap_or_default(),
        update_mask: mask,
    };
    let resp = state
        .integrations
        .update_integration(cred.request(req))
        .await?;
    Ok(resp.into_inner().into())
}

/// Changes settings (auto-close, default table, poll interval) and/or pauses or resumes.
#[utoipa::path(patch, path = "/v1/integrations/{id}", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), request_body = PatchIntegrationBody,
    responses((status = 200, body = Integration)))]
pub async fn patch(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
    Body(body): Body<PatchIntegrationBody>,
) -> Result<Json<Integration>, Problem> {
    Ok(Json(update(&state, &cred, id, body).await?))
}

/// Pause and resume: an update of the active flag alone.
async fn set_active(
    state: &HttpState,
    cred: &Credential,
    id: String,
    active: bool,
) -> Result<Json<Integration>, Problem> {
    let body = PatchIntegrationBody {
        settings: None,
        active: Some(active),
    };
    Ok(Json(update(state, cred, id, body).await?))
}

#[utoipa::path(post, path = "/v1/integrations/{id}/pause", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), responses((status = 200, body = Integration)))]
pub async fn pause(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<Json<Integration>, Problem> {
    set_active(&state, &cred, id, false).await
}

#[utoipa::path(post, path = "/v1/integrations/{id}/resume", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), responses((status = 200, body = Integration)))]
pub async fn resume(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<Json<Integration>, Problem> {
    set_active(&state, &cred, id, true).await
}

#[utoipa::path(delete, path = "/v1/integrations/{id}", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state
        .integrations
        .delete_integration(cred.request(pb::DeleteIntegrationRequest { id }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The connection test: each check with its remedy. Leaves nothing on the instance.
#[utoipa::path(post, path = "/v1/integrations/{id}/test", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), responses((status = 200, body = ConnectionTest)))]
pub async fn test(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<Json<ConnectionTest>, Problem> {
    let resp = state
        .integrations
        .test_connection(cred.request(pb::TestConnectionRequest { id }))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

#[utoipa::path(post, path = "/v1/integrations/{id}/credentials", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), request_body = RotateCredentialsBody,
    responses((status = 200, body = Integration)))]
pub async fn rotate(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
    Body(body): Body<RotateCredentialsBody>,
) -> Result<Json<Integration>, Problem> {
    let req = pb::RotateCredentialsRequest {
        id,
        credentials: body.credentials.to_pb()?,
    };
    let resp = state
        .integrations
        .rotate_credentials(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

#[utoipa::path(get, path = "/v1/integrations/{id}/mapping", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), responses((status = 200, body = MappingRules)))]
pub async fn get_mapping(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<Json<MappingRules>, Problem> {
    let req = pb::GetMappingRulesRequest { integration_id: id };
    let resp = state.mapping.get_mapping_rules(cred.request(req)).await?;
    Ok(Json(resp.into_inner().into()))
}

/// Saves mapping rules, checked against the instance's choice lists.
#[utoipa::path(put, path = "/v1/integrations/{id}/mapping", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), request_body = MappingBody,
    responses((status = 200, body = MappingRules)))]
pub async fn put_mapping(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
    Body(body): Body<MappingBody>,
) -> Result<Json<MappingRules>, Problem> {
    let req = pb::UpdateMappingRulesRequest {
        integration_id: id,
        rules_json: body.rules.to_string(),
        skip_instance_validation: body.skip_instance_validation,
    };
    let resp = state
        .mapping
        .update_mapping_rules(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

/// The escalation form's fields for one container, live from the vendor.
#[utoipa::path(get, path = "/v1/integrations/{id}/fields", tag = "integrations",
    params(("id" = String, Path, format = Uuid),
        ("container" = Option<String>, Query, description = "A ServiceNow table, a Jira project key, ...; empty for the integration's default")),
    responses((status = 200, body = FieldMetadata)))]
pub async fn fields(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<FieldMetadata>, Problem> {
    let req = pb::GetFieldMetadataRequest {
        integration_id: id,
        container: Params::parse(query.as_deref()).one("container"),
    };
    let resp = state
        .integrations
        .get_field_metadata(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}
