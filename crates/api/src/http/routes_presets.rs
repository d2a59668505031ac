//! Preset routes: each calls `PresetService` of this process, the function gRPC calls.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::preset_service_server::PresetService as _;
use lockstep_service_kit::problem::Problem;

use super::HttpState;
use super::dto::*;
use super::extract::{Body, Credential, Params};

#[utoipa::path(get, path = "/v1/presets", tag = "presets",
    params(("page_size" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = PresetPage)))]
pub async fn list(
    State(state): State<HttpState>,
    cred: Credential,
    RawQuery(query): RawQuery,
) -> Result<Json<PresetPage>, Problem> {
    let p = Params::parse(query.as_deref());
    let req = pb::ListPresetsRequest {
        page_size: i32::try_from(p.number("page_size")?).unwrap_or(i32::MAX),
        page_token: p.one("cursor"),
    };
    let resp = state
        .presets
        .list_presets(cred.request(req))
        .await?
        .into_inner();
    Ok(Json(PresetPage {
        presets: resp.presets.into_iter().map(Into::into).collect(),
        next_cursor: resp.next_page_token,
    }))
}

#[utoipa::path(post, path = "/v1/presets", tag = "presets", request_body = PresetBody,
    responses((status = 201, body = Preset)))]
pub async fn create(
    State(state): State<HttpState>,
    cred: Credential,
    Body(body): Body<PresetBody>,
) -> Result<(StatusCode, Json<Preset>), Problem> {
    let req = pb::CreatePresetRequest {
        request_id: body.request_id,
        name: body.name,
        fields: Some(body.fields.into()),
    };
    let resp = state.presets.create_preset(cred.request(req)).await?;
    Ok((StatusCode::CREATED, Json(resp.into_inner().into())))
}

#[utoipa::path(get, path = "/v1/presets/{id}", tag = "presets", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Preset)))]
pub async fn get(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<Json<Preset>, Problem> {
    let resp = state
        .presets
        .get_preset(cred.request(pb::GetPresetRequest { id }))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

#[utoipa::path(put, path = "/v1/presets/{id}", tag = "presets", params(("id" = String, Path, format = Uuid)),
    request_body = PresetBody, responses((status = 200, body = Preset)))]
pub async fn update(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
    Body(body): Body<PresetBody>,
) -> Result<Json<Preset>, Problem> {
    let req = pb::UpdatePresetRequest {
        id,
        name: body.name,
        fields: Some(body.fields.into()),
    };
    let resp = state.presets.update_preset(cred.request(req)).await?;
    Ok(Json(resp.into_inner().into()))
}

#[utoipa::path(delete, path = "/v1/presets/{id}", tag = "presets", params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state
        .presets
        .delete_preset(cred.request(pb::DeletePresetRequest { id }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
