//! How a Jira integration authenticates (reference A1): an Atlassian account's e-mail and API
//! token as Basic (Jira Cloud), or a personal access token as Bearer (Jira Data Center; kept
//! under the neutral [`Credentials::ApiKey`] kind). Other kinds are refused when the connector
//! is built, with what to use instead.

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
}

impl std::fmt::Debug for JiraAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { email, .. } => write!(f, "Basic({email}, ***)"),
            Self::Bearer { .. } => f.write_str("Bearer(***)"),
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
            _ => Err(ConnectorError::unusable(
                "Jira integrations authenticate with an e-mail and API token (basic) or a \
                 personal access token (api_key); rotate the credentials to one of those",
            )),
        }
    }

    pub fn apply(&self, headers: &mut HeaderMap) {
        let value = match self {
            Self::Basic { header, .. } | Self::Bearer { header } => header.clone(),
        };
        headers.insert(header::AUTHORIZATION, value);
    }

    /// The error for a 401, with the remedy of this scheme.
    pub fn rejected(&self, message: &str) -> ConnectorError {
        let (reason, remedy) = match self {
            Self::Basic { .. } => (AuthFailure::BadCredentials, REMEDY_BASIC),
            Self::Bearer { .. } => (AuthFailure::ApiKeyRejected, REMEDY_PAT),
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

    #[test]
    fn basic_and_pat_become_their_headers_and_other_kinds_are_refused() {
        let basic = JiraAuth::from_credentials(&Credentials::Basic {
            username: " lockstep@example.com ".into(),
            password: SecretString::new("tok"),
        })
        .unwrap();
        let mut headers = HeaderMap::new();
        basic.apply(&mut headers);
        let expected = format!("Basic {}", STANDARD.encode("lockstep@example.com:tok"));
        assert_eq!(headers[header::AUTHORIZATION], expected.as_str());
        assert!(headers[header::AUTHORIZATION].is_sensitive());
        assert!(!format!("{basic:?}").contains("tok\""));

        let pat = JiraAuth::from_credentials(&Credentials::ApiKey {
            key: SecretString::new("pat-1"),
        })
        .unwrap();
        pat.apply(&mut headers);
        assert_eq!(headers[header::AUTHORIZATION], "Bearer pat-1");

        let err = JiraAuth::from_credentials(&Credentials::OAuthClientCredentials {
            client_id: "c".into(),
            client_secret: SecretString::new("s"),
        })
        .unwrap_err();
        assert!(err.to_string().contains("API token"), "{err}");
    }
}
