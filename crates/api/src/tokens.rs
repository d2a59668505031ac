//! `TokenService`: the tenant's API tokens, listed and revoked by an admin. A revoked token is
//! refused by every service from its next request on (authentication reads `revoked_at`).

use lockstep_domain::ApiTokenId;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::token_service_server::{TokenService, TokenServiceServer};
use lockstep_service_kit::convert::ts;
use lockstep_service_kit::{Access, status};
use lockstep_store::ApiTokenRecord;
use tonic::{Request, Response, Status};

use crate::ctx::Ctx;

pub struct Tokens {
    pub(crate) ctx: Ctx,
}

/// The gRPC service around the object the HTTP API holds too.
pub(crate) fn service(tokens: std::sync::Arc<Tokens>) -> TokenServiceServer<Tokens> {
    TokenServiceServer::from_arc(tokens)
}

fn to_pb(record: &ApiTokenRecord) -> pb::Token {
    pb::Token {
        id: record.id.to_string(),
        name: record.name.clone(),
        role: record.role.as_str().to_owned(),
        create_time: ts(record.created_at),
        last_use_time: record.last_used_at.and_then(ts),
        revoke_time: record.revoked_at.and_then(ts),
    }
}

/// The token `wanted` names: by id, else the active token of that name.
fn find<'a>(tokens: &'a [ApiTokenRecord], wanted: &str) -> Result<&'a ApiTokenRecord, Status> {
    let wanted = wanted.trim();
    if wanted.is_empty() {
        return Err(Status::invalid_argument(
            "token is required: the id or the name of the token to revoke",
        ));
    }
    let by_id = ApiTokenId::parse(wanted).ok();
    tokens
        .iter()
        .find(|t| Some(t.id) == by_id)
        .or_else(|| {
            tokens
                .iter()
                .find(|t| t.revoked_at.is_none() && t.name == wanted)
        })
        .ok_or_else(|| {
            Status::not_found(status::bounded(&format!(
                "no token with id or active name {:?}; `lockstep tokens list` shows them",
                lockstep_domain::text::excerpt(wanted, lockstep_domain::text::ECHO_CHARS)
            )))
        })
}

#[tonic::async_trait]
impl TokenService for Tokens {
    async fn list_tokens(
        &self,
        request: Request<pb::ListTokensRequest>,
    ) -> Result<Response<pb::ListTokensResponse>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Admin, "listing API tokens")
            .await?;
        let tokens = self
            .ctx
            .store
            .api_tokens()
            .list(caller.tenant)
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(pb::ListTokensResponse {
            tokens: tokens.iter().map(to_pb).collect(),
        }))
    }

    async fn revoke_token(
        &self,
        request: Request<pb::RevokeTokenRequest>,
    ) -> Result<Response<pb::Token>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Admin, "revoking an API token")
            .await?;
        let store = &self.ctx.store;
        let tokens = store
            .api_tokens()
            .list(caller.tenant)
            .await
            .map_err(status::from_store)?;
        let id = find(&tokens, &request.get_ref().token)?.id;
        let revoked = store
            .api_tokens()
            .revoke(caller.tenant, id)
            .await
            .map_err(status::from_store)?;
        tracing::info!(token = %revoked.id, name = %revoked.name, by = %caller.name, "API token revoked");
        Ok(Response::new(to_pb(&revoked)))
    }
}
