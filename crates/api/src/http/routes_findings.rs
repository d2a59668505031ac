//! Finding routes: each calls `FindingService` of this process, the function gRPC calls.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::finding_service_server::FindingService as _;
use lockstep_service_kit::problem::Problem;

use super::HttpState;
use super::dto::*;
use super::extract::{Body, Credential, Params};

/// Findings of the caller's tenant, newest first.
#[utoipa::path(get, path = "/v1/findings", tag = "findings",
    params(
        ("severity" = Option<String>, Query, description = "critical, high, medium, low, info"),
        ("status" = Option<String>, Query, description = "open, in_progress, re_test, closed, risk_accepted, false_positive"),
        ("page_size" = Option<u32>, Query), ("cursor" = Option<String>, Query),
    ),
    responses((status = 200, body = FindingPage)))]
pub async fn list(
    State(state): State<HttpState>,
    cred: Credential,
    RawQuery(query): RawQuery,
) -> Result<Json<FindingPage>, Problem> {
    let p = Params::parse(query.as_deref());
    let req = pb::ListFindingsRequest {
        page_size: i32::try_from(p.number("page_size")?).unwrap_or(i32::MAX),
        page_token: p.one("cursor"),
        severity: p.one("severity"),
        status: p.one("status"),
    };
    let resp = state
        .findings
        .list_findings(cred.request(req))
        .await?
        .into_inner();
    Ok(Json(FindingPage {
        findings: resp.findings.into_iter().map(Into::into).collect(),
        next_cursor: resp.next_page_token,
    }))
}

/// One finding with its ticket links.
#[utoipa::path(get, path = "/v1/findings/{id}", tag = "findings", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Finding)))]
pub async fn get(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<Json<Finding>, Problem> {
    let req = pb::GetFindingRequest { id };
    let resp = state.findings.get_finding(cred.request(req)).await?;
    Ok(Json(resp.into_inner().into()))
}

/// A finding's activity feed, newest first; each inbound change names channel and vendor user.
#[utoipa::path(get, path = "/v1/findings/{id}/activity", tag = "findings",
    params(("id" = String, Path, format = Uuid), ("page_size" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ActivityPage)))]
pub async fn activity(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ActivityPage>, Problem> {
    let p = Params::parse(query.as_deref());
    let req = pb::ListFindingActivityRequest {
        finding_id: id,
        page_size: i32::try_from(p.number("page_size")?).unwrap_or(i32::MAX),
        page_token: p.one("cursor"),
    };
    let resp = state
        .findings
        .list_finding_activity(cred.request(req))
        .await?
        .into_inner();
    Ok(Json(ActivityPage {
        entries: resp.entries.into_iter().map(Into::into).collect(),
        next_cursor: resp.next_page_token,
    }))
}

/// An analyst's status change; linked tickets follow.
#[utoipa::path(post, path = "/v1/findings/{id}/status", tag = "findings",
    params(("id" = String, Path, format = Uuid)), request_body = SetStatusBody,
    responses((status = 200, body = Finding)))]
pub async fn set_status(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
    Body(body): Body<SetStatusBody>,
) -> Result<Json<Finding>, Problem> {
    let req = pb::SetFindingStatusRequest {
        id,
        status: body.status,
        expected_status: body.expected_status,
        note: body.note,
    };
    let resp = state.findings.set_finding_status(cred.request(req)).await?;
    Ok(Json(resp.into_inner().into()))
}

/// Imports a scan (Lockstep JSON or SARIF 2.1.0), all or nothing. Larger scans: the CLI.
#[utoipa::path(post, path = "/v1/findings/import", tag = "findings", request_body = ImportBody,
    responses((status = 200, body = ImportResult)))]
pub async fn import(
    State(state): State<HttpState>,
    cred: Credential,
    Body(body): Body<ImportBody>,
) -> Result<Json<ImportResult>, Problem> {
    let format = match body.format.trim().to_ascii_lowercase().as_str() {
        "" | "json" => pb::ImportFormat::Json,
        "sarif" => pb::ImportFormat::Sarif,
        other => {
            return Err(tonic::Status::invalid_argument(format!(
                "format {other:?}: use json or sarif"
            ))
            .into());
        }
    };
    let req = pb::ImportFindingsRequest {
        format: format as i32,
        content: body.content.into_bytes(),
        scanner: body.scanner,
    };
    let resp = state.findings.import_findings(cred.request(req)).await?;
    Ok(Json(resp.into_inner().into()))
}
