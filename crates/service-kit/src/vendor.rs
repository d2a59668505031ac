//! Integration credentials and vendor clients.
//!
//! Credentials are sealed with the master keyring, bound to tenant + integration + purpose, as a
//! small JSON document (`{"kind": "basic", "username": …, "password": …}`); the plaintext lives
//! only in zeroized buffers while sealing and opening. [`VendorClients`] opens them for the
//! integration at hand and caches one client per integration until the credentials rotate, so
//! OAuth tokens and the per-integration concurrency limit are shared by all requests.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lockstep_connectors::http::AllowList;
use lockstep_connectors::servicenow::{
    CredentialsHandle, InstanceUrl, ServiceNowClient, ServiceNowConfig, ServiceNowCredentials,
};
use lockstep_connectors::{HttpConfig, HttpExecutor};
use lockstep_crypto::{Aad, Keyring, Purpose, Sealed, SecretString};
use lockstep_domain::{IntegrationId, TenantId, Vendor};
use lockstep_platform::config::serde_duration;
use lockstep_proto::v1 as pb;
use lockstep_store::{AuthKind, IntegrationRecord};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use tonic::Status;
use zeroize::Zeroizing;

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

/// Credentials from a request; INVALID_ARGUMENT when absent or incomplete.
pub fn credentials_from_pb(
    credentials: Option<&pb::Credentials>,
) -> Result<ServiceNowCredentials, Status> {
    use pb::credentials::Kind;
    let kind = credentials.and_then(|c| c.kind.as_ref()).ok_or_else(|| {
        Status::invalid_argument(
            "credentials are required: basic (username, password), oauth2_client_credentials, \
             oauth2_password or api_key",
        )
    })?;
    let creds = match kind {
        Kind::Basic(b) => ServiceNowCredentials::Basic {
            username: b.username.trim().to_owned(),
            password: SecretString::new(b.password.clone()),
        },
        Kind::Oauth2ClientCredentials(o) => ServiceNowCredentials::OAuthClientCredentials {
            client_id: o.client_id.trim().to_owned(),
            client_secret: SecretString::new(o.client_secret.clone()),
        },
        Kind::Oauth2Password(o) => ServiceNowCredentials::OAuthPassword {
            client_id: o.client_id.trim().to_owned(),
            client_secret: SecretString::new(o.client_secret.clone()),
            username: o.username.trim().to_owned(),
            password: SecretString::new(o.password.clone()),
        },
        Kind::ApiKey(k) => ServiceNowCredentials::ApiKey {
            key: SecretString::new(k.key.clone()),
        },
    };
    // Validates completeness (names the empty field).
    CredentialsHandle::new(creds.clone()).map_err(|e| status::from_connector(&e))?;
    Ok(creds)
}

pub fn auth_kind(credentials: &ServiceNowCredentials) -> AuthKind {
    match credentials {
        ServiceNowCredentials::Basic { .. } => AuthKind::Basic,
        ServiceNowCredentials::OAuthPassword { .. } => AuthKind::OAuth2Password,
        ServiceNowCredentials::OAuthClientCredentials { .. } => AuthKind::OAuth2ClientCredentials,
        ServiceNowCredentials::ApiKey { .. } => AuthKind::ApiKey,
    }
}

/// Seals credentials for `integration` of `tenant`.
pub fn seal_credentials(
    keyring: &Keyring,
    tenant: TenantId,
    integration: IntegrationId,
    credentials: &ServiceNowCredentials,
) -> Result<Sealed, Status> {
    let doc = match credentials {
        ServiceNowCredentials::Basic { username, password } => {
            json!({"kind": "basic", "username": username, "password": password.expose()})
        }
        ServiceNowCredentials::OAuthPassword {
            client_id,
            client_secret,
            username,
            password,
        } => json!({"kind": "oauth2_password", "client_id": client_id,
                    "client_secret": client_secret.expose(), "username": username,
                    "password": password.expose()}),
        ServiceNowCredentials::OAuthClientCredentials {
            client_id,
            client_secret,
        } => json!({"kind": "oauth2_client_credentials", "client_id": client_id,
                    "client_secret": client_secret.expose()}),
        ServiceNowCredentials::ApiKey { key } => json!({"kind": "api_key", "key": key.expose()}),
    };
    let plaintext = Zeroizing::new(doc.to_string().into_bytes());
    drop(doc);
    keyring
        .seal(
            &plaintext,
            &Aad::new(tenant, integration, Purpose::Credentials),
        )
        .map_err(|e| status::internal(&format!("sealing credentials failed: {e}")))
}

/// The stored form of sealed credentials (never serialized back out).
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Stored {
    Basic {
        username: String,
        password: SecretString,
    },
    #[serde(rename = "oauth2_password")]
    OAuthPassword {
        client_id: String,
        client_secret: SecretString,
        username: String,
        password: SecretString,
    },
    #[serde(rename = "oauth2_client_credentials")]
    OAuthClientCredentials {
        client_id: String,
        client_secret: SecretString,
    },
    ApiKey {
        key: SecretString,
    },
}

/// Opens an integration's credentials. A failure (wrong master key, tampered row) is
/// FAILED_PRECONDITION: the admin must rotate the credentials.
pub fn open_credentials(
    keyring: &Keyring,
    record: &IntegrationRecord,
) -> Result<ServiceNowCredentials, Status> {
    let aad = Aad::new(record.tenant_id, record.id, Purpose::Credentials);
    let opened = keyring.open(&record.sealed_credentials, &aad).map_err(|e| {
        tracing::error!(integration = %record.id, error = %e, "cannot open integration credentials");
        Status::failed_precondition(format!(
            "the credentials of integration {} cannot be opened with the configured master keys; \
             check LOCKSTEP_MASTER_KEYS or rotate the credentials",
            record.id
        ))
    })?;
    let stored: Stored = serde_json::from_slice(opened.expose()).map_err(|_| {
        Status::failed_precondition(format!(
            "the stored credentials of integration {} are unreadable; rotate them",
            record.id
        ))
    })?;
    Ok(match stored {
        Stored::Basic { username, password } => ServiceNowCredentials::Basic { username, password },
        Stored::OAuthPassword {
            client_id,
            client_secret,
            username,
            password,
        } => ServiceNowCredentials::OAuthPassword {
            client_id,
            client_secret,
            username,
            password,
        },
        Stored::OAuthClientCredentials {
            client_id,
            client_secret,
        } => ServiceNowCredentials::OAuthClientCredentials {
            client_id,
            client_secret,
        },
        Stored::ApiKey { key } => ServiceNowCredentials::ApiKey { key },
    })
}

/// A short fingerprint of sealed credentials: identifies a version without revealing anything
/// about the secret (it is computed over the ciphertext, which has a random nonce).
pub fn fingerprint(sealed: &Sealed) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, &sealed.to_bytes());
    hex::encode(&digest.as_ref()[..8])
}

/// Checks a base URL for a vendor; INVALID_ARGUMENT saying what is wrong.
pub fn check_base_url(vendor: Vendor, base_url: &str) -> Result<String, Status> {
    match vendor {
        Vendor::ServiceNow => InstanceUrl::parse(base_url)
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .map_err(|e| Status::invalid_argument(format!("base_url: {e}"))),
        other => Err(Status::invalid_argument(format!(
            "vendor {other} is not available yet; use servicenow"
        ))),
    }
}

/// A cached client and the credentials version and base URL it was built for.
type CachedClient = (OffsetDateTime, String, ServiceNowClient);

/// Vendor clients for stored integrations, cached per integration and credentials version.
#[derive(Clone)]
pub struct VendorClients {
    keyring: Arc<Keyring>,
    exec: HttpExecutor,
    cache: Arc<Mutex<HashMap<IntegrationId, CachedClient>>>,
}

impl VendorClients {
    pub fn new(keyring: Arc<Keyring>, exec: HttpExecutor) -> Self {
        Self {
            keyring,
            exec,
            cache: Arc::default(),
        }
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// INVALID_ARGUMENT when `base_url` leads only to addresses the executor refuses (loopback,
    /// private, metadata, ... not on the operator's allow-list). The executor enforces the same
    /// on every connection; this tells the admin when saving the integration.
    pub async fn check_destination(&self, base_url: &str) -> Result<(), Status> {
        let url = url::Url::parse(base_url)
            .map_err(|e| Status::invalid_argument(format!("base_url: {e}")))?;
        self.exec
            .check_destination(&url)
            .await
            .map_err(|e| Status::invalid_argument(format!("base_url: {e}")))
    }

    /// The ServiceNow client of `record`. FAILED_PRECONDITION when the integration is inactive
    /// or not a ServiceNow one.
    pub fn servicenow(&self, record: &IntegrationRecord) -> Result<ServiceNowClient, Status> {
        if record.vendor != Vendor::ServiceNow {
            return Err(Status::failed_precondition(format!(
                "integration {} is a {} integration; only ServiceNow is available yet",
                record.name, record.vendor
            )));
        }
        if !record.active {
            return Err(Status::failed_precondition(format!(
                "integration {} is inactive; activate it with UpdateIntegration first",
                record.name
            )));
        }
        let version = (record.credentials_rotated_at, record.base_url.clone());
        if let Some((at, url, client)) = self.cache.lock().get(&record.id)
            && (*at, url.clone()) == version
        {
            return Ok(client.clone());
        }
        let client = self.build(record)?;
        self.cache
            .lock()
            .insert(record.id, (version.0, version.1, client.clone()));
        Ok(client)
    }

    /// A fresh, uncached client (the connection test uses it so it sees exactly what is stored).
    pub fn build(&self, record: &IntegrationRecord) -> Result<ServiceNowClient, Status> {
        let credentials = open_credentials(&self.keyring, record)?;
        let handle = CredentialsHandle::new(credentials).map_err(|e| {
            Status::failed_precondition(format!(
                "integration {} has incomplete credentials ({e}); rotate them",
                record.name
            ))
        })?;
        let instance = InstanceUrl::parse(&record.base_url).map_err(|e| {
            Status::failed_precondition(format!("integration {}: {e}", record.name))
        })?;
        Ok(ServiceNowClient::new(
            self.exec.clone(),
            ServiceNowConfig::new(record.id, instance),
            handle,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_credentials_round_trip_and_are_bound_to_their_integration() {
        let keyring = Keyring::new("k1", &[7u8; 32]).unwrap();
        let (tenant, id) = (TenantId::new(), IntegrationId::new());
        let creds = ServiceNowCredentials::Basic {
            username: "svc".into(),
            password: SecretString::new("hunter2"),
        };
        let sealed = seal_credentials(&keyring, tenant, id, &creds).unwrap();
        assert!(
            !String::from_utf8_lossy(&sealed.to_bytes()).contains("hunter2"),
            "sealed bytes hide the password"
        );
        let now = OffsetDateTime::now_utc();
        let mut record = IntegrationRecord {
            id,
            tenant_id: tenant,
            vendor: Vendor::ServiceNow,
            name: "sn".into(),
            base_url: "https://example.service-now.com".into(),
            auth_kind: AuthKind::Basic,
            sealed_credentials: sealed.clone(),
            sealed_webhook_secret: None,
            settings: Default::default(),
            active: true,
            created_at: now,
            updated_at: now,
            credentials_rotated_at: now,
        };
        match open_credentials(&keyring, &record).unwrap() {
            ServiceNowCredentials::Basic { username, password } => {
                assert_eq!(username, "svc");
                assert_eq!(password.expose(), "hunter2");
            }
            other => panic!("unexpected {:?}", other.kind()),
        }
        assert_eq!(fingerprint(&sealed).len(), 16);
        record.id = IntegrationId::new();
        let err = open_credentials(&keyring, &record).unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    }

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
