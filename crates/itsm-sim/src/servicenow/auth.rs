//! Authentication (§7): Basic (with the optional basic-auth gate), OAuth bearer tokens and API keys
//! (`x-sn-apikey` header or query parameter). Every failure is the same 401 envelope.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::acl::Caller;
use super::db::{Db, UserInfo};
use super::errors::SnError;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
    /// The "OAuth Application User" a client_credentials token acts as.
    pub application_user: Option<String>,
    /// Overrides the instance-wide lifespans for this client.
    pub access_token_lifespan_secs: Option<u64>,
    pub refresh_token_lifespan_secs: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Grant {
    pub user_name: String,
    pub client_id: String,
    pub expires_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub key: String,
    pub user_name: String,
    /// Unix seconds; never expires when absent.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Debug)]
pub struct AuthStore {
    pub clients: HashMap<String, OAuthClient>,
    pub access: HashMap<String, Grant>,
    pub refresh: HashMap<String, Grant>,
    pub api_keys: HashMap<String, ApiKey>,
    rng: StdRng,
}

pub const DEFAULT_CLIENT_ID: &str = "lockstep";
pub const DEFAULT_CLIENT_SECRET: &str = "lockstep-secret";
pub const DEFAULT_API_KEY: &str = "now_lockstep_integration_key";

impl AuthStore {
    pub fn new(seed: u64) -> Self {
        let mut s = Self {
            clients: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            api_keys: HashMap::new(),
            rng: StdRng::seed_from_u64(seed ^ 0x0a07_4ee5),
        };
        s.clients.insert(
            DEFAULT_CLIENT_ID.into(),
            OAuthClient {
                client_id: DEFAULT_CLIENT_ID.into(),
                client_secret: DEFAULT_CLIENT_SECRET.into(),
                application_user: Some("lockstep.integration".into()),
                ..OAuthClient::default()
            },
        );
        s.api_keys.insert(
            DEFAULT_API_KEY.into(),
            ApiKey {
                key: DEFAULT_API_KEY.into(),
                user_name: "lockstep.integration".into(),
                expires_at: None,
            },
        );
        s
    }

    /// An opaque token in the style of the platform's (long, URL-safe).
    pub fn new_token(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..86)
            .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    }
}

fn usable(u: &UserInfo) -> bool {
    u.active && !u.locked_out
}

pub struct AuthInput<'a> {
    pub headers: &'a HeaderMap,
    pub api_key_param: Option<&'a str>,
    pub now: i64,
    /// `glide.authenticate.basic_auth.restriction.enforce`
    pub basic_auth_gate: bool,
}

pub fn authenticate(db: &Db, store: &AuthStore, input: &AuthInput<'_>) -> Result<Caller, SnError> {
    let authz = input
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let user = match authz {
        Some(h) if h.len() > 6 && h[..6].eq_ignore_ascii_case("basic ") => {
            basic(db, &h[6..], input.basic_auth_gate)
        }
        Some(h) if h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer ") => {
            let grant = store
                .access
                .get(h[7..].trim())
                .filter(|g| g.expires_at > input.now);
            grant.and_then(|g| db.user(&g.user_name))
        }
        _ => {
            let key = input
                .headers
                .get("x-sn-apikey")
                .and_then(|v| v.to_str().ok())
                .or(input.api_key_param);
            let key = key
                .and_then(|k| store.api_keys.get(k))
                .filter(|k| k.expires_at.is_none_or(|t| t > input.now));
            key.and_then(|k| db.user(&k.user_name))
        }
    };
    user.filter(|u| usable(u))
        .map(Caller::from_user)
        .ok_or_else(SnError::unauthenticated)
}

fn basic<'a>(db: &'a Db, encoded: &str, gate: bool) -> Option<&'a UserInfo> {
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (name, password) = decoded.split_once(':')?;
    let user = db
        .user(name)
        .filter(|u| !u.password.is_empty() && u.password == password)?;
    // The basic-auth gate (§7.1) lets through only holders of the role (checked literally, so
    // `admin` does not bypass it) and "web service access only" users.
    if gate && !user.roles.contains("snc_basic_auth_api_access") && !user.web_service_access_only {
        return None;
    }
    Some(user)
}

/// Password check for the OAuth password grant: the user must be able to log in interactively.
pub fn password_ok<'a>(db: &'a Db, user_name: &str, password: &str) -> Option<&'a UserInfo> {
    db.user(user_name).filter(|u| {
        usable(u) && !u.web_service_access_only && !u.password.is_empty() && u.password == password
    })
}
