//! Bearer-token authentication. Tokens are random 256-bit values (`lst_…`); the database holds
//! only their SHA-256 ([`lockstep_crypto::hash_token`]). A token belongs to one tenant and has
//! one role; every RPC starts with [`Authenticator::authenticate`] and then checks the access it
//! needs with [`Caller::require`]. No token or an unknown one is UNAUTHENTICATED; a valid token
//! whose role is too weak is PERMISSION_DENIED.

use lockstep_domain::{ApiTokenId, TenantId};
use lockstep_store::{Role, Store};
use tonic::metadata::MetadataMap;
use tonic::{Request, Status};

use crate::status;

/// Who is calling: the tenant every store call is scoped to, and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: TenantId,
    pub token_id: ApiTokenId,
    /// The token's name, recorded as the actor in activity rows.
    pub name: String,
    pub role: Role,
}

/// What an RPC needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any role, viewers included.
    Read,
    /// Analysts and admins: import findings, create tickets, edit presets.
    Write,
    /// Admins only: integrations and mapping rules.
    Admin,
}

impl Access {
    fn allows(self, role: Role) -> bool {
        match self {
            Access::Read => true,
            Access::Write => matches!(role, Role::Analyst | Role::Admin),
            Access::Admin => role == Role::Admin,
        }
    }

    fn needs(self) -> &'static str {
        match self {
            Access::Read => "any role",
            Access::Write => "the analyst or admin role",
            Access::Admin => "the admin role",
        }
    }
}

impl Caller {
    /// PERMISSION_DENIED unless the caller's role allows `access`.
    pub fn require(&self, access: Access, action: &str) -> Result<(), Status> {
        if access.allows(self.role) {
            return Ok(());
        }
        Err(Status::permission_denied(format!(
            "{action} needs {}; token {:?} has role {}. Ask an admin for a token with that role",
            access.needs(),
            self.name,
            self.role
        )))
    }
}

/// Checks bearer tokens against the `api_tokens` table.
#[derive(Clone, Debug)]
pub struct Authenticator {
    store: Store,
}

impl Authenticator {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The caller of `request`, or UNAUTHENTICATED.
    pub async fn authenticate<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        self.authenticate_metadata(request.metadata()).await
    }

    pub async fn authenticate_metadata(&self, metadata: &MetadataMap) -> Result<Caller, Status> {
        self.authenticate_token(bearer(metadata)?).await
    }

    /// The caller of an API token (`lst_…`) or of a browser session's secret (`lss_…`, which the
    /// HTTP API forwards as a bearer token when it calls another service for a signed-in user).
    pub async fn authenticate_token(&self, token: &str) -> Result<Caller, Status> {
        if token.starts_with(SESSION_PREFIX) {
            return Ok(self.session(token).await?.0);
        }
        let hash = lockstep_crypto::hash_token(token);
        let identity = self
            .store
            .api_tokens()
            .find_by_hash(&hash)
            .await
            .map_err(status::from_store)?
            .ok_or_else(|| {
                Status::unauthenticated(
                    "the API token is unknown or revoked; create one with `lockstep admin create-token`",
                )
            })?;
        Ok(caller_of(identity))
    }

    /// The caller of a session secret and when the session ends. The identity is its token's,
    /// read now: a revoked token's sessions end with it.
    pub async fn session(&self, secret: &str) -> Result<(Caller, time::OffsetDateTime), Status> {
        let hash = lockstep_crypto::hash_token(secret);
        let (identity, expires_at) = self
            .store
            .web_sessions()
            .find_by_hash(&hash)
            .await
            .map_err(status::from_store)?
            .ok_or_else(|| {
                Status::unauthenticated(
                    "the session has ended (signed out, expired, or its API token was revoked); \
                     sign in again with an API token",
                )
            })?;
        Ok((caller_of(identity), expires_at))
    }
}

/// Browser session secrets start with this; API tokens with `lst_`.
pub const SESSION_PREFIX: &str = "lss_";

fn caller_of(identity: lockstep_store::TokenIdentity) -> Caller {
    Caller {
        tenant: identity.tenant_id,
        token_id: identity.token_id,
        name: identity.name,
        role: identity.role,
    }
}

/// Lockstep's tokens are `lst_` and 43 base64url characters; anything much longer is not one, and
/// is refused before it is hashed or looked up.
pub const MAX_TOKEN_CHARS: usize = 256;

/// The token of an `authorization: Bearer <token>` header.
fn bearer(metadata: &MetadataMap) -> Result<&str, Status> {
    let missing = || {
        Status::unauthenticated(
            "no API token: send the header `authorization: Bearer <token>` \
             (the CLI reads LOCKSTEP_TOKEN or --token)",
        )
    };
    let value = metadata.get("authorization").ok_or_else(missing)?;
    let value = value
        .to_str()
        .map_err(|_| Status::unauthenticated("the authorization header is not valid text"))?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Status::unauthenticated(
            "the authorization header must be `Bearer <token>`",
        ));
    }
    if token.len() > MAX_TOKEN_CHARS {
        return Err(Status::unauthenticated(format!(
            "the API token is {} characters long, but Lockstep tokens have fewer than \
             {MAX_TOKEN_CHARS}; check LOCKSTEP_TOKEN or --token",
            token.len()
        )));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(value: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert("authorization", value.parse().unwrap());
        m
    }

    #[test]
    fn bearer_tokens_are_read_strictly() {
        assert_eq!(bearer(&meta("Bearer lst_abc")).unwrap(), "lst_abc");
        assert_eq!(bearer(&meta("bearer   lst_abc ")).unwrap(), "lst_abc");
        for bad in ["Basic abc", "Bearer", "lst_abc"] {
            let err = bearer(&meta(bad)).unwrap_err();
            assert_eq!(err.code(), tonic::Code::Unauthenticated, "{bad}");
        }
        let long = format!("Bearer lst_{}", "x".repeat(10_000));
        let err = bearer(&meta(&long)).unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
        assert!(
            err.message().contains("10004 characters long"),
            "{}",
            err.message()
        );
        let err = bearer(&MetadataMap::new()).unwrap_err();
        assert!(err.message().contains("authorization: Bearer"));
    }

    #[test]
    fn roles_grant_access_by_level() {
        let caller = |role| Caller {
            tenant: TenantId::new(),
            token_id: ApiTokenId::new(),
            name: "t".into(),
            role,
        };
        assert!(caller(Role::Viewer).require(Access::Read, "x").is_ok());
        let denied = caller(Role::Viewer).require(Access::Write, "importing findings");
        assert_eq!(denied.unwrap_err().code(), tonic::Code::PermissionDenied);
        assert!(caller(Role::Analyst).require(Access::Write, "x").is_ok());
        let denied = caller(Role::Analyst)
            .require(Access::Admin, "creating an integration")
            .unwrap_err();
        assert!(denied.message().contains("needs the admin role"));
        assert!(caller(Role::Admin).require(Access::Admin, "x").is_ok());
    }
}
