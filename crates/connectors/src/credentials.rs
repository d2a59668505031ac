//! Vendor-neutral integration credentials, and the one codec that seals them at rest.
//!
//! Every vendor authenticates with one of these kinds (ServiceNow: all four; Jira Cloud: Basic
//! with an e-mail and API token, OAuth; ServiceDesk Plus: an API key or OAuth); a connector
//! refuses a kind it cannot use when it is built. Sealed credentials are a small JSON document
//! (`{"kind": "basic", "username": …, "password": …}`) encrypted with the master keyring and bound
//! to tenant + integration + purpose; the plaintext lives only in zeroized buffers.

use lockstep_crypto::{Aad, Keyring, Purpose, Sealed, SecretString};
use lockstep_domain::{IntegrationId, TenantId};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::error::{ConnectorError, Result};

/// What an integration authenticates with.
#[derive(Debug, Clone)]
pub enum Credentials {
    Basic {
        username: String,
        password: SecretString,
    },
    /// Resource-owner password grant; the refresh token it returns renews the access token.
    OAuthPassword {
        client_id: String,
        client_secret: SecretString,
        username: String,
        password: SecretString,
    },
    /// Client credentials grant (Washington DC and later, behind an instance property).
    OAuthClientCredentials {
        client_id: String,
        client_secret: SecretString,
    },
    ApiKey {
        key: SecretString,
    },
    /// An OAuth 2.0 refresh token obtained once by an admin's consent (Jira Cloud 3LO, Zoho for
    /// ServiceDesk Plus Cloud); the connector trades it for access tokens. `token_url` overrides
    /// the vendor's default token endpoint (Zoho's accounts server differs per data centre).
    OAuthRefreshToken {
        client_id: String,
        client_secret: SecretString,
        refresh_token: SecretString,
        token_url: Option<String>,
    },
}

/// The kind of credentials, without the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    Basic,
    OAuthPassword,
    OAuthClientCredentials,
    ApiKey,
    OAuthRefreshToken,
}

impl AuthKind {
    /// The stored and API name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::OAuthPassword => "oauth2_password",
            Self::OAuthClientCredentials => "oauth2_client_credentials",
            Self::ApiKey => "api_key",
            Self::OAuthRefreshToken => "oauth2_refresh_token",
        }
    }
}

impl std::fmt::Display for AuthKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Credentials {
    pub fn kind(&self) -> AuthKind {
        match self {
            Self::Basic { .. } => AuthKind::Basic,
            Self::OAuthPassword { .. } => AuthKind::OAuthPassword,
            Self::OAuthClientCredentials { .. } => AuthKind::OAuthClientCredentials,
            Self::ApiKey { .. } => AuthKind::ApiKey,
            Self::OAuthRefreshToken { .. } => AuthKind::OAuthRefreshToken,
        }
    }

    /// Checks that no field is empty, naming the one that is.
    pub fn validate(&self) -> Result<()> {
        let missing = |what: &str| Err(ConnectorError::config(format!("the {what} is empty")));
        match self {
            Self::Basic { username, password } => {
                if username.trim().is_empty() {
                    return missing("user name");
                }
                if password.is_empty() {
                    return missing("password");
                }
            }
            Self::OAuthPassword {
                client_id,
                client_secret,
                username,
                password,
            } => {
                if client_id.trim().is_empty() {
                    return missing("OAuth client id");
                }
                if client_secret.is_empty() {
                    return missing("OAuth client secret");
                }
                if username.trim().is_empty() {
                    return missing("user name");
                }
                if password.is_empty() {
                    return missing("password");
                }
            }
            Self::OAuthClientCredentials {
                client_id,
                client_secret,
            } => {
                if client_id.trim().is_empty() {
                    return missing("OAuth client id");
                }
                if client_secret.is_empty() {
                    return missing("OAuth client secret");
                }
            }
            Self::ApiKey { key } => {
                if key.expose().trim().is_empty() {
                    return missing("API key");
                }
            }
            Self::OAuthRefreshToken {
                client_id,
                client_secret,
                refresh_token,
                token_url,
            } => {
                if client_id.trim().is_empty() {
                    return missing("OAuth client id");
                }
                if client_secret.is_empty() {
                    return missing("OAuth client secret");
                }
                if refresh_token.expose().trim().is_empty() {
                    return missing("OAuth refresh token");
                }
                if let Some(url) = token_url {
                    let parsed = url::Url::parse(url).map_err(|e| {
                        ConnectorError::config(format!(
                            "the OAuth token URL {url:?} is not a URL: {e}"
                        ))
                    })?;
                    if parsed.scheme() != "https" && parsed.scheme() != "http" {
                        return Err(ConnectorError::config(format!(
                            "the OAuth token URL {url:?} must be an https:// URL"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Seals `credentials` for `integration` of `tenant`.
pub fn seal(
    keyring: &Keyring,
    tenant: TenantId,
    integration: IntegrationId,
    credentials: &Credentials,
) -> Result<Sealed> {
    let doc = match credentials {
        Credentials::Basic { username, password } => {
            json!({"kind": "basic", "username": username, "password": password.expose()})
        }
        Credentials::OAuthPassword {
            client_id,
            client_secret,
            username,
            password,
        } => json!({"kind": "oauth2_password", "client_id": client_id,
                    "client_secret": client_secret.expose(), "username": username,
                    "password": password.expose()}),
        Credentials::OAuthClientCredentials {
            client_id,
            client_secret,
        } => json!({"kind": "oauth2_client_credentials", "client_id": client_id,
                    "client_secret": client_secret.expose()}),
        Credentials::ApiKey { key } => json!({"kind": "api_key", "key": key.expose()}),
        Credentials::OAuthRefreshToken {
            client_id,
            client_secret,
            refresh_token,
            token_url,
        } => json!({"kind": "oauth2_refresh_token", "client_id": client_id,
                    "client_secret": client_secret.expose(),
                    "refresh_token": refresh_token.expose(), "token_url": token_url}),
    };
    let plaintext = Zeroizing::new(doc.to_string().into_bytes());
    drop(doc);
    keyring
        .seal(
            &plaintext,
            &Aad::new(tenant, integration, Purpose::Credentials),
        )
        .map_err(|e| ConnectorError::InvalidResponse {
            message: format!("sealing credentials failed: {e}"),
        })
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
    #[serde(rename = "oauth2_refresh_token")]
    OAuthRefreshToken {
        client_id: String,
        client_secret: SecretString,
        refresh_token: SecretString,
        #[serde(default)]
        token_url: Option<String>,
    },
}

/// Opens sealed credentials. A failure (wrong master key, tampered row) is
/// [`ConnectorError::Unusable`]: the admin must check the master keys or rotate the credentials.
pub fn open(
    keyring: &Keyring,
    tenant: TenantId,
    integration: IntegrationId,
    sealed: &Sealed,
) -> Result<Credentials> {
    let aad = Aad::new(tenant, integration, Purpose::Credentials);
    let opened = keyring.open(sealed, &aad).map_err(|e| {
        tracing::error!(%integration, error = %e, "cannot open integration credentials");
        ConnectorError::unusable(format!(
            "the credentials of integration {integration} cannot be opened with the configured \
             master keys; check LOCKSTEP_MASTER_KEYS or rotate the credentials"
        ))
    })?;
    let stored: Stored = serde_json::from_slice(opened.expose()).map_err(|_| {
        ConnectorError::unusable(format!(
            "the stored credentials of integration {integration} are unreadable; rotate them"
        ))
    })?;
    Ok(match stored {
        Stored::Basic { username, password } => Credentials::Basic { username, password },
        Stored::OAuthPassword {
            client_id,
            client_secret,
            username,
            password,
        } => Credentials::OAuthPassword {
            client_id,
            client_secret,
            username,
            password,
        },
        Stored::OAuthClientCredentials {
            client_id,
            client_secret,
        } => Credentials::OAuthClientCredentials {
            client_id,
            client_secret,
        },
        Stored::ApiKey { key } => Credentials::ApiKey { key },
        Stored::OAuthRefreshToken {
            client_id,
            client_secret,
            refresh_token,
            token_url,
        } => Credentials::OAuthRefreshToken {
            client_id,
            client_secret,
            refresh_token,
            token_url,
        },
    })
}

/// A short fingerprint of sealed bytes: identifies a version without revealing anything about
/// the secret (it is computed over the ciphertext, which has a random nonce).
pub fn fingerprint(sealed: &Sealed) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, &sealed.to_bytes());
    hex::encode(&digest.as_ref()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_credentials_round_trip_and_are_bound_to_their_integration() {
        let keyring = Keyring::new("k1", &[7u8; 32]).unwrap();
        let (tenant, id) = (TenantId::new(), IntegrationId::new());
        let creds = Credentials::Basic {
            username: "svc".into(),
            password: SecretString::new("hunter2"),
        };
        let sealed = seal(&keyring, tenant, id, &creds).unwrap();
        assert!(
            !String::from_utf8_lossy(&sealed.to_bytes()).contains("hunter2"),
            "sealed bytes hide the password"
        );
        match open(&keyring, tenant, id, &sealed).unwrap() {
            Credentials::Basic { username, password } => {
                assert_eq!(username, "svc");
                assert_eq!(password.expose(), "hunter2");
            }
            other => panic!("unexpected {:?}", other.kind()),
        }
        assert_eq!(fingerprint(&sealed).len(), 16);
        let err = open(&keyring, tenant, IntegrationId::new(), &sealed).unwrap_err();
        assert_eq!(err.class(), crate::ErrorClass::FailedPrecondition);
    }

    #[test]
    fn refresh_token_credentials_round_trip_and_name_what_is_missing() {
        let keyring = Keyring::new("k1", &[7u8; 32]).unwrap();
        let (tenant, id) = (TenantId::new(), IntegrationId::new());
        let creds = Credentials::OAuthRefreshToken {
            client_id: "app".into(),
            client_secret: SecretString::new("s3cret"),
            refresh_token: SecretString::new("r-1"),
            token_url: Some("https://accounts.zoho.eu/oauth/v2/token".into()),
        };
        creds.validate().unwrap();
        let sealed = seal(&keyring, tenant, id, &creds).unwrap();
        match open(&keyring, tenant, id, &sealed).unwrap() {
            Credentials::OAuthRefreshToken {
                client_id,
                client_secret,
                refresh_token,
                token_url,
            } => {
                assert_eq!(client_id, "app");
                assert_eq!(client_secret.expose(), "s3cret");
                assert_eq!(refresh_token.expose(), "r-1");
                assert_eq!(
                    token_url.as_deref(),
                    Some("https://accounts.zoho.eu/oauth/v2/token")
                );
            }
            other => panic!("unexpected {:?}", other.kind()),
        }
        let no_token = Credentials::OAuthRefreshToken {
            client_id: "app".into(),
            client_secret: SecretString::new("s3cret"),
            refresh_token: SecretString::new(" "),
            token_url: None,
        };
        let err = no_token.validate().unwrap_err().to_string();
        assert!(err.contains("refresh token"), "{err}");
        let bad_url = Credentials::OAuthRefreshToken {
            client_id: "app".into(),
            client_secret: SecretString::new("s3cret"),
            refresh_token: SecretString::new("r-1"),
            token_url: Some("ftp://example.com/token".into()),
        };
        let err = bad_url.validate().unwrap_err().to_string();
        assert!(err.contains("https://"), "{err}");
    }
}
