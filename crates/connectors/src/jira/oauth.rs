//! OAuth 2.0 (3LO) for Jira Cloud (reference A1): an admin's consent gives a refresh token
//! (scope `offline_access`); it is exchanged at the token endpoint
//! (`https://auth.atlassian.com/oauth/token`) for an access token, and Jira **rotates** it: every
//! refresh answers a new refresh token and the old one stops working. The new one is therefore
//! stored sealed through the integration's [`CredentialsSink`] before it is used, and when the
//! token endpoint refuses ours, the stored one is read back (another service or replica may have
//! rotated it) and tried once.
//!
//! Calls go through the API gateway, `https://api.atlassian.com/ex/jira/{cloudid}/rest/api/3/…`,
//! with the site's cloud id read from `oauth/token/accessible-resources` (the resource whose `url`
//! is the integration's site). When the credentials name their own token URL (a proxy, the
//! emulator), the gateway and resources are taken from that URL's origin instead.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderValue, Method, header};
use lockstep_crypto::SecretString;
use lockstep_domain::{IntegrationId, Vendor};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use url::Url;

use crate::credentials::Credentials;
use crate::error::{AuthFailure, ConnectorError, Result};
use crate::http::{HttpExecutor, VendorRequest};
use crate::sink::CredentialsSink;

pub const DEFAULT_TOKEN_URL: &str = "https://auth.atlassian.com/oauth/token";
const GATEWAY: &str = "https://api.atlassian.com";
/// Renew this long before the access token expires.
const EARLY: Duration = Duration::from_secs(60);

pub const REMEDY_CONSENT: &str = "The OAuth consent is no longer valid (the refresh token was \
    revoked, expired after 90 days unused, or rotated away): have a Jira admin authorize the \
    Lockstep app again and rotate the integration's credentials to the new refresh token";

struct State {
    refresh_token: SecretString,
    access: Option<(HeaderValue, Instant)>,
    cloud_id: Option<String>,
}

/// One integration's OAuth session: tokens, cloud id, and where rotations are stored.
pub struct OAuthSession {
    integration: IntegrationId,
    client_id: String,
    client_secret: SecretString,
    token_url: Url,
    gateway: Url,
    site: String,
    exec: HttpExecutor,
    sink: Option<Arc<dyn CredentialsSink>>,
    state: Mutex<State>,
}

impl std::fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OAuth({}, ***)", self.client_id)
    }
}

fn consent_error(message: String) -> ConnectorError {
    ConnectorError::Auth {
        reason: AuthFailure::TokenExpiredOrRevoked,
        message,
        remedy: REMEDY_CONSENT.into(),
    }
}

impl OAuthSession {
    /// From [`Credentials::OAuthRefreshToken`]; `site` is the integration's site root.
    pub fn new(
        credentials: &Credentials,
        site: &str,
        exec: HttpExecutor,
        integration: IntegrationId,
        sink: Option<Arc<dyn CredentialsSink>>,
    ) -> Result<Self> {
        let Credentials::OAuthRefreshToken {
            client_id,
            client_secret,
            refresh_token,
            token_url,
        } = credentials
        else {
            return Err(ConnectorError::config(
                "not OAuth refresh-token credentials",
            ));
        };
        let token_url = Url::parse(token_url.as_deref().unwrap_or(DEFAULT_TOKEN_URL))
            .map_err(|e| ConnectorError::config(format!("the OAuth token URL is invalid: {e}")))?;
        let gateway = match token_url.as_str() {
            DEFAULT_TOKEN_URL => Url::parse(GATEWAY),
            _ => Url::parse(&token_url.origin().ascii_serialization()),
        }
        .map_err(|e| ConnectorError::config(format!("no API gateway for the token URL: {e}")))?;
        Ok(Self {
            integration,
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            token_url,
            gateway,
            site: site.trim_end_matches('/').to_owned(),
            exec,
            sink,
            state: Mutex::new(State {
                refresh_token: refresh_token.clone(),
                access: None,
                cloud_id: None,
            }),
        })
    }

    /// The `Authorization` value and the API root (`…/ex/jira/{cloudid}/`) to call.
    pub async fn prepare(&self) -> Result<(HeaderValue, Url)> {
        let mut state = self.state.lock().await;
        let header = match &state.access {
            Some((h, until)) if Instant::now() + EARLY < *until => h.clone(),
            _ => self.refresh(&mut state).await?,
        };
        let cloud_id = match &state.cloud_id {
            Some(id) => id.clone(),
            None => {
                let id = self.cloud_id(&header).await?;
                state.cloud_id = Some(id.clone());
                id
            }
        };
        let mut root = self.gateway.clone();
        root.set_path(&format!("ex/jira/{cloud_id}/"));
        Ok((header, root))
    }

    /// Forgets the access token (Jira answered 401 with it).
    pub async fn invalidate(&self) {
        self.state.lock().await.access = None;
    }

    async fn refresh(&self, state: &mut State) -> Result<HeaderValue> {
        match self.exchange(&state.refresh_token).await {
            Ok(answer) => self.accept(state, answer).await,
            Err(first) => {
                // Another process may have rotated the token: try the stored one once.
                let Some(sink) = &self.sink else {
                    return Err(first);
                };
                let stored = match sink.load().await? {
                    Credentials::OAuthRefreshToken { refresh_token, .. } => refresh_token,
                    _ => return Err(first),
                };
                if stored.expose() == state.refresh_token.expose() {
                    return Err(first);
                }
                tracing::info!(integration = %self.integration, "retrying the OAuth refresh with the stored (rotated) refresh token");
                state.refresh_token = stored;
                let answer = self.exchange(&state.refresh_token).await?;
                self.accept(state, answer).await
            }
        }
    }

    /// Keeps the new tokens; a rotated refresh token is stored before it replaces ours.
    async fn accept(&self, state: &mut State, answer: Value) -> Result<HeaderValue> {
        let access = answer
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ConnectorError::invalid_response("the token answer has no access_token")
            })?;
        let expires = answer
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        if let Some(rotated) = answer.get("refresh_token").and_then(Value::as_str)
            && rotated != state.refresh_token.expose()
        {
            let rotated = SecretString::new(rotated);
            if let Some(sink) = &self.sink {
                let stored = Credentials::OAuthRefreshToken {
                    client_id: self.client_id.clone(),
                    client_secret: self.client_secret.clone(),
                    refresh_token: rotated.clone(),
                    token_url: (self.token_url.as_str() != DEFAULT_TOKEN_URL)
                        .then(|| self.token_url.to_string()),
                };
                // The old token is spent either way: keep the new one in memory even when it
                // could not be stored (the next rotation stores again).
                if let Err(e) = sink.save(&stored).await {
                    tracing::error!(integration = %self.integration, error = %e, "the rotated OAuth refresh token could not be stored");
                }
            }
            state.refresh_token = rotated;
        }
        let mut header = HeaderValue::from_str(&format!("Bearer {access}")).map_err(|_| {
            ConnectorError::invalid_response("the access token is not a header value")
        })?;
        header.set_sensitive(true);
        state.access = Some((
            header.clone(),
            Instant::now() + Duration::from_secs(expires),
        ));
        Ok(header)
    }

    async fn exchange(&self, refresh_token: &SecretString) -> Result<Value> {
        let body = json!({"grant_type": "refresh_token", "client_id": self.client_id,
            "client_secret": self.client_secret.expose(), "refresh_token": refresh_token.expose()});
        let req = VendorRequest::new(
            Vendor::Jira,
            "oauth_refresh",
            self.integration,
            Method::POST,
            self.token_url.clone(),
        )
        .json(&body)?
        .idempotent(false);
        let resp = self.exec.send(&req).await?;
        if resp.status.is_success() {
            return resp.json();
        }
        let detail = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| {
                ["error_description", "error"]
                    .iter()
                    .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
            })
            .unwrap_or_else(|| format!("HTTP {}", resp.status.as_u16()));
        Err(match resp.status.as_u16() {
            400 | 401 | 403 => consent_error(format!(
                "the token endpoint refused the refresh token ({detail})"
            )),
            s => ConnectorError::Vendor {
                status: s,
                message: format!("OAuth token endpoint: {detail}"),
            },
        })
    }

    /// The cloud id of the integration's site among the consent's accessible resources.
    async fn cloud_id(&self, header: &HeaderValue) -> Result<String> {
        let mut url = self.gateway.clone();
        url.set_path("oauth/token/accessible-resources");
        let req = VendorRequest::new(
            Vendor::Jira,
            "accessible_resources",
            self.integration,
            Method::GET,
            url,
        )
        .header(header::AUTHORIZATION, header.clone());
        let resp = self.exec.send(&req).await?;
        if !resp.status.is_success() {
            return Err(consent_error(format!(
                "accessible-resources answered HTTP {}",
                resp.status.as_u16()
            )));
        }
        let list: Value = resp.json()?;
        let sites = list.as_array().cloned().unwrap_or_default();
        sites
            .iter()
            .find(|s| {
                s.get("url")
                    .and_then(Value::as_str)
                    .is_some_and(|u| u.trim_end_matches('/') == self.site)
            })
            .and_then(|s| s.get("id").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(|| {
                let urls: Vec<&str> = sites
                    .iter()
                    .filter_map(|s| s.get("url")?.as_str())
                    .collect();
                ConnectorError::config(format!(
                    "the OAuth consent does not cover the site {} (it covers: {}); authorize the \
                     app on that site or correct the site URL",
                    self.site,
                    if urls.is_empty() {
                        "no site".to_owned()
                    } else {
                        urls.join(", ")
                    }
                ))
            })
    }
}
