//! What every route takes from a request: the caller's credential (bearer token, or session
//! cookie with its CSRF token on state-changing requests), a JSON body whose refusal is a
//! problem, and repeated query parameters.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use lockstep_platform::telemetry::propagation;
use lockstep_service_kit::auth::SESSION_PREFIX;
use lockstep_service_kit::problem::Problem;
use serde::de::DeserializeOwned;

use super::session::{COOKIE, csrf_token};

/// The header a cookie-authenticated state-changing request must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who it is. Either way, the services see one bearer credential: an API
/// token as sent, or the session's secret (which the shared authenticator also accepts), so the
/// gRPC twin authenticates, checks roles and scopes the tenant exactly as for a gRPC call.
#[derive(Clone, Debug)]
pub struct Credential {
    /// The `authorization` value to send on.
    authorization: Option<String>,
    /// The session secret when the cookie authenticated the request.
    pub session: Option<String>,
}

impl Credential {
    /// `message` as a gRPC request carrying this credential and the current span's
    /// `traceparent` (as the CLI sends it), so ticket-writer's and the poller's spans of the
    /// call join the HTTP request's trace.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(value) = self.authorization.as_deref().and_then(|v| v.parse().ok()) {
            request.metadata_mut().insert("authorization", value);
        }
        let traceparent = propagation::traceparent(&tracing::Span::current());
        if let Ok(value) = traceparent.parse()
            && !traceparent.is_empty()
        {
            request
                .metadata_mut()
                .insert(propagation::TRACEPARENT, value);
        }
        request
    }
}

fn unsafe_method(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// The credential of a request: the `Authorization` header when present (no CSRF token needed:
/// a browser never adds it on its own), else the session cookie, which on POST/PUT/PATCH/DELETE
/// needs a matching `X-CSRF-Token`.
pub fn credential(method: &Method, headers: &HeaderMap) -> Result<Credential, Problem> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or_default().to_owned();
        return Ok(Credential {
            authorization: Some(value),
            session: None,
        });
    }
    // No credential at all is refused before the body is read, so an anonymous request is 401
    // whatever it sends; a credential is checked by the service the route calls.
    let Some(secret) = cookie(headers, COOKIE).filter(|s| s.starts_with(SESSION_PREFIX)) else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "no credential: send `Authorization: Bearer <API token>`, or sign in with \
             POST /v1/session and send its cookie",
        ));
    };
    if unsafe_method(method) {
        check_csrf(headers, &secret)?;
    }
    Ok(Credential {
        authorization: Some(format!("Bearer {secret}")),
        session: Some(secret),
    })
}

fn check_csrf(headers: &HeaderMap, secret: &str) -> Result<(), Problem> {
    let Some(sent) = headers.get(CSRF_HEADER) else {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "CSRF_TOKEN_MISSING",
            "a request authenticated by the session cookie that changes something must carry \
             the X-CSRF-Token header with the csrf_token of GET /v1/session",
        ));
    };
    let expected = csrf_token(secret);
    if lockstep_crypto::constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return Ok(());
    }
    Err(Problem::new(
        StatusCode::FORBIDDEN,
        "CSRF_TOKEN_INVALID",
        "the X-CSRF-Token header does not belong to this session; read csrf_token again from \
         GET /v1/session (it changes when you sign in again)",
    ))
}

impl<S: Send + Sync> FromRequestParts<S> for Credential {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        credential(&parts.method, &parts.headers)
    }
}

/// A JSON body; a refused one is a `400 BAD_REQUEST_BODY` problem naming what is wrong (or 415
/// without a JSON content type, 413 when too large).
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => {
                let status = rejection.status();
                let code = match status {
                    StatusCode::PAYLOAD_TOO_LARGE => "BODY_TOO_LARGE",
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
                    _ => "BAD_REQUEST_BODY",
                };
                let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
                    StatusCode::BAD_REQUEST
                } else {
                    status
                };
                Err(Problem::new(
                    status,
                    code,
                    format!(
                        "{}; send a JSON body (Content-Type: application/json) as \
                         /v1/openapi.json describes",
                        rejection.body_text()
                    ),
                ))
            }
        }
    }
}

/// Query parameters where a name may repeat (`severity=high&severity=low`) and a value may list
/// several (`severity=high,low`).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Self {
        Params(
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Every value of `name`, comma-separated values split, blanks dropped.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The last value of `name`, or "".
    pub fn one(&self, name: &str) -> String {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// `true`/`false` (also `1`/`0`), absent or empty for none; anything else is a 400 problem.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, Problem> {
        match self.one(name).to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            other => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!("{name}={other:?}: use true or false"),
            )),
        }
    }

    /// A non-negative number, 0 when absent; anything else is a 400 problem.
    pub fn number(&self, name: &str) -> Result<u32, Problem> {
        let v = self.one(name);
        if v.is_empty() {
            return Ok(0);
        }
        v.parse().map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!("{name}={v:?}: use a whole number such as 50"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn a_cookie_needs_its_csrf_token_to_change_anything() {
        let secret = "lss_abc";
        let cookie = format!("other=1; {COOKIE}={secret}");
        let get = credential(&Method::GET, &headers(&[("cookie", &cookie)])).unwrap();
        assert_eq!(get.session.as_deref(), Some(secret));
        let err = credential(&Method::POST, &headers(&[("cookie", &cookie)])).unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (403, "CSRF_TOKEN_MISSING"));
        let bad = headers(&[("cookie", &cookie), (CSRF_HEADER, "nope")]);
        let err = credential(&Method::DELETE, &bad).unwrap_err();
        assert_eq!(err.code, "CSRF_TOKEN_INVALID");
        let good = headers(&[("cookie", &cookie), (CSRF_HEADER, &csrf_token(secret))]);
        assert!(credential(&Method::POST, &good).is_ok());
        // A bearer token needs no CSRF token.
        let bearer = headers(&[("authorization", "Bearer lst_x")]);
        assert!(
            credential(&Method::POST, &bearer)
                .unwrap()
                .session
                .is_none()
        );
    }

    #[test]
    fn repeated_and_comma_separated_parameters() {
        let p = Params::parse(Some(
            "severity=high&severity=low,info&q=a+b&sla_breached=true",
        ));
        assert_eq!(p.all("severity"), ["high", "low", "info"]);
        assert_eq!(p.one("q"), "a b");
        assert_eq!(p.flag("sla_breached").unwrap(), Some(true));
        assert!(Params::parse(Some("x=maybe")).flag("x").is_err());
        assert!(Params::parse(Some("n=-1")).number("n").is_err());
    }
}
