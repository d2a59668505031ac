//! How Lockstep authenticates to ServiceDesk Plus (reference B1): on premises the technician's API
//! key in the `authtoken` header; on Cloud `Authorization: Zoho-oauthtoken <access token>`, the
//! token obtained from Zoho Accounts with the refresh grant and renewed before `expires_in` runs
//! out, or once when SDP refuses it (401, code 4022).

use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use lockstep_crypto::SecretString;
use lockstep_domain::{IntegrationId, Vendor};
use serde::Deserialize;
use url::Url;

use super::errors::REMEDY_CLOUD;
use super::url::PortalUrl;
use crate::credentials::Credentials;
use crate::error::{AuthFailure, ConnectorError, Result};
use crate::http::{HttpExecutor, VendorRequest};

/// Renew a Cloud token this long before Zoho says it expires.
const RENEW_MARGIN: Duration = Duration::from_secs(60);

/// The credentials of one integration, and the Cloud token cache.
pub enum Auth {
    /// On premises: the technician key, sent as `authtoken`.
    Key(SecretString),
    Zoho(Box<Zoho>),
}

/// A Zoho OAuth client with its refresh token, and the access token it last obtained.
pub struct Zoho {
    pub client_id: String,
    pub client_secret: SecretString,
    pub refresh_token: SecretString,
    pub token_url: Url,
    token: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

impl Zoho {
    pub fn new(
        client_id: String,
        client_secret: SecretString,
        refresh_token: SecretString,
        token_url: Url,
    ) -> Self {
        Self {
            client_id,
            client_secret,
            refresh_token,
            token_url,
            token: tokio::sync::Mutex::new(None),
        }
    }
}

impl Auth {
    /// The auth of `credentials`, or why they cannot be used with ServiceDesk Plus.
    pub fn from_credentials(credentials: Credentials, portal: &PortalUrl) -> Result<Self> {
        credentials.validate()?;
        match credentials {
            Credentials::ApiKey { key } => Ok(Self::Key(key)),
            Credentials::OAuthRefreshToken {
                client_id,
                client_secret,
                refresh_token,
                token_url,
            } => {
                let token_url = match token_url {
                    Some(url) => Url::parse(&url).map_err(|e| {
                        ConnectorError::config(format!("the OAuth token URL {url:?}: {e}"))
                    })?,
                    None => zoho_token_url(portal).ok_or_else(|| {
                        ConnectorError::config(format!(
                            "{portal} is not a known ServiceDesk Plus Cloud data centre; name the \
                             Zoho Accounts token URL (https://accounts.zoho.<dc>/oauth/v2/token) \
                             in the credentials"
                        ))
                    })?,
                };
                Ok(Self::Zoho(Box::new(Zoho::new(
                    client_id,
                    client_secret,
                    refresh_token,
                    token_url,
                ))))
            }
            other => Err(ConnectorError::unusable(format!(
                "ServiceDesk Plus takes a technician API key (on premises) or a Zoho OAuth \
                 refresh token (Cloud), not {} credentials",
                other.kind()
            ))),
        }
    }

    pub fn is_cloud(&self) -> bool {
        matches!(self, Self::Zoho(_))
    }

    /// Sets the authentication header. Returns whether a refusal may be cured by renewing the
    /// token (Cloud).
    pub async fn apply(
        &self,
        headers: &mut HeaderMap,
        exec: &HttpExecutor,
        integration: IntegrationId,
    ) -> Result<bool> {
        match self {
            Self::Key(key) => {
                headers.insert(
                    HeaderName::from_static("authtoken"),
                    sensitive(key.expose())?,
                );
                Ok(false)
            }
            Self::Zoho(zoho) => {
                let token = zoho.access_token(exec, integration).await?;
                let value = sensitive(&format!("Zoho-oauthtoken {}", token.expose()))?;
                headers.insert(header::AUTHORIZATION, value);
                Ok(true)
            }
        }
    }

    /// Forgets the Cloud access token, so the next call obtains a new one.
    pub async fn invalidate(&self) {
        if let Self::Zoho(zoho) = self {
            *zoho.token.lock().await = None;
        }
    }
}

fn sensitive(value: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value.trim()).map_err(|_| {
        ConnectorError::config("the credential contains characters a header cannot carry")
    })?;
    v.set_sensitive(true);
    Ok(v)
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<u64>,
    error: Option<String>,
}

impl Zoho {
    /// The cached access token, or a new one from the refresh grant (one refresh at a time).
    async fn access_token(
        &self,
        exec: &HttpExecutor,
        integration: IntegrationId,
    ) -> Result<SecretString> {
        let mut cached = self.token.lock().await;
        if let Some((token, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.refresh(exec, integration).await?;
        let renew_at = Instant::now()
            + lifetime
                .saturating_sub(RENEW_MARGIN)
                .max(Duration::from_secs(1));
        *cached = Some((token.clone(), renew_at));
        Ok(token)
    }

    async fn refresh(
        &self,
        exec: &HttpExecutor,
        integration: IntegrationId,
    ) -> Result<(SecretString, Duration)> {
        let req = VendorRequest::new(
            Vendor::ManageEngine,
            "zoho_token",
            integration,
            Method::POST,
            self.token_url.clone(),
        )
        .header(header::ACCEPT, HeaderValue::from_static("application/json"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
            ("refresh_token", self.refresh_token.expose()),
        ])
        // Renewing a token twice is harmless: it only issues another access token.
        .idempotent(true);
        let resp = exec.send(&req).await?;
        let answer: Option<TokenAnswer> = serde_json::from_slice(&resp.body).ok();
        match answer {
            Some(TokenAnswer {
                access_token: Some(token),
                expires_in,
                error: None,
            }) if resp.status.is_success() && !token.trim().is_empty() => Ok((
                SecretString::new(token.trim()),
                Duration::from_secs(expires_in.unwrap_or(3600)),
            )),
            other => {
                let reason = other
                    .and_then(|a| a.error)
                    .unwrap_or_else(|| format!("HTTP {}", resp.status.as_u16()));
                Err(ConnectorError::Auth {
                    reason: AuthFailure::OAuthRejected,
                    message: format!(
                        "Zoho Accounts ({}) refused the refresh grant: {reason}",
                        self.token_url
                    ),
                    remedy: REMEDY_CLOUD.to_owned(),
                })
            }
        }
    }
}

/// The Zoho Accounts token endpoint of a Cloud data centre, from the SDP domain (reference B1,
/// `sdp_config.py::DC_MAP`). `None` for a custom domain: then the credentials must name it.
pub fn zoho_token_url(portal: &PortalUrl) -> Option<Url> {
    let host = portal.root().host_str()?.to_ascii_lowercase();
    let accounts = if host.ends_with("manageengine.com") {
        "accounts.zoho.com"
    } else if host.ends_with("manageengine.eu") {
        "accounts.zoho.eu"
    } else if host.ends_with("manageengine.in") {
        "accounts.zoho.in"
    } else if host.ends_with("servicedeskplus.net.au") {
        "accounts.zoho.com.au"
    } else if host.ends_with("servicedeskplus.cn") {
        "accounts.zoho.com.cn"
    } else {
        return None;
    };
    Url::parse(&format!("https://{accounts}/oauth/v2/token")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_centres_have_their_token_endpoint() {
        let eu = PortalUrl::parse("https://sdpondemand.manageengine.eu/app/itdesk").unwrap();
        assert_eq!(
            zoho_token_url(&eu).unwrap().as_str(),
            "https://accounts.zoho.eu/oauth/v2/token"
        );
        let custom = PortalUrl::parse("https://help.example.com/app/itdesk").unwrap();
        assert!(zoho_token_url(&custom).is_none());
    }

    #[test]
    fn only_keys_are_accepted_without_a_refresh_token() {
        let portal = PortalUrl::parse("https://sdp.example.com").unwrap();
        let basic = Credentials::Basic {
            username: "u".into(),
            password: SecretString::new("p"),
        };
        assert!(Auth::from_credentials(basic, &portal).is_err());
        let key = Credentials::ApiKey {
            key: SecretString::new("K"),
        };
        assert!(!Auth::from_credentials(key, &portal).unwrap().is_cloud());
    }
}
