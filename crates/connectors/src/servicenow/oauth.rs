//! The OAuth 2.0 side of [`Authenticator`]: the token endpoint (`/oauth_token.do`, form-encoded),
//! the password, refresh-token and client-credentials grants, and the per-client token cache.
//!
//! A cached token is renewed when a fifth of its life (at most a minute) is left, through the
//! refresh token when there is one, else through the original grant. Tokens belong to one
//! generation of the credentials; a rotation makes the next request fetch a new one.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use http::{HeaderValue, Method, header};
use lockstep_crypto::SecretString;
use lockstep_domain::Vendor;
use serde::Deserialize;

use super::auth::{Authenticator, REMEDY_OAUTH, REMEDY_TOKEN, ServiceNowCredentials};
use crate::error::{AuthFailure, ConnectorError, Result};
use crate::http::VendorRequest;

pub(super) struct CachedToken {
    pub generation: u64,
    pub access: SecretString,
    pub refresh: Option<SecretString>,
    pub renew_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

impl Authenticator {
    pub(super) async fn access_token(
        &self,
        generation: u64,
        creds: &ServiceNowCredentials,
    ) -> Result<SecretString> {
        let mut cache = self.token.lock().await;
        let now = Instant::now();
        let mut refresh = None;
        if let Some(cached) = cache.as_ref().filter(|c| c.generation == generation) {
            if now < cached.renew_at {
                return Ok(cached.access.clone());
            }
            refresh = cached.refresh.clone();
        }
        *cache = None;
        let mut response = None;
        if let Some(refresh_token) = refresh {
            match self.refresh_grant(creds, &refresh_token).await {
                Ok(r) => response = Some((r, Some(refresh_token))),
                Err(e @ ConnectorError::Auth { .. }) => {
                    tracing::info!(error = %e, "ServiceNow refresh token refused; requesting a new token");
                }
                Err(e) => return Err(e),
            }
        }
        let (token, kept_refresh) = match response {
            Some(r) => r,
            None => (
                self.initial_grant(creds)
                    .await
                    .map_err(|e| self.revoked_if_known(generation, e))?,
                None,
            ),
        };
        let lifetime = token
            .expires_in
            .as_ref()
            .and_then(seconds)
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(1800));
        let margin = (lifetime / 5).min(Duration::from_secs(60));
        let access = SecretString::new(token.access_token);
        *cache = Some(CachedToken {
            generation,
            access: access.clone(),
            refresh: token.refresh_token.map(SecretString::new).or(kept_refresh),
            renew_at: now + lifetime.saturating_sub(margin),
        });
        Ok(access)
    }

    /// A grant refused for credentials the instance accepted before: the account or client was
    /// deactivated, revoked or changed since.
    fn revoked_if_known(&self, generation: u64, e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth {
                reason: AuthFailure::OAuthRejected,
                message,
                ..
            } if self.accepted.load(Ordering::Relaxed) == generation => ConnectorError::Auth {
                reason: AuthFailure::TokenExpiredOrRevoked,
                message: format!("{message}; the same credentials were accepted earlier"),
                remedy: REMEDY_TOKEN.to_owned(),
            },
            other => other,
        }
    }

    async fn initial_grant(&self, creds: &ServiceNowCredentials) -> Result<TokenResponse> {
        match creds {
            ServiceNowCredentials::OAuthPassword {
                client_id,
                client_secret,
                username,
                password,
            } => {
                self.token_request(
                    "password",
                    &[
                        ("grant_type", "password"),
                        ("client_id", client_id),
                        ("client_secret", client_secret.expose()),
                        ("username", username),
                        ("password", password.expose()),
                    ],
                )
                .await
            }
            ServiceNowCredentials::OAuthClientCredentials {
                client_id,
                client_secret,
            } => {
                self.token_request(
                    "client_credentials",
                    &[
                        ("grant_type", "client_credentials"),
                        ("client_id", client_id),
                        ("client_secret", client_secret.expose()),
                    ],
                )
                .await
            }
            _ => Err(ConnectorError::config("these credentials do not use OAuth")),
        }
    }

    async fn refresh_grant(
        &self,
        creds: &ServiceNowCredentials,
        refresh: &SecretString,
    ) -> Result<TokenResponse> {
        let (client_id, client_secret) = match creds {
            ServiceNowCredentials::OAuthPassword {
                client_id,
                client_secret,
                ..
            }
            | ServiceNowCredentials::OAuthClientCredentials {
                client_id,
                client_secret,
            } => (client_id, client_secret),
            _ => return Err(ConnectorError::config("these credentials do not use OAuth")),
        };
        self.token_request(
            "refresh_token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", client_id),
                ("client_secret", client_secret.expose()),
                ("refresh_token", refresh.expose()),
            ],
        )
        .await
    }

    async fn token_request(&self, grant: &str, form: &[(&str, &str)]) -> Result<TokenResponse> {
        let url = self.instance.join("oauth_token.do");
        // Asking for a token twice is harmless, so the request may be retried.
        let req = VendorRequest::new(
            Vendor::ServiceNow,
            "oauth_token",
            self.integration,
            Method::POST,
            url,
        )
        .header(header::ACCEPT, HeaderValue::from_static("application/json"))
        .form(form)
        .idempotent(true);
        let resp = self.exec.send(&req).await?;
        if resp.status.is_success() {
            let token: TokenResponse = resp.json()?;
            if token.access_token.trim().is_empty() {
                return Err(ConnectorError::invalid_response(
                    "the OAuth token response has no access_token",
                ));
            }
            return Ok(token);
        }
        if matches!(resp.status.as_u16(), 400 | 401 | 403) {
            let detail = resp
                .json::<serde_json::Value>()
                .ok()
                .and_then(|v| {
                    v.get("error_description")
                        .and_then(|d| d.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| format!("HTTP {}", resp.status.as_u16()));
            let (reason, remedy) = if grant == "refresh_token" {
                (AuthFailure::TokenExpiredOrRevoked, REMEDY_TOKEN)
            } else {
                (AuthFailure::OAuthRejected, REMEDY_OAUTH)
            };
            return Err(ConnectorError::Auth {
                reason,
                message: format!(
                    "the OAuth token request (grant {grant}) to oauth_token.do was refused: {detail}"
                ),
                remedy: remedy.to_owned(),
            });
        }
        Err(super::client::error_from_response(&resp, "oauth_token"))
    }
}

fn seconds(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}
