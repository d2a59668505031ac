//! ServiceNow authentication: Basic, OAuth 2.0 (password grant with refresh token, client
//! credentials) and API keys (`x-sn-apikey`).
//!
//! Credentials sit behind a [`CredentialsHandle`] shared with whoever manages the integration:
//! [`CredentialsHandle::rotate`] swaps them and the next request uses the new ones (a cached OAuth
//! token of the old credentials is dropped). OAuth tokens are cached per client, renewed shortly
//! before they expire (refresh grant first, then the original grant), and renewed once when a
//! request is answered 401 despite a token we believed valid.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use http::{HeaderMap, HeaderName, HeaderValue, header};
use lockstep_crypto::SecretString;
use lockstep_domain::IntegrationId;
use parking_lot::RwLock;

pub use crate::credentials::{AuthKind, Credentials as ServiceNowCredentials};

use super::oauth::CachedToken;
use super::url::InstanceUrl;
use crate::error::{AuthFailure, ConnectorError, Result};
use crate::http::HttpExecutor;

pub const API_KEY_HEADER: &str = "x-sn-apikey";

/// A shared, swappable credentials cell. Clones share the cell.
#[derive(Clone, Debug)]
pub struct CredentialsHandle {
    inner: Arc<RwLock<(u64, Arc<ServiceNowCredentials>)>>,
}

/// ServiceNow takes a user's password or the client-credentials grant for OAuth; a refresh token
/// from a consent flow has no place in an integration's service account.
fn refuse_unsupported(credentials: &ServiceNowCredentials) -> Result<()> {
    match credentials.kind() {
        AuthKind::OAuthRefreshToken => Err(refresh_token_unsupported()),
        _ => Ok(()),
    }
}

fn refresh_token_unsupported() -> ConnectorError {
    ConnectorError::config(
        "ServiceNow integrations authenticate with basic, oauth2_password, \
         oauth2_client_credentials or api_key credentials, not an OAuth refresh token",
    )
}

impl CredentialsHandle {
    pub fn new(credentials: ServiceNowCredentials) -> Result<Self> {
        refuse_unsupported(&credentials)?;
        credentials.validate()?;
        Ok(Self {
            inner: Arc::new(RwLock::new((1, Arc::new(credentials)))),
        })
    }

    /// Replaces the credentials; the next request authenticates with the new ones.
    pub fn rotate(&self, credentials: ServiceNowCredentials) -> Result<()> {
        refuse_unsupported(&credentials)?;
        credentials.validate()?;
        let mut guard = self.inner.write();
        *guard = (guard.0 + 1, Arc::new(credentials));
        Ok(())
    }

    /// The credentials and their generation (bumped by every rotation).
    pub fn current(&self) -> (u64, Arc<ServiceNowCredentials>) {
        let guard = self.inner.read();
        (guard.0, guard.1.clone())
    }

    pub fn kind(&self) -> AuthKind {
        self.inner.read().1.kind()
    }
}

/// How a request was authenticated, so a 401 can be judged and the right token dropped.
#[derive(Debug, Clone)]
pub(crate) struct AppliedAuth {
    pub kind: AuthKind,
    pub generation: u64,
    token: Option<SecretString>,
}

pub(crate) struct Authenticator {
    pub(super) instance: InstanceUrl,
    pub(super) integration: IntegrationId,
    pub(super) exec: HttpExecutor,
    credentials: CredentialsHandle,
    pub(super) token: tokio::sync::Mutex<Option<CachedToken>>,
    /// The newest credentials generation the instance has accepted at least once.
    pub(super) accepted: AtomicU64,
}

impl Authenticator {
    pub fn new(
        instance: InstanceUrl,
        integration: IntegrationId,
        exec: HttpExecutor,
        credentials: CredentialsHandle,
    ) -> Self {
        Self {
            instance,
            integration,
            exec,
            credentials,
            token: tokio::sync::Mutex::new(None),
            accepted: AtomicU64::new(0),
        }
    }

    pub fn credentials(&self) -> &CredentialsHandle {
        &self.credentials
    }

    /// Adds the authentication header for the current credentials.
    pub async fn apply(&self, headers: &mut HeaderMap) -> Result<AppliedAuth> {
        let (generation, creds) = self.credentials.current();
        let kind = creds.kind();
        match creds.as_ref() {
            ServiceNowCredentials::Basic { username, password } => {
                use base64::Engine as _;
                let raw = format!("{username}:{}", password.expose());
                let encoded = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
                headers.insert(
                    header::AUTHORIZATION,
                    sensitive(&format!("Basic {encoded}"))?,
                );
                Ok(AppliedAuth {
                    kind,
                    generation,
                    token: None,
                })
            }
            ServiceNowCredentials::ApiKey { key } => {
                headers.insert(
                    HeaderName::from_static(API_KEY_HEADER),
                    sensitive(key.expose().trim())?,
                );
                Ok(AppliedAuth {
                    kind,
                    generation,
                    token: None,
                })
            }
            ServiceNowCredentials::OAuthRefreshToken { .. } => Err(refresh_token_unsupported()),
            ServiceNowCredentials::OAuthPassword { .. }
            | ServiceNowCredentials::OAuthClientCredentials { .. } => {
                let token = self.access_token(generation, &creds).await?;
                headers.insert(
                    header::AUTHORIZATION,
                    sensitive(&format!("Bearer {}", token.expose()))?,
                );
                Ok(AppliedAuth {
                    kind,
                    generation,
                    token: Some(token),
                })
            }
        }
    }

    /// After a 401: marks the refused token for renewal and says whether one more try is worth
    /// it (OAuth only; the caller retries once).
    pub async fn invalidate(&self, applied: &AppliedAuth) -> bool {
        let Some(used) = &applied.token else {
            return false;
        };
        let mut cache = self.token.lock().await;
        if let Some(cached) = cache.as_mut()
            && cached.access.expose() == used.expose()
        {
            // Keep the refresh token: renewing through it is the cheapest way back.
            cached.renew_at = Instant::now();
        }
        true
    }

    /// Records that the instance accepted these credentials (any answer but 401).
    pub fn accepted(&self, applied: &AppliedAuth) {
        self.accepted
            .fetch_max(applied.generation, Ordering::Relaxed);
    }

    /// The error for a request that stayed 401. Credentials the instance accepted before and
    /// refuses now were revoked or expired; an API key never accepted is wrong, or the
    /// instance does not (yet) accept API keys at all.
    pub fn rejected(&self, applied: &AppliedAuth, vendor_message: &str) -> ConnectorError {
        let worked_before = self.accepted.load(Ordering::Relaxed) == applied.generation;
        let (reason, remedy) = match applied.kind {
            AuthKind::Basic => (AuthFailure::BadCredentials, REMEDY_BASIC),
            AuthKind::ApiKey if worked_before => {
                (AuthFailure::TokenExpiredOrRevoked, REMEDY_API_KEY_REVOKED)
            }
            AuthKind::ApiKey => (AuthFailure::ApiKeyRejected, REMEDY_API_KEY),
            AuthKind::OAuthPassword
            | AuthKind::OAuthClientCredentials
            | AuthKind::OAuthRefreshToken => (AuthFailure::TokenExpiredOrRevoked, REMEDY_TOKEN),
        };
        let history = if worked_before {
            "; the same credentials were accepted earlier"
        } else {
            ""
        };
        ConnectorError::Auth {
            reason,
            message: format!(
                "ServiceNow answered 401 ({vendor_message}) to {}{history}",
                describe(applied.kind)
            ),
            remedy: remedy.to_owned(),
        }
    }
}

fn sensitive(value: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        ConnectorError::config(
            "the credentials contain characters that cannot be sent in an HTTP header",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

fn describe(kind: AuthKind) -> &'static str {
    match kind {
        AuthKind::Basic => "the user name and password",
        AuthKind::OAuthPassword
        | AuthKind::OAuthClientCredentials
        | AuthKind::OAuthRefreshToken => "a renewed OAuth access token",
        AuthKind::ApiKey => "the API key",
    }
}

pub const REMEDY_BASIC: &str = "Check the user name and password (copied without extra spaces), that \
the service account is active and not locked out, and that it can use Basic auth: on instances that \
restrict Basic auth for APIs the user needs the role snc_basic_auth_api_access or 'Web service access only'";

pub const REMEDY_OAUTH: &str = "Check the client id and secret of the OAuth entry under System OAuth > \
Application Registry, and that the integration user is active, not locked out and allowed to log in. For \
the client credentials grant the system property glide.oauth.inbound.client.credential.grant_type.enabled \
must be true and the entry needs an OAuth Application User. ServiceNow logs the exact reason only in the \
instance's system log";

pub const REMEDY_TOKEN: &str = "The instance no longer accepts the token and would not renew it: it was \
revoked (System OAuth > Manage Tokens), it expired, the service user was deactivated, or the OAuth entry \
changed. Check the user and the Application Registry entry, then save the integration's credentials \
again to obtain a new token";

pub const REMEDY_API_KEY_REVOKED: &str = "The API key worked before and is refused now: it was revoked \
or reached its expiry date, its service user was deactivated, or the API access policy changed. Check the key \
under System Web Services > API Access Policies > REST API Key, create a new key for the service user if \
needed and save it in the integration";

pub const REMEDY_API_KEY: &str = "Check the key under System Web Services > API Access Policies > REST API \
Key: it must be active, not expired and bound to an active service user (create a new key if it was \
revoked). API keys also need the plugin 'API Key and HMAC Authentication' (com.glide.tokenbased_auth, \
Washington DC or later), an Inbound Authentication Profile using the x-sn-apikey header, and a REST API \
Access Policy for the Table API that lists that profile";
