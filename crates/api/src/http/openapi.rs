//! The OpenAPI 3.1 document of the HTTP API, generated from the route annotations and the DTO
//! types (utoipa), served at `/v1/openapi.json`. Every authenticated route also lists the
//! problem answers it can give, so clients (and schemathesis) can check error bodies too.

use lockstep_service_kit::problem::{CONTENT_TYPE, Problem};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::{dto, dto_integrations, dto_tickets, routes_findings, routes_integrations};
use super::{dto_admin, routes_import_stream, routes_tokens, routes_webhook_secrets};
use super::{routes_presets, routes_tickets, session};

#[derive(OpenApi)]
#[openapi(
    info(title = "Lockstep HTTP API", version = "1",
        description = "The JSON twin of Lockstep's gRPC API: each route calls the function its \
            gRPC method runs. Errors are application/problem+json with a stable `code`. \
            Authenticate with `Authorization: Bearer <API token>`, or with the session cookie of \
            POST /v1/session plus `X-CSRF-Token` on state-changing requests."),
    paths(
        session::sign_in, session::current, session::sign_out,
        routes_tickets::list, routes_tickets::csv, routes_tickets::resync_link,
        routes_tickets::resync_all, routes_tickets::sync_status, routes_tickets::preview,
        routes_tickets::create, routes_tickets::bulk, routes_tickets::check,
        routes_findings::list, routes_findings::get, routes_findings::activity,
        routes_findings::set_status, routes_findings::import,
        routes_import_stream::import_stream,
        routes_integrations::list, routes_integrations::create, routes_integrations::get,
        routes_integrations::patch, routes_integrations::delete, routes_integrations::pause,
        routes_integrations::resume, routes_integrations::test, routes_integrations::rotate,
        routes_integrations::get_mapping, routes_integrations::put_mapping,
        routes_integrations::fields,
        routes_presets::list, routes_presets::create, routes_presets::get,
        routes_presets::update, routes_presets::delete,
        routes_tokens::list, routes_tokens::revoke,
        routes_webhook_secrets::rotate, routes_webhook_secrets::retire,
    ),
    components(schemas(Problem, session::Session, session::SignIn, dto::FieldValues,
        dto_tickets::TicketSpec, dto_integrations::Settings, dto_integrations::Credentials,
        dto_admin::Token)),
    modifiers(&Security, &Problems),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "lockstep_session",
                "The session cookie of POST /v1/session; state-changing requests also need \
                 the X-CSRF-Token header",
            ))),
        );
    }
}

/// The problem answers every route may give, added where the route does not list them.
struct Problems;

const ANSWERS: &[(&str, &str)] = &[
    ("400", "The request is invalid; `detail` names what to fix"),
    (
        "401",
        "No credential, or an unknown, revoked or expired one",
    ),
    (
        "403",
        "The role is too weak, or a cookie request lacks its X-CSRF-Token",
    ),
    ("404", "No such resource in the caller's tenant"),
    ("409", "Conflicts with the current state"),
    ("413", "The body is too large"),
    ("415", "The body is not JSON"),
    (
        "429",
        "Too many requests; `retry_after_secs` says when to retry",
    ),
    ("500", "An internal error; the server log has the reference"),
    ("501", "Not implemented"),
    (
        "503",
        "A service the call needs is unavailable, or the api is at its concurrency bound \
         (OVERLOADED, with Retry-After); retrying is safe",
    ),
    (
        "504",
        "The call took too long; a change it makes may still complete, so read the state \
         before retrying",
    ),
];

fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        "Problem",
                    ))))
                    .build(),
            )
            .build(),
    )
}

fn add_problems(op: &mut Operation) {
    for (code, description) in ANSWERS {
        if !op.responses.responses.contains_key(*code) {
            op.responses
                .responses
                .insert((*code).to_owned(), problem_response(description));
        }
    }
}

impl Modify for Problems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                add_problems(op);
            }
        }
    }
}

/// The document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
