//! `POST /oauth_token.do` (§7.2): form-encoded only; password, refresh_token and (behind the
//! instance property) client_credentials grants. Any failure is
//! `401 {"error_description":"access_denied","error":"server_error"}`.

use http::StatusCode;
use serde_json::json;

use super::ServiceNow;
use super::api::ApiResponse;
use super::auth::{Grant, password_ok};

fn denied() -> ApiResponse {
    ApiResponse::json(
        StatusCode::UNAUTHORIZED,
        &json!({"error_description": "access_denied", "error": "server_error"}),
    )
}

pub fn token(sn: &ServiceNow, content_type: Option<&str>, body: &[u8]) -> ApiResponse {
    let form_encoded = content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|c| {
            c.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        // "A JSON body results in an unspecified error."
        return denied();
    }
    let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else {
        return denied();
    };
    let get = |k: &str| {
        form.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let settings = sn.settings();
    let now = sn.clock.unix();
    let db = sn.db.read();
    let mut store = sn.auth.lock();

    let Some(client) = store
        .clients
        .get(get("client_id"))
        .filter(|c| c.client_secret == get("client_secret"))
        .cloned()
    else {
        return denied();
    };
    let access_life = client
        .access_token_lifespan_secs
        .unwrap_or(settings.access_token_lifespan_secs) as i64;
    let refresh_life = client
        .refresh_token_lifespan_secs
        .unwrap_or(settings.refresh_token_lifespan_secs) as i64;

    let (user_name, refresh) = match get("grant_type") {
        "password" => match password_ok(&db, get("username"), get("password")) {
            Some(u) => {
                let refresh = store.new_token();
                let grant = Grant {
                    user_name: u.user_name.clone(),
                    client_id: client.client_id.clone(),
                    expires_at: now + refresh_life,
                };
                store.refresh.insert(refresh.clone(), grant);
                (u.user_name.clone(), Some(refresh))
            }
            None => return denied(),
        },
        "refresh_token" => {
            let token = get("refresh_token").to_string();
            let grant = store
                .refresh
                .get(&token)
                .filter(|g| g.client_id == client.client_id && g.expires_at > now);
            match grant
                .and_then(|g| db.user(&g.user_name))
                .filter(|u| u.active && !u.locked_out)
            {
                // A refresh grant returns a new access token and reuses the current refresh token.
                Some(u) => (u.user_name.clone(), Some(token)),
                None => return denied(),
            }
        }
        "client_credentials" if settings.client_credentials_enabled => {
            match client
                .application_user
                .as_deref()
                .and_then(|n| db.user(n))
                .filter(|u| u.active && !u.locked_out)
            {
                // Whether a refresh token comes back here is UNCONFIRMED; clients re-request instead.
                Some(u) => (u.user_name.clone(), None),
                None => return denied(),
            }
        }
        _ => return denied(),
    };

    let access = store.new_token();
    store.access.insert(
        access.clone(),
        Grant {
            user_name,
            client_id: client.client_id.clone(),
            expires_at: now + access_life,
        },
    );
    // The platform reports one second less than the lifespan (1799 for 1800).
    let mut body = json!({
        "access_token": access,
        "scope": "useraccount",
        "token_type": "Bearer",
        "expires_in": (access_life - 1).max(0),
    });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    ApiResponse::json(StatusCode::OK, &body)
}
