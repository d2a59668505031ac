//! Who is calling: Basic `email:api_token` (Cloud), `Bearer <PAT>` (Data Center style) and
//! `Bearer <OAuth 2.0 3LO access token>`; plus the OAuth token endpoint (`POST /oauth/token`) with
//! rotating refresh tokens: every refresh answers a new refresh token and retires the old one.
//!
//! On a real site the token endpoint lives on `auth.atlassian.com` and 3LO calls go through
//! `api.atlassian.com/ex/jira/{cloudid}`; the emulator serves both on its one host.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::db::JiraDb;
use super::errors::{JResult, JiraError};

pub const CLOUD_ID: &str = "11111111-2222-4333-8444-555555555555";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    /// OAuth scopes; `None` for Basic and PAT, which act with the user's full permissions.
    pub scopes: Option<BTreeSet<String>>,
}

impl Caller {
    /// OAuth callers need the classic scope for the operation (`read:jira-work`,
    /// `write:jira-work`, `manage:jira-webhook`).
    pub fn require_scope(&self, scope: &str) -> JResult<()> {
        match &self.scopes {
            Some(s) if !s.contains(scope) => {
                // The gateway's answer for a token without the scope (wording unconfirmed).
                let mut e = JiraError::new(StatusCode::UNAUTHORIZED, "");
                e.raw = Some((
                    json!({"code": 401, "message": "Unauthorized; scope does not match"})
                        .to_string(),
                    "application/json",
                ));
                Err(e)
            }
            _ => Ok(()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Clone, Debug)]
struct Grant {
    client_id: String,
    account_id: String,
    scopes: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub struct OAuthStore {
    pub apps: Vec<OAuthApp>,
    codes: BTreeMap<String, Grant>,
    access: BTreeMap<String, (Grant, i64)>,
    refresh: BTreeMap<String, Grant>,
    counter: u64,
    seed: u64,
    pub access_lifespan_secs: i64,
}

impl OAuthStore {
    pub fn new(seed: u64) -> Self {
        Self {
            apps: vec![OAuthApp {
                client_id: "lockstep-jira".into(),
                client_secret: "lockstep-jira-secret".into(),
            }],
            seed,
            access_lifespan_secs: 3600,
            ..Self::default()
        }
    }

    fn token(&mut self, prefix: &str) -> String {
        self.counter += 1;
        // splitmix64: distinct, deterministic per seed, not guessable from the counter alone.
        let mut z = self
            .seed
            .wrapping_add(self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        format!("{prefix}{:016x}{:04x}", z ^ (z >> 31), self.counter)
    }

    /// An authorization code as if `account_id` had consented to `scopes` for `client_id`.
    pub fn issue_code(&mut self, client_id: &str, account_id: &str, scopes: &[String]) -> String {
        let code = self.token("code-");
        self.codes.insert(
            code.clone(),
            Grant {
                client_id: client_id.into(),
                account_id: account_id.into(),
                scopes: scopes.iter().cloned().collect(),
            },
        );
        code
    }

    fn mint(&mut self, grant: Grant, now: i64) -> Value {
        let access = self.token("jat-");
        let refresh = self.token("jrt-");
        let scope = grant.scopes.iter().cloned().collect::<Vec<_>>().join(" ");
        let offline = grant.scopes.contains("offline_access");
        self.access.insert(
            access.clone(),
            (grant.clone(), now + self.access_lifespan_secs),
        );
        let mut body = json!({
            "access_token": access,
            "expires_in": self.access_lifespan_secs,
            "token_type": "Bearer",
            "scope": scope,
        });
        // A refresh token only with offline_access (reference A1).
        if offline {
            self.refresh.insert(refresh.clone(), grant);
            body["refresh_token"] = json!(refresh);
        }
        body
    }

    /// `POST /oauth/token` with a JSON (or form) body.
    pub fn token_endpoint(&mut self, body: &Value, now: i64) -> (StatusCode, Value) {
        let get = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
        let invalid = |code: &str, desc: &str| {
            // Atlassian answers grant failures with 403 (unconfirmed in primary docs).
            (
                StatusCode::FORBIDDEN,
                json!({"error": code, "error_description": desc}),
            )
        };
        let app_ok = self
            .apps
            .iter()
            .any(|a| a.client_id == get("client_id") && a.client_secret == get("client_secret"));
        if !app_ok {
            return (
                StatusCode::UNAUTHORIZED,
                json!({"error": "access_denied", "error_description": "Unauthorized"}),
            );
        }
        match get("grant_type") {
            "authorization_code" => match self.codes.remove(get("code")) {
                Some(g) if g.client_id == get("client_id") => (StatusCode::OK, self.mint(g, now)),
                _ => invalid("invalid_grant", "Invalid authorization code"),
            },
            "refresh_token" => match self.refresh.remove(get("refresh_token")) {
                // Rotation: the used refresh token is gone; a replay fails.
                Some(g) if g.client_id == get("client_id") => (StatusCode::OK, self.mint(g, now)),
                _ => invalid("unauthorized_client", "refresh_token is invalid"),
            },
            _ => (
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "error_description": "Unsupported grant type"}),
            ),
        }
    }

    fn access(&self, token: &str, now: i64) -> Option<Caller> {
        let (grant, expires) = self.access.get(token)?;
        (now < *expires).then(|| Caller {
            account_id: grant.account_id.clone(),
            scopes: Some(grant.scopes.clone()),
        })
    }
}

/// The caller, `Ok(None)` for an anonymous request, `Err(401)` for credentials that do not work.
pub fn authenticate(
    db: &JiraDb,
    oauth: &OAuthStore,
    headers: &HeaderMap,
    now: i64,
) -> JResult<Option<Caller>> {
    let Some(value) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let (scheme, cred) = value.trim().split_once(' ').unwrap_or((value, ""));
    let cred = cred.trim();
    let user = if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(cred)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let (email, token) = decoded.split_once(':').unwrap_or(("", ""));
        db.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email) && u.api_token == token && u.active)
            .map(|u| Caller {
                account_id: u.account_id.clone(),
                scopes: None,
            })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        db.users
            .iter()
            .find(|u| u.active && u.pat.as_deref() == Some(cred))
            .map(|u| Caller {
                account_id: u.account_id.clone(),
                scopes: None,
            })
            .or_else(|| oauth.access(cred, now))
    } else {
        None
    };
    user.map(Some).ok_or_else(JiraError::unauthenticated)
}
