//! The services' glue to the vendor seam, vendor-neutral: the `[vendor_http]` settings, request
//! credentials parsed from the API, and stored integrations handed to the connector registry
//! (`lockstep_connectors::Connectors`, which opens the sealed credentials and caches connectors).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lockstep_connectors::http::AllowList;
use lockstep_connectors::{
    Connector, Connectors, Credentials, HttpConfig, HttpExecutor, IntegrationAccess, VendorSpec,
    credentials,
};
use lockstep_crypto::{Keyring, Sealed, SecretString};
use lockstep_domain::{IntegrationId, TenantId};
use lockstep_platform::config::serde_duration;
use lockstep_proto::v1 as pb;
use lockstep_store::{AuthKind, IntegrationRecord};
use serde::{Deserialize, Serialize};
use tonic::Status;

use crate::status;

/// `[vendor_http]`: how services talk to vendor instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VendorHttpConfig {
    #[serde(with = "serde_duration")]
    pub connect_timeout: Duration,
    #[serde(with = "serde_duration")]
    pub request_timeout: Duration,
    /// Requests in flight at once per integration.
    pub max_concurrency_per_integration: usize,
    /// PEM files to trust instead of the system roots (a private CA, the emulator's CA).
    pub ca_files: Vec<PathBuf>,
    /// Networks (`10.20.0.0/16`, `127.0.0.1`) and host names that vendor connections may reach
    /// although they are loopback, private, link-local or otherwise internal. Empty: public
    /// addresses only (checked after DNS resolution, on every connection).
    pub allow_private_networks: AllowList,
}

impl Default for VendorHttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_concurrency_per_integration: 8,
            ca_files: Vec::new(),
            allow_private_networks: AllowList::default(),
        }
    }
}

impl VendorHttpConfig {
    pub fn executor(&self) -> Result<HttpExecutor, String> {
        let mut roots = Vec::new();
        for path in &self.ca_files {
            roots.push(
                std::fs::read(path)
                    .map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?,
            );
        }
        HttpExecutor::new(HttpConfig {
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            max_concurrency_per_integration: self.max_concurrency_per_integration.max(1),
            trusted_roots_pem: roots,
            allow_private_networks: self.allow_private_networks.clone(),
            ..HttpConfig::default()
        })
        .map_err(|e| e.to_string())
    }
}

pub use lockstep_connectors::credentials::fingerprint;

/// Credentials from a request; INVALID_ARGUMENT when absent or incomplete (naming the field).
pub fn credentials_from_pb(credentials: Option<&pb::Credentials>) -> Result<Credentials, Status> {
    use pb::credentials::Kind;
    let kind = credentials.and_then(|c| c.kind.as_ref()).ok_or_else(|| {
        Status::invalid_argument(
            "credentials are required: basic (username, password), oauth2_client_credentials, \
             oauth2_password, api_key or oauth2_refresh_token",
        )
    })?;
    let creds = match kind {
        Kind::Basic(b) => Credentials::Basic {
            username: b.username.trim().to_owned(),
            password: SecretString::new(b.password.clone()),
        },
        Kind::Oauth2ClientCredentials(o) => Credentials::OAuthClientCredentials {
            client_id: o.client_id.trim().to_owned(),
            client_secret: SecretString::new(o.client_secret.clone()),
        },
        Kind::Oauth2Password(o) => Credentials::OAuthPassword {
            client_id: o.client_id.trim().to_owned(),
            client_secret: SecretString::new(o.client_secret.clone()),
            username: o.username.trim().to_owned(),
            password: SecretString::new(o.password.clone()),
        },
        Kind::ApiKey(k) => Credentials::ApiKey {
            key: SecretString::new(k.key.clone()),
        },
        Kind::Oauth2RefreshToken(o) => Credentials::OAuthRefreshToken {
            client_id: o.client_id.trim().to_owned(),
            client_secret: SecretString::new(o.client_secret.clone()),
            refresh_token: SecretString::new(o.refresh_token.trim().to_owned()),
            token_url: Some(o.token_url.trim())
                .filter(|u| !u.is_empty())
                .map(str::to_owned),
        },
    };
    creds.validate().map_err(|e| status::from_connector(&e))?;
    Ok(creds)
}

/// Refuses credentials the vendor's connector cannot authenticate with (INVALID_ARGUMENT naming
/// the kinds it takes), before anything is sealed or stored.
pub fn check_auth_kind(spec: &dyn VendorSpec, credentials: &Credentials) -> Result<(), Status> {
    let accepted = spec.auth_kinds();
    if accepted.contains(&credentials.kind()) {
        return Ok(());
    }
    let names: Vec<&str> = accepted.iter().map(|k| k.as_str()).collect();
    Err(Status::invalid_argument(format!(
        "{} integrations authenticate with {} credentials, not {}",
        spec.vendor(),
        names.join(", "),
        credentials.kind()
    )))
}

/// The stored kind of `credentials`.
pub fn auth_kind(credentials: &Credentials) -> AuthKind {
    match credentials.kind() {
        lockstep_connectors::AuthKind::Basic => AuthKind::Basic,
        lockstep_connectors::AuthKind::OAuthPassword => AuthKind::OAuth2Password,
        lockstep_connectors::AuthKind::OAuthClientCredentials => AuthKind::OAuth2ClientCredentials,
        lockstep_connectors::AuthKind::ApiKey => AuthKind::ApiKey,
        lockstep_connectors::AuthKind::OAuthRefreshToken => AuthKind::OAuth2RefreshToken,
    }
}

/// Seals credentials for `integration` of `tenant`.
pub fn seal_credentials(
    keyring: &Keyring,
    tenant: TenantId,
    integration: IntegrationId,
    credentials: &Credentials,
) -> Result<Sealed, Status> {
    credentials::seal(keyring, tenant, integration, credentials).map_err(|e| status::internal(&e))
}

/// What the connector registry needs of a stored integration.
pub fn access(record: &IntegrationRecord) -> IntegrationAccess<'_> {
    IntegrationAccess {
        id: record.id,
        tenant: record.tenant_id,
        vendor: record.vendor,
        name: &record.name,
        base_url: &record.base_url,
        active: record.active,
        credentials_rotated_at: record.credentials_rotated_at,
        sealed_credentials: &record.sealed_credentials,
        default_container: record.settings.default_table_or_project.as_deref(),
    }
}

/// INVALID_ARGUMENT when `base_url` leads only to addresses vendor connections may not reach
/// (see `Connectors::check_destination`).
pub async fn check_destination(connectors: &Connectors, base_url: &str) -> Result<(), Status> {
    connectors
        .check_destination(base_url)
        .await
        .map_err(|e| Status::invalid_argument(format!("base_url: {e}")))
}

/// The cached connector of an active integration (FAILED_PRECONDITION when it cannot be used).
pub fn connector(
    connectors: &Connectors,
    record: &IntegrationRecord,
) -> Result<Arc<dyn Connector>, Status> {
    connectors
        .connector(&access(record))
        .map_err(|e| status::from_connector(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_credentials_are_rejected_with_the_field() {
        let err = credentials_from_pb(Some(&pb::Credentials {
            kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                username: "svc".into(),
                password: String::new(),
            })),
        }))
        .unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(err.message().contains("password"));
        assert!(credentials_from_pb(None).is_err());
    }
}
