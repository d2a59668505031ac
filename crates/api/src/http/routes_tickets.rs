//! Tickets workbench, CSV export, re-sync and escalation routes. Each calls its gRPC twin:
//! `WorkbenchService.ListLinkedTickets` in this process, `SyncService` (poller) and
//! `TicketService` (ticket-writer) over gRPC with the caller's credential forwarded.

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::workbench_service_server::WorkbenchService as _;
use lockstep_service_kit::problem::Problem;

use super::HttpState;
use super::dto_tickets::*;
use super::extract::{Body, Credential, Params};

/// The workbench filter of the query string (shared by the list and the CSV export).
pub fn filter_of(p: &Params) -> Result<pb::WorkbenchFilter, Problem> {
    Ok(pb::WorkbenchFilter {
        integration_ids: p.all("integration"),
        severities: p.all("severity"),
        finding_statuses: p.all("finding_status"),
        vendor_states: p.all("vendor_state"),
        text: p.one("q"),
        sla_breached: p.flag("sla_breached")?,
        vendors: p.all("vendor"),
        sync_error: p.flag("sync_error")?,
    })
}

pub fn page_of(resp: pb::ListLinkedTicketsResponse) -> TicketPage {
    let now = time::OffsetDateTime::now_utc();
    TicketPage {
        rows: resp
            .rows
            .into_iter()
            .map(|r| LinkedTicket::from_pb(r, now))
            .collect(),
        next_cursor: resp.next_page_token,
    }
}

/// Every linked ticket of the caller's tenant, filtered, newest link first.
#[utoipa::path(get, path = "/v1/tickets", tag = "tickets",
    params(
        ("integration" = Option<Vec<uuid::Uuid>>, Query, description = "Integration ids", explode = true),
        ("vendor" = Option<Vec<String>>, Query, description = "servicenow, jira, manageengine", explode = true),
        ("severity" = Option<Vec<String>>, Query, description = "critical, high, medium, low, info", explode = true),
        ("finding_status" = Option<Vec<String>>, Query, explode = true),
        ("vendor_state" = Option<Vec<String>>, Query, description = "Raw vendor state codes", explode = true),
        ("q" = Option<String>, Query, description = "Free text: title, scanner key, asset, CVE, ticket key"),
        ("sla_breached" = Option<bool>, Query),
        ("sync_error" = Option<bool>, Query, description = "Only tickets whose integration's last poll failed"),
        ("page_size" = Option<u32>, Query, description = "1..200, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = TicketPage)))]
pub async fn list(
    State(state): State<HttpState>,
    cred: Credential,
    RawQuery(query): RawQuery,
) -> Result<Json<TicketPage>, Problem> {
    let p = Params::parse(query.as_deref());
    let req = pb::ListLinkedTicketsRequest {
        filter: Some(filter_of(&p)?),
        page_size: p.number("page_size")?,
        page_token: p.one("cursor"),
    };
    let resp = state
        .workbench
        .list_linked_tickets(cred.request(req))
        .await?
        .into_inner();
    Ok(Json(page_of(resp)))
}

/// One CSV cell: quoted when needed, and a leading formula character defused.
fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv_line(cells: impl IntoIterator<Item = String>) -> String {
    let mut line = cells
        .into_iter()
        .map(|c| cell(&c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// Every row of the filter as CSV, streamed a page (200 rows) at a time.
#[utoipa::path(get, path = "/v1/tickets.csv", tag = "tickets",
    params(
        ("integration" = Option<Vec<uuid::Uuid>>, Query, explode = true),
        ("vendor" = Option<Vec<String>>, Query, explode = true),
        ("severity" = Option<Vec<String>>, Query, explode = true),
        ("finding_status" = Option<Vec<String>>, Query, explode = true),
        ("vendor_state" = Option<Vec<String>>, Query, explode = true),
        ("q" = Option<String>, Query),
        ("sla_breached" = Option<bool>, Query),
        ("sync_error" = Option<bool>, Query),
    ),
    responses((status = 200, description = "CSV, header row first", content_type = "text/csv", body = String)))]
pub async fn csv(
    State(state): State<HttpState>,
    cred: Credential,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    let filter = filter_of(&Params::parse(query.as_deref()))?;
    let page = move |token: String| pb::ListLinkedTicketsRequest {
        filter: Some(filter.clone()),
        page_size: lockstep_store::MAX_PAGE_SIZE,
        page_token: token,
    };
    // The first page is read before answering, so a refusal (401, 400) is a problem, not a
    // broken download.
    let first = state
        .workbench
        .list_linked_tickets(cred.request(page(String::new())))
        .await?
        .into_inner();
    let header = csv_line(LinkedTicket::CSV_HEADER.iter().map(|h| (*h).to_owned()));
    let rows = |resp: pb::ListLinkedTicketsResponse| {
        let page = page_of(resp);
        let text: String = page.rows.iter().map(|r| csv_line(r.csv_row())).collect();
        (text, page.next_cursor)
    };
    let (first_text, next) = rows(first);
    let start = futures::stream::iter([Ok::<_, std::io::Error>(header + &first_text)]);
    let rest = futures::stream::unfold(next, move |token| {
        let state = state.clone();
        let cred = cred.clone();
        let req = page(token.clone());
        async move {
            if token.is_empty() {
                return None;
            }
            match state.workbench.list_linked_tickets(cred.request(req)).await {
                Ok(resp) => {
                    let (text, next) = rows(resp.into_inner());
                    Some((Ok(text), next))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "CSV export stopped");
                    Some((
                        Err(std::io::Error::other(e.message().to_owned())),
                        String::new(),
                    ))
                }
            }
        }
    });
    let body = HttpBody::from_stream(start.chain(rest));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"tickets.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// Re-syncs one row now (no cooldown): reads that ticket from its vendor and, when it changed,
/// answers once the change is applied.
#[utoipa::path(post, path = "/v1/tickets/{link_id}/resync", tag = "tickets",
    params(("link_id" = String, Path, format = Uuid)),
    responses((status = 200, body = TicketResync)))]
pub async fn resync_link(
    State(state): State<HttpState>,
    cred: Credential,
    Path(link_id): Path<String>,
) -> Result<Json<TicketResync>, Problem> {
    let req = pb::ResyncTicketRequest { link_id };
    let resp = state
        .upstream
        .sync()
        .resync_ticket(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

/// Re-syncs the given integrations (every active one when none are given); once a minute per
/// caller, else 429 with `retry_after_secs` and `Retry-After`.
#[utoipa::path(post, path = "/v1/resync-all", tag = "tickets", request_body = ResyncAllBody,
    responses((status = 200, body = ResyncAll)))]
pub async fn resync_all(
    State(state): State<HttpState>,
    cred: Credential,
    Body(body): Body<ResyncAllBody>,
) -> Result<Json<ResyncAll>, Problem> {
    let req = pb::ResyncAllRequest {
        integration_ids: body.integration_ids,
    };
    let resp = state.upstream.sync().resync_all(cred.request(req)).await?;
    Ok(Json(resp.into_inner().into()))
}

/// The poll status of the given integrations (all when none are given).
#[utoipa::path(get, path = "/v1/sync/status", tag = "tickets",
    params(("integration" = Option<Vec<uuid::Uuid>>, Query, explode = true)),
    responses((status = 200, body = PollStatuses)))]
pub async fn sync_status(
    State(state): State<HttpState>,
    cred: Credential,
    RawQuery(query): RawQuery,
) -> Result<Json<PollStatuses>, Problem> {
    let p = Params::parse(query.as_deref());
    let req = pb::GetPollStatusRequest {
        integration_ids: p.all("integration"),
    };
    let resp = state
        .upstream
        .sync()
        .get_poll_status(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

/// Dry run: exactly what would be sent for each finding; nothing is sent.
#[utoipa::path(post, path = "/v1/tickets/preview", tag = "escalation", request_body = PreviewBody,
    responses((status = 200, body = Previews)))]
pub async fn preview(
    State(state): State<HttpState>,
    cred: Credential,
    Body(body): Body<PreviewBody>,
) -> Result<Json<Previews>, Problem> {
    let req = pb::PreviewTicketsRequest {
        spec: Some(body.spec.into()),
        finding_ids: body.finding_ids,
    };
    let resp = state
        .upstream
        .tickets()
        .preview_tickets(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

/// Creates one finding's ticket (never a second one: a retry finds the first).
#[utoipa::path(post, path = "/v1/tickets", tag = "escalation", request_body = CreateTicketBody,
    responses((status = 200, body = TicketResult)))]
pub async fn create(
    State(state): State<HttpState>,
    cred: Credential,
    Body(body): Body<CreateTicketBody>,
) -> Result<Json<TicketResult>, Problem> {
    let req = pb::CreateTicketRequest {
        request_id: body.request_id,
        finding_id: body.finding_id,
        spec: Some(body.spec.into()),
    };
    let resp = state
        .upstream
        .tickets()
        .create_ticket(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

/// Creates the tickets of up to 500 findings; a result per finding.
#[utoipa::path(post, path = "/v1/tickets/bulk", tag = "escalation", request_body = BulkCreateBody,
    responses((status = 200, body = BulkResults)))]
pub async fn bulk(
    State(state): State<HttpState>,
    cred: Credential,
    Body(body): Body<BulkCreateBody>,
) -> Result<Json<BulkResults>, Problem> {
    let req = pb::BulkCreateTicketsRequest {
        request_id: body.request_id,
        finding_ids: body.finding_ids,
        spec: Some(body.spec.into()),
    };
    let resp = state
        .upstream
        .tickets()
        .bulk_create_tickets(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

/// The duplicate pre-flight: which findings already have a ticket.
#[utoipa::path(post, path = "/v1/tickets/check", tag = "escalation", request_body = CheckLinksBody,
    responses((status = 200, body = CheckLinks)))]
pub async fn check(
    State(state): State<HttpState>,
    cred: Credential,
    Body(body): Body<CheckLinksBody>,
) -> Result<Json<CheckLinks>, Problem> {
    let req = pb::CheckTicketLinksRequest {
        finding_ids: body.finding_ids,
        integration_id: body.integration_id,
    };
    let resp = state
        .upstream
        .tickets()
        .check_ticket_links(cred.request(req))
        .await?;
    Ok(Json(resp.into_inner().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_line(["a".into(), "b\nc".into()]), "a,\"b\nc\"\r\n");
    }
}
