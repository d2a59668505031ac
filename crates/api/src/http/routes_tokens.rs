//! API-token routes: each calls `TokenService` of this process, the functions gRPC calls.
//! Admin role (the service checks it).

use axum::Json;
use axum::extract::{Path, State};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::token_service_server::TokenService as _;
use lockstep_service_kit::problem::Problem;

use super::HttpState;
use super::dto_admin::{Token, TokenList};
use super::extract::Credential;

/// The tenant's API tokens, revoked ones included (never their secrets).
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList)))]
pub async fn list(
    State(state): State<HttpState>,
    cred: Credential,
) -> Result<Json<TokenList>, Problem> {
    let req = pb::ListTokensRequest {};
    let resp = state.tokens.list_tokens(cred.request(req)).await?;
    Ok(Json(resp.into_inner().into()))
}

/// Revokes a token: from its next request on it is refused, and its sessions end. Revoking a
/// revoked token keeps its first revocation time. A revoked token stays listed, so this is a
/// POST on the token rather than a DELETE.
#[utoipa::path(post, path = "/v1/tokens/{id}/revoke", tag = "tokens",
    params(("id" = String, Path, format = Uuid,
        description = "The token's id (an active token's name is accepted too, as over gRPC)")),
    responses((status = 200, body = Token)))]
pub async fn revoke(
    State(state): State<HttpState>,
    cred: Credential,
    Path(id): Path<String>,
) -> Result<Json<Token>, Problem> {
    let req = pb::RevokeTokenRequest { token: id };
    let resp = state.tokens.revoke_token(cred.request(req)).await?;
    Ok(Json(resp.into_inner().into()))
}
