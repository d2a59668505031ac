//! Who is calling (reference B1). On-premises portals take `authtoken: <technician key>` (the older
//! `TECHNICIAN_KEY` header too), refused once the key's optional expiry has passed. Cloud portals
//! take `Authorization: Zoho-oauthtoken <access token>`, and `Bearer` as XSOAR sends it, issued by
//! the Zoho-like `POST /oauth/v2/token` refresh grant. A wrong style for the portal is 4022.

use std::collections::BTreeMap;

use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::db::Portal;
use super::errors::{SResult, SdpError};
use super::model::{Flavour, Technician};
use super::seed;

#[derive(Clone, Debug)]
struct Access {
    portal: String,
    email: String,
    expires_ms: i64,
}

#[derive(Clone, Debug)]
pub struct Grant {
    pub client_id: String,
    pub client_secret: String,
    pub portal: String,
    pub email: String,
}

#[derive(Debug)]
pub struct OAuthStore {
    pub refresh: BTreeMap<String, Grant>,
    access: BTreeMap<String, Access>,
    issued: u64,
    seed: u64,
}

impl OAuthStore {
    pub fn new(seed: u64) -> Self {
        let grant = |email: &str| Grant {
            client_id: seed::CLIENT_ID.into(),
            client_secret: seed::CLIENT_SECRET.into(),
            portal: seed::CLOUD.into(),
            email: format!("{email}@secops.example.com"),
        };
        let mut refresh = BTreeMap::new();
        refresh.insert(seed::REFRESH_TOKEN.to_string(), grant("lockstep"));
        refresh.insert(seed::VIEWER_REFRESH_TOKEN.to_string(), grant("viewer"));
        Self {
            refresh,
            access: BTreeMap::new(),
            issued: 0,
            seed,
        }
    }

    /// `POST /oauth/v2/token` (form): only the refresh grant. Errors follow Zoho's
    /// `{"error": "invalid_code"}` shape; that Zoho answers them with HTTP 200 is UNCONFIRMED, so
    /// they are 400 here.
    pub fn token_endpoint(
        &mut self,
        form: &BTreeMap<String, String>,
        now_ms: i64,
        lifetime_secs: i64,
    ) -> (StatusCode, Value) {
        let f = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if f("grant_type") != "refresh_token" {
            return (
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type"}),
            );
        }
        let Some(grant) = self.refresh.get(f("refresh_token")).cloned() else {
            return (StatusCode::BAD_REQUEST, json!({"error": "invalid_code"}));
        };
        if grant.client_id != f("client_id") || grant.client_secret != f("client_secret") {
            return (StatusCode::BAD_REQUEST, json!({"error": "invalid_client"}));
        }
        self.issued += 1;
        let token = format!("1000.{:08x}{:024x}", self.seed as u32, self.issued);
        self.access.insert(
            token.clone(),
            Access {
                portal: grant.portal,
                email: grant.email,
                expires_ms: now_ms + lifetime_secs * 1000,
            },
        );
        (
            StatusCode::OK,
            json!({"access_token": token, "expires_in": lifetime_secs, "token_type": "Bearer",
                   "api_domain": "https://www.zohoapis.com", "scope": "SDPOnDemand.requests.ALL"}),
        )
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The technician behind the call, or 4022 (HTTP 401).
pub fn authenticate(
    portal: &Portal,
    oauth: &OAuthStore,
    headers: &HeaderMap,
    now_ms: i64,
) -> SResult<Technician> {
    match portal.flavour {
        Flavour::OnPrem => {
            let key = header(headers, "authtoken")
                .or_else(|| header(headers, "technician_key"))
                .ok_or_else(SdpError::invalid_key)?;
            portal
                .technicians
                .iter()
                .find(|t| t.api_key.as_deref() == Some(key))
                .filter(|t| t.key_expires_ms.is_none_or(|e| e > now_ms))
                .cloned()
                .ok_or_else(SdpError::invalid_key)
        }
        Flavour::Cloud => {
            let auth = header(headers, "authorization").ok_or_else(SdpError::invalid_key)?;
            let token = auth
                .strip_prefix("Zoho-oauthtoken ")
                .or_else(|| auth.strip_prefix("Bearer "))
                .ok_or_else(SdpError::invalid_key)?
                .trim();
            // The wording for an expired token is UNCONFIRMED; the code (4022, 401) is what
            // clients act on (reference B7: refresh once, then retry).
            let access = oauth
                .access
                .get(token)
                .filter(|a| a.portal == portal.name)
                .ok_or_else(SdpError::invalid_key)?;
            if access.expires_ms <= now_ms {
                return Err(SdpError::new(
                    4022,
                    "Invalid OAuth token: the access token has expired",
                ));
            }
            portal
                .technicians
                .iter()
                .find(|t| t.email_id == access.email)
                .cloned()
                .ok_or_else(SdpError::invalid_key)
        }
    }
}
