//! The web workbench's pages, served from assets embedded at build time (see `build.rs`), so one
//! binary serves them without a CDN or a file system.
//!
//! [`router`] answers the page paths ([`PAGE_PATHS`]) with the single-page app's `index.html`
//! (never cached, so a deploy is picked up at the next navigation) and `/assets/<name>-<hash>.<ext>`
//! with the bundles, cached for a year (the name changes with the content). Every answer carries a
//! strict Content-Security-Policy (`default-src 'self'`, no inline script or style) and the other
//! security headers. The JSON API the pages call lives beside it under `/v1` (crates/api).

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};

mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The policy every page and asset is served with: only our own origin, no inline code, no
/// framing, no plugins; `connect-src 'self'` because the pages only call our own `/v1`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The paths the single-page app routes itself; each answers `index.html`.
pub const PAGE_PATHS: &[&str] = &[
    "/",
    "/sign-in",
    "/tickets",
    "/findings",
    "/findings/{id}",
    "/integrations",
    "/integrations/{id}",
    "/tokens",
];

/// The workbench's routes, to merge into a service's router (any state).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut router = Router::new().route("/assets/{*file}", get(asset));
    for path in PAGE_PATHS {
        router = router.route(path, get(page));
    }
    // Every other path outside /v1 (the API answers its own unknown paths).
    router.fallback(not_found)
}

/// The embedded file at `path` (relative to the build's output, e.g. `assets/app-X1Y2.js`).
pub fn embedded(path: &str) -> Option<&'static [u8]> {
    assets::FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

async fn page() -> Response {
    let Some(html) = embedded("index.html") else {
        return not_found().await;
    };
    let mut headers = security_headers();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    (StatusCode::OK, headers, html).into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    let path = format!("assets/{file}");
    let (Some(bytes), Some(kind)) = (embedded(&path), content_type(&path)) else {
        return not_found().await;
    };
    let mut headers = security_headers();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // The file name carries a hash of the content: a new build is a new name.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    (StatusCode::OK, headers, bytes).into_response()
}

async fn not_found() -> Response {
    let mut headers = security_headers();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    (StatusCode::NOT_FOUND, headers, "not found\n").into_response()
}

fn content_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.')?.1;
    Some(match ext {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "map" => "application/json",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

/// The headers every answer of the workbench carries.
pub fn security_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut set = |name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    );
    h
}
