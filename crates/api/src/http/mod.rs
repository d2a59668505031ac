//! The HTTP JSON API beside gRPC (`docs/http-api.md`): one surface, not a second
//! implementation. Every route parses its JSON into the gRPC request message and calls the
//! function its gRPC twin runs — the very service objects the gRPC server holds — or, for
//! `TicketService` and `SyncService`, calls those services over gRPC ([`upstream`]); the
//! caller's credential travels as gRPC metadata either way, so authentication, roles, tenant
//! scoping and error messages are the gRPC ones. Errors become problem+json through
//! `lockstep_service_kit::problem`, the twin of the gRPC status mapping.
//!
//! [`router`] returns an axum `Router` of every `/v1/*` route; [`with_pages`] merges the pages'
//! router beside it.

mod dto;
mod dto_admin;
mod dto_integrations;
mod dto_tickets;
mod edge;
mod extract;
mod openapi;
mod routes_findings;
mod routes_import_stream;
mod routes_integrations;
mod routes_presets;
mod routes_tickets;
mod routes_tokens;
mod routes_webhook_secrets;
mod session;
mod upstream;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use lockstep_service_kit::Authenticator;
use lockstep_service_kit::problem::Problem;
use lockstep_store::Store;

pub use dto::*;
pub use dto_admin::*;
pub use dto_integrations::*;
pub use dto_tickets::*;
pub use edge::{BULK_ROUTES, HttpApiConfig, layered};
pub use extract::CSRF_HEADER;
pub use openapi::document as openapi_document;
pub use session::{COOKIE as SESSION_COOKIE, SESSION_TTL, Session, csrf_token};
pub use upstream::{Upstream, UpstreamConfig};

use crate::findings::Findings;
use crate::integrations::Integrations;
use crate::mapping::Mapping;
use crate::presets::Presets;
use crate::tokens::Tokens;
use crate::workbench::WorkbenchApi;

/// Largest request body: a scan of 4 MiB as JSON text, with room for its escaping.
pub const MAX_BODY_BYTES: usize = 8 << 20;

/// What the routes call: the gRPC service objects of this process, the upstream clients, and
/// the authenticator and store of sign-in.
#[derive(Clone)]
pub struct HttpState(Arc<Inner>);

pub struct Inner {
    pub(crate) integrations: Arc<Integrations>,
    pub(crate) mapping: Arc<Mapping>,
    pub(crate) presets: Arc<Presets>,
    pub(crate) findings: Arc<Findings>,
    pub(crate) workbench: Arc<WorkbenchApi>,
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) auth: Authenticator,
    pub(crate) store: Store,
    pub(crate) upstream: Upstream,
    pub(crate) secure_cookies: bool,
}

impl std::ops::Deref for HttpState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl HttpState {
    pub(crate) fn new(inner: Inner) -> Self {
        HttpState(Arc::new(inner))
    }
}

/// Headers of every API answer: nothing cached, nothing sniffed or framed, no referrer, and a
/// CSP that lets a JSON answer run nothing if a browser ever renders it.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn no_route() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "ROUTE_NOT_FOUND",
        "no such API route; /v1/openapi.json lists them",
    )
}

async fn wrong_method() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "this route does not take that method; /v1/openapi.json lists what it takes",
    )
}

async fn openapi_json() -> Response {
    match openapi::document().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => Problem::from(lockstep_service_kit::status::internal(&e)).into_response(),
    }
}

/// Every `/v1/*` route of the HTTP API, with its state applied.
pub fn router(state: HttpState) -> Router {
    use routes_findings as f;
    use routes_integrations as i;
    use routes_presets as p;
    use routes_tickets as t;
    Router::new()
        .route(
            "/v1/session",
            post(session::sign_in)
                .get(session::current)
                .delete(session::sign_out),
        )
        .route("/v1/tickets", get(t::list).post(t::create))
        .route("/v1/tickets.csv", get(t::csv))
        .route("/v1/tickets/preview", post(t::preview))
        .route("/v1/tickets/bulk", post(t::bulk))
        .route("/v1/tickets/check", post(t::check))
        .route("/v1/tickets/{link_id}/resync", post(t::resync_link))
        .route("/v1/resync-all", post(t::resync_all))
        .route("/v1/sync/status", get(t::sync_status))
        .route("/v1/findings", get(f::list))
        .route("/v1/findings/import", post(f::import))
        // Streams its body past MAX_BODY_BYTES (the import stream's own limits apply).
        .route(
            "/v1/findings/import-stream",
            post(routes_import_stream::import_stream),
        )
        .route("/v1/findings/{id}", get(f::get))
        .route("/v1/findings/{id}/activity", get(f::activity))
        .route("/v1/findings/{id}/status", post(f::set_status))
        .route("/v1/integrations", get(i::list).post(i::create))
        .route(
            "/v1/integrations/{id}",
            get(i::get).patch(i::patch).delete(i::delete),
        )
        .route("/v1/integrations/{id}/pause", post(i::pause))
        .route("/v1/integrations/{id}/resume", post(i::resume))
        .route("/v1/integrations/{id}/test", post(i::test))
        .route("/v1/integrations/{id}/credentials", post(i::rotate))
        .route(
            "/v1/integrations/{id}/mapping",
            get(i::get_mapping).put(i::put_mapping),
        )
        .route("/v1/integrations/{id}/fields", get(i::fields))
        .route("/v1/presets", get(p::list).post(p::create))
        .route(
            "/v1/presets/{id}",
            get(p::get).put(p::update).delete(p::delete),
        )
        .merge(admin_routes())
        .route("/v1/openapi.json", get(openapi_json))
        .route("/v1", any(no_route))
        .route("/v1/{*rest}", any(no_route))
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Tokens and webhook-secret rotation (`routes_tokens`, `routes_webhook_secrets`).
fn admin_routes() -> Router<HttpState> {
    use routes_tokens as tk;
    use routes_webhook_secrets as ws;
    Router::new()
        .route("/v1/tokens", get(tk::list))
        .route("/v1/tokens/{id}/revoke", post(tk::revoke))
        .route("/v1/integrations/{id}/webhook-secret", post(ws::rotate))
        .route(
            "/v1/integrations/{id}/webhook-secret/retire",
            post(ws::retire),
        )
}

/// The API beside the pages' router. The pages own every path outside `/v1/` (their own
/// fallback included); everything under `/v1/` is the API's, which answers unknown paths there
/// with a problem, so a page route under `/v1/` conflicts (axum refuses the merge at start).
pub fn with_pages(api: Router, pages: Router) -> Router {
    api.merge(pages)
}
