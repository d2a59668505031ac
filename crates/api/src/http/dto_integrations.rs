//! JSON shapes of the integration and mapping routes. Credentials are write-only: no answer
//! carries them.

use lockstep_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::when;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Settings {
    /// Close the finding when its ticket is resolved (otherwise it goes to re-test).
    pub auto_close_on_resolve: bool,
    /// The container tickets go to by default ("incident", a Jira project, ...).
    pub default_table: String,
    /// 0 for the default (300); at least 30.
    pub poll_interval_secs: u32,
    pub allow_unsigned: bool,
}

impl From<Settings> for pb::IntegrationSettings {
    fn from(s: Settings) -> Self {
        pb::IntegrationSettings {
            auto_close_on_resolve: s.auto_close_on_resolve,
            default_table: s.default_table,
            poll_interval_secs: s.poll_interval_secs,
            allow_unsigned: s.allow_unsigned,
        }
    }
}

impl From<pb::IntegrationSettings> for Settings {
    fn from(s: pb::IntegrationSettings) -> Self {
        Settings {
            auto_close_on_resolve: s.auto_close_on_resolve,
            default_table: s.default_table,
            poll_interval_secs: s.poll_interval_secs,
            allow_unsigned: s.allow_unsigned,
        }
    }
}

/// Only the settings given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SettingsPatch {
    pub auto_close_on_resolve: Option<bool>,
    pub default_table: Option<String>,
    pub poll_interval_secs: Option<u32>,
    pub allow_unsigned: Option<bool>,
}

impl SettingsPatch {
    pub fn apply(self, mut s: Settings) -> Settings {
        if let Some(v) = self.auto_close_on_resolve {
            s.auto_close_on_resolve = v;
        }
        if let Some(v) = self.default_table {
            s.default_table = v;
        }
        if let Some(v) = self.poll_interval_secs {
            s.poll_interval_secs = v;
        }
        if let Some(v) = self.allow_unsigned {
            s.allow_unsigned = v;
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Integration {
    #[schema(format = Uuid)]
    pub id: String,
    /// servicenow, jira, manageengine (ServiceDesk Plus)
    pub vendor: String,
    pub name: String,
    pub base_url: String,
    pub auth_kind: String,
    pub credentials_set: bool,
    /// A fingerprint of the sealed credentials: changes when they are rotated.
    pub credentials_fingerprint: String,
    pub webhook_secret_set: bool,
    pub settings: Settings,
    /// False while paused.
    pub active: bool,
    #[schema(format = DateTime)]
    pub create_time: Option<String>,
    #[schema(format = DateTime)]
    pub update_time: Option<String>,
    #[schema(format = DateTime)]
    pub credentials_rotate_time: Option<String>,
    /// Create only: the vendor's id of the webhook Lockstep registered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registered_webhook_id: String,
    /// Create only: the manual webhook steps, when it was not registered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook_setup_steps: String,
}

impl From<pb::Integration> for Integration {
    fn from(i: pb::Integration) -> Self {
        Integration {
            id: i.id,
            vendor: i.vendor,
            name: i.name,
            base_url: i.base_url,
            auth_kind: i.auth_kind,
            credentials_set: i.credentials_set,
            credentials_fingerprint: i.credentials_fingerprint,
            webhook_secret_set: i.webhook_secret_set,
            settings: i.settings.map(Into::into).unwrap_or_default(),
            active: i.active,
            create_time: when(i.create_time),
            update_time: when(i.update_time),
            credentials_rotate_time: when(i.credentials_rotate_time),
            registered_webhook_id: i.registered_webhook_id,
            webhook_setup_steps: i.webhook_setup_steps,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IntegrationPage {
    pub integrations: Vec<Integration>,
    pub next_cursor: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct OAuthClientCredentials {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct OAuthPassword {
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiKeyAuth {
    pub key: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct OAuthRefreshToken {
    pub client_id: String,
    pub client_secret: String,
    /// From an admin's OAuth consent (Jira Cloud 3LO, Zoho for ServiceDesk Plus Cloud).
    pub refresh_token: String,
    /// The vendor's token endpoint when it is not the default; "" for the default.
    pub token_url: String,
}

/// Exactly one of the kinds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Credentials {
    pub basic: Option<BasicAuth>,
    pub oauth2_client_credentials: Option<OAuthClientCredentials>,
    pub oauth2_password: Option<OAuthPassword>,
    pub api_key: Option<ApiKeyAuth>,
    pub oauth2_refresh_token: Option<OAuthRefreshToken>,
}

impl Credentials {
    /// The gRPC message; more than one kind is refused the way gRPC refuses a missing one.
    pub fn to_pb(self) -> Result<Option<pb::Credentials>, tonic::Status> {
        use pb::credentials::Kind;
        let mut kinds: Vec<Kind> = Vec::new();
        if let Some(b) = self.basic {
            kinds.push(Kind::Basic(pb::BasicAuth {
                username: b.username,
                password: b.password,
            }));
        }
        if let Some(o) = self.oauth2_client_credentials {
            kinds.push(Kind::Oauth2ClientCredentials(pb::OAuthClientCredentials {
                client_id: o.client_id,
                client_secret: o.client_secret,
            }));
        }
        if let Some(o) = self.oauth2_password {
            kinds.push(Kind::Oauth2Password(pb::OAuthPassword {
                client_id: o.client_id,
                client_secret: o.client_secret,
                username: o.username,
                password: o.password,
            }));
        }
        if let Some(k) = self.api_key {
            kinds.push(Kind::ApiKey(pb::ApiKeyAuth { key: k.key }));
        }
        if let Some(o) = self.oauth2_refresh_token {
            kinds.push(Kind::Oauth2RefreshToken(pb::OAuthRefreshToken {
                client_id: o.client_id,
                client_secret: o.client_secret,
                refresh_token: o.refresh_token,
                token_url: o.token_url,
            }));
        }
        if kinds.len() > 1 {
            return Err(tonic::Status::invalid_argument(
                "credentials: give exactly one of basic, oauth2_client_credentials, \
                 oauth2_password, api_key or oauth2_refresh_token",
            ));
        }
        Ok(kinds.pop().map(|kind| pb::Credentials { kind: Some(kind) }))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateIntegrationBody {
    /// A UUID that makes a retried create return the first one's integration.
    #[schema(format = Uuid)]
    pub request_id: String,
    /// servicenow (default), jira, manageengine (ServiceDesk Plus)
    #[schema(schema_with = super::dto::values::vendor_or_default)]
    pub vendor: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
    )]
    pub name: String,
    pub base_url: String,
    pub credentials: Credentials,
    pub settings: Option<Settings>,
    pub webhook_secret: String,
    /// Register the vendor's webhook back to Lockstep (see CreateIntegrationRequest).
    pub register_webhook: bool,
    pub webhook_base_url: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PatchIntegrationBody {
    pub settings: Option<SettingsPatch>,
    /// false pauses, true resumes.
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct RotateCredentialsBody {
    pub credentials: Credentials,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConnectionCheck {
    pub id: String,
    pub title: String,
    /// pass, warn, fail or skipped
    pub status: String,
    pub detail: String,
    /// The troubleshooting class when it failed (authentication_failed, wrong_url, ...).
    pub problem: String,
    /// What the vendor instance's admin should do.
    pub remedy: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConnectionTest {
    pub ok: bool,
    pub instance: String,
    pub user_name: String,
    pub checks: Vec<ConnectionCheck>,
}

impl From<pb::TestConnectionResponse> for ConnectionTest {
    fn from(r: pb::TestConnectionResponse) -> Self {
        ConnectionTest {
            ok: r.ok,
            instance: r.instance,
            user_name: r.user_name,
            checks: r
                .checks
                .into_iter()
                .map(|c| ConnectionCheck {
                    id: c.id,
                    title: c.title,
                    status: c.status,
                    detail: c.detail,
                    problem: c.problem,
                    remedy: c.remedy,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SeverityMapping {
    pub kind: String,
    pub severity: String,
    pub impact: String,
    pub urgency: String,
    pub priority: String,
    pub category: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MappingRules {
    pub integration_id: String,
    pub vendor: String,
    /// The rules document (as `lockstep mappings` shows it).
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
    pub is_default: bool,
    pub severity: Vec<SeverityMapping>,
    #[schema(format = DateTime)]
    pub update_time: Option<String>,
    /// Values the instance could not confirm.
    pub instance_warnings: Vec<String>,
}

impl From<pb::MappingRules> for MappingRules {
    fn from(m: pb::MappingRules) -> Self {
        MappingRules {
            integration_id: m.integration_id,
            vendor: m.vendor,
            rules: serde_json::from_str(&m.rules_json).unwrap_or_else(|_| serde_json::json!({})),
            is_default: m.is_default,
            severity: m
                .severity
                .into_iter()
                .map(|s| SeverityMapping {
                    kind: s.kind,
                    severity: s.severity,
                    impact: s.impact,
                    urgency: s.urgency,
                    priority: s.priority,
                    category: s.category,
                })
                .collect(),
            update_time: when(m.update_time),
            instance_warnings: m.instance_warnings,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MappingBody {
    /// The rules document.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
    /// Save without checking the values against the instance's choice lists.
    pub skip_instance_validation: bool,
}
