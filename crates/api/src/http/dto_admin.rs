//! JSON shapes of the administration routes: API tokens (never their secrets), webhook-secret
//! rotation (the generated secret only in the rotation's answer), and the streamed import's
//! summary.

use lockstep_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::when;
use super::dto_integrations::Integration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Token {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    /// admin, analyst or viewer
    pub role: String,
    #[schema(format = DateTime)]
    pub create_time: Option<String>,
    /// Absent when never used; updated at most once a minute.
    #[schema(format = DateTime)]
    pub last_use_time: Option<String>,
    /// Absent while the token is active.
    #[schema(format = DateTime)]
    pub revoke_time: Option<String>,
}

impl From<pb::Token> for Token {
    fn from(t: pb::Token) -> Self {
        Token {
            id: t.id,
            name: t.name,
            role: t.role,
            create_time: when(t.create_time),
            last_use_time: when(t.last_use_time),
            revoke_time: when(t.revoke_time),
        }
    }
}

/// Every token of the tenant, revoked ones included, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

impl From<pb::ListTokensResponse> for TokenList {
    fn from(r: pb::ListTokensResponse) -> Self {
        TokenList {
            tokens: r.tokens.into_iter().map(Into::into).collect(),
        }
    }
}

/// The new webhook secret: give it, or set `generate` to have the server make one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct RotateWebhookSecretBody {
    /// The new secret (`whsec_<base64>` for Standard Webhooks, else used as typed); empty with
    /// `generate`.
    pub webhook_secret: String,
    /// Generate the secret (32 random bytes, hex); the answer shows it once.
    pub generate: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookSecrets {
    pub integration: Option<Integration>,
    /// Previous secrets still accepted besides the current one.
    pub previous_secrets: u32,
    /// Previous secrets this call retired.
    pub retired: u32,
    /// The generated secret: in this answer only, never again. Absent otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook_secret: String,
}

impl From<pb::WebhookSecretsResponse> for WebhookSecrets {
    fn from(r: pb::WebhookSecretsResponse) -> Self {
        WebhookSecrets {
            integration: r.integration.map(Into::into),
            previous_secrets: r.previous_secrets,
            retired: r.retired,
            webhook_secret: r.webhook_secret,
        }
    }
}

/// The answer of a streamed import, given after the transaction committed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportStreamResult {
    pub created: i32,
    pub updated: i32,
    /// Findings imported (created + updated).
    pub findings: i32,
    /// Chunks of 1,000 findings written inside the one transaction.
    pub chunks: i32,
}
