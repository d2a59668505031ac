//! How a Jira integration authenticates (reference A1): an Atlassian account's e-mail and API
//! token as Basic (Jira Cloud), a personal access token as Bearer (Jira Data Center; kept under
//! the neutral [`Credentials::ApiKey`] kind), or OAuth 2.0 (3LO) with a rotating refresh token
//! ([`super::oauth`]). Other kinds are refused when the connector is built.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, header};

use crate::credentials::Credentials;
use crate::error::{AuthFailure, ConnectorError, Result};

/// What to do when Basic is refused.
pub const REMEDY_BASIC: &str = "Check the e-mail and API token: create a token at \
    https://id.atlassian.com/manage-profile/security/api-tokens while signed in as the \
    integration account, store it with the account's e-mail as the user name, and check that \
    the account is active on the site";

/// What to do when a personal access token is refused.
pub const REMEDY_PAT: &str = "Check the personal access token: create one in Jira (Profile → \
    Personal Access Tokens) as the integration account, check that it has not expired, and \
    store it as the API key";

/// The scheme and its ready header value (marked sensitive, so it is never logged).
#[derive(Clone)]
pub enum JiraAuth {
    /// `Authorization: Basic base64(email:api_token)`.
    Basic { email: String, header: HeaderValue },
    /// `Authorization: Bearer <personal access token>`.
    Bearer { header: HeaderValue },
    /// `Authorization: Bearer <access token>` of an OAuth 3LO session, through the API gateway.
    OAuth(Arc<super::oauth::OAuthSession>),
}

impl std::fmt::Debug for JiraAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { email, .. } => write!(f, "Basic({email}, ***)"),
            Self::Bearer { .. } => f.write_str("Bearer(***)"),
            Self::OAuth(session) => session.fmt(f),
        }
    }
}

fn sensitive(value: &str) -> Result<HeaderValue> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        ConnectorError::config("the credentials contain characters a header cannot carry")
    })?;
    header.set_sensitive(true);
    Ok(header)
}

impl JiraAuth {
    pub fn from_credentials(credentials: &Credentials) -> Result<Self> {
        credentials.validate()?;
        match credentials {
            Credentials::Basic { username, password } => {
                let token = STANDARD.encode(format!("{}:{}", username.trim(), password.expose()));
                Ok(Self::Basic {
                    email: username.trim().to_owned(),
                    header: sensitive(&format!("Basic {token}"))?,
                })
            }
            Credentials::ApiKey { key } => Ok(Self::Bearer {
                header: sensitive(&format!("Bearer {}", key.expose().trim()))?,
            }),
            Credentials::OAuthRefreshToken { .. } => Err(ConnectorError::config(
                "OAuth credentials need a session: build them with JiraAuth::oauth",
            )),
            _ => Err(ConnectorError::unusable(
                "Jira integrations authenticate with an e-mail and API token (basic), a \
                 personal access token (api_key) or an OAuth refresh token \
                 (oauth2_refresh_token); rotate the credentials to one of those",
            )),
        }
    }

    /// An OAuth 3LO session for `credentials` (which must be [`Credentials::OAuthRefreshToken`]).
    pub fn oauth(session: super::oauth::OAuthSession) -> Self {
        Self::OAuth(Arc::new(session))
    }

    /// Sets `Authorization` and returns the API root to call: `None` for the site itself, the
    /// gateway's `…/ex/jira/{cloudid}/` for OAuth.
    pub async fn apply(&self, headers: &mut HeaderMap) -> Result<Option<url::Url>> {
        let (value, root) = match self {
            Self::Basic { header, .. } | Self::Bearer { header } => (header.clone(), None),
            Self::OAuth(session) => {
                let (header, root) = session.prepare().await?;
                (header, Some(root))
            }
        };
        headers.insert(header::AUTHORIZATION, value);
        Ok(root)
    }

    /// After a 401: whether a retry with a renewed token can help.
    pub async fn invalidate(&self) -> bool {
        match self {
            Self::OAuth(session) => {
                session.invalidate().await;
                true
            }
            Self::Basic { .. } | Self::Bearer { .. } => false,
        }
    }

    /// The error for a 401, with the remedy of this scheme.
    pub fn rejected(&self, message: &str) -> ConnectorError {
        let (reason, remedy) = match self {
            Self::Basic { .. } => (AuthFailure::BadCredentials, REMEDY_BASIC),
            Self::Bearer { .. } => (AuthFailure::ApiKeyRejected, REMEDY_PAT),
            Self::OAuth(_) => (
                AuthFailure::TokenExpiredOrRevoked,
                super::oauth::REMEDY_CONSENT,
            ),
        };
        ConnectorError::Auth {
            reason,
            message: format!("Jira answered 401 ({message})"),
            remedy: remedy.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_crypto::SecretString;

    #[tokio::test]
    async fn basic_and_pat_become_their_headers_and_other_kinds_are_refused() {
        let basic = JiraAuth::from_credentials(&Credentials::Basic {
            username: " lockstep@example.com ".into(),
            password: SecretString::new("tok"),
        })
        .unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(basic.apply(&mut headers).await.unwrap(), None);
        let expected = format!("Basic {}", STANDARD.encode("lockstep@example.com:tok"));
        assert_eq!(headers[header::AUTHORIZATION], expected.as_str());
        assert!(headers[header::AUTHORIZATION].is_sensitive());
        assert!(!format!("{basic:?}").contains("tok\""));

        let pat = JiraAuth::from_credentials(&Credentials::ApiKey {
            key: SecretString::new("pat-1"),
        })
        .unwrap();
        pat.apply(&mut headers).await.unwrap();
        assert_eq!(headers[header::AUTHORIZATION], "Bearer pat-1");

        let err = JiraAuth::from_credentials(&Credentials::OAuthClientCredentials {
            client_id: "c".into(),
            client_secret: SecretString::new("s"),
        })
        .unwrap_err();
        assert!(err.to_string().contains("API token"), "{err}");
    }
}
