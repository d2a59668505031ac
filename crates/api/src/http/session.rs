//! `/v1/session`: sign-in for browsers. An API token is exchanged for a session: a random
//! secret (`lss_…`) in an HttpOnly, SameSite=Strict cookie, stored server-side only as its
//! SHA-256 (`web_sessions`), valid 12 h, ended by sign-out or by revoking the token. The CSRF
//! token is derived from the secret, so it needs no storage and changes with every sign-in.
//! OIDC sign-in can later mint the same session for a user: everything after sign-in only
//! knows the session.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use lockstep_service_kit::auth::SESSION_PREFIX;
use lockstep_service_kit::problem::Problem;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::HttpState;
use super::extract::{Body, credential};

/// The session cookie's name.
pub const COOKIE: &str = "lockstep_session";

/// How long a session lasts.
pub const SESSION_TTL: time::Duration = time::Duration::hours(12);

/// Sign in with an API token.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignIn {
    /// An API token (`lst_…`).
    pub token: String,
}

/// The signed-in caller.
#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Session {
    pub tenant_id: String,
    /// admin, analyst or viewer: the token's role now.
    pub role: String,
    /// The token's name, the actor in activity entries.
    pub name: String,
    /// Send as `X-CSRF-Token` on every POST, PUT, PATCH and DELETE authenticated by the cookie.
    /// Empty when the request was authenticated by a bearer token.
    pub csrf_token: String,
    /// When the session ends (RFC 3339); null for a bearer token.
    pub expires_at: Option<String>,
}

/// The CSRF token of a session secret: unguessable without the secret, which only the
/// HttpOnly cookie carries.
pub fn csrf_token(secret: &str) -> String {
    let input = format!("lockstep-csrf\n{secret}");
    let digest = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn set_cookie(secret: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("lockstep_session=; Max-Age=0"))
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn session_of(
    caller: &lockstep_service_kit::Caller,
    csrf: String,
    expires: Option<String>,
) -> Session {
    Session {
        tenant_id: caller.tenant.to_string(),
        role: caller.role.as_str().to_owned(),
        name: caller.name.clone(),
        csrf_token: csrf,
        expires_at: expires,
    }
}

/// Exchanges an API token for a session cookie.
#[utoipa::path(post, path = "/v1/session", tag = "session", request_body = SignIn,
    security(()),
    responses((status = 200, description = "Signed in; the cookie is set", body = Session,
        headers(("Set-Cookie" = String, description = "lockstep_session=…; HttpOnly; SameSite=Strict")))))]
pub async fn sign_in(
    State(state): State<HttpState>,
    Body(body): Body<SignIn>,
) -> Result<Response, Problem> {
    let token = body.token.trim();
    if token.is_empty() || token.starts_with(SESSION_PREFIX) {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "sign in with an API token (lst_…); create one with `lockstep admin create-token`",
        ));
    }
    if token.len() > lockstep_service_kit::auth::MAX_TOKEN_CHARS {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "that is not a Lockstep API token (too long); check what you pasted",
        ));
    }
    let caller = state.auth.authenticate_token(token).await?;
    let secret = lockstep_crypto::generate_token(SESSION_PREFIX)
        .map_err(|e| lockstep_service_kit::status::internal(&e))?;
    let secret = secret.expose().to_owned();
    let created = state
        .store
        .web_sessions()
        .create(
            caller.tenant,
            caller.token_id,
            &lockstep_crypto::hash_token(&secret),
            SESSION_TTL,
        )
        .await
        .map_err(lockstep_service_kit::status::from_store)?;
    tracing::info!(tenant = %caller.tenant, by = %caller.name, "signed in");
    let session = session_of(
        &caller,
        csrf_token(&secret),
        Some(rfc3339(created.expires_at)),
    );
    let cookie = set_cookie(&secret, SESSION_TTL.whole_seconds(), state.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(session)).into_response())
}

/// The current session (or, with a bearer token, the token's identity).
#[utoipa::path(get, path = "/v1/session", tag = "session",
    responses((status = 200, description = "Signed in", body = Session)))]
pub async fn current(
    State(state): State<HttpState>,
    headers: HeaderMap,
) -> Result<axum::Json<Session>, Problem> {
    let cred = credential(&axum::http::Method::GET, &headers)?;
    if let Some(secret) = &cred.session {
        let (caller, expires) = state.auth.session(secret).await?;
        return Ok(axum::Json(session_of(
            &caller,
            csrf_token(secret),
            Some(rfc3339(expires)),
        )));
    }
    let caller = state
        .auth
        .authenticate_metadata(cred.request(()).metadata())
        .await?;
    Ok(axum::Json(session_of(&caller, String::new(), None)))
}

/// Signs out: the session ends server-side and the cookie is cleared.
#[utoipa::path(delete, path = "/v1/session", tag = "session",
    responses((status = 204, description = "Signed out; the cookie is cleared")))]
pub async fn sign_out(
    State(state): State<HttpState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let cred = credential(&axum::http::Method::DELETE, &headers)?;
    let Some(secret) = cred.session else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "no session to end: sign-out needs the session cookie (bearer tokens are revoked \
             with `lockstep tokens revoke`)",
        ));
    };
    // The session must be valid to be ended by this request (a CSRF token was checked above).
    state.auth.session(&secret).await?;
    state
        .store
        .web_sessions()
        .delete(&lockstep_crypto::hash_token(&secret))
        .await
        .map_err(lockstep_service_kit::status::from_store)?;
    let clear = set_cookie("", 0, state.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}
