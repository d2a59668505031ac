//! `WorkbenchService`: every ITSM-linked finding of the caller's tenant, across its integrations,
//! in one filtered, cursor-paged list (at most 200 rows a page). Any role may read it.
//!
//! The tenant comes only from the caller's token; the query itself lives in the store
//! (`store.workbench().list`), where every join is tenant-scoped. Page tokens are opaque: the
//! store's keyset cursor plus a fingerprint of the filter, so a token replayed with another
//! filter is refused rather than silently skipping rows.
//!
//! Registered in the api's server with `.add(crate::workbench::service(store, registry))`.

use lockstep_connectors::Registry;
use lockstep_domain::TicketRef;
use lockstep_domain::{FindingStatus, Severity};
use lockstep_proto::to_timestamp;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::workbench_service_server::{WorkbenchService, WorkbenchServiceServer};
use lockstep_service_kit::convert::integration_id;
use lockstep_service_kit::{Access, Authenticator, status};
use lockstep_store::{Cursor, MAX_PAGE_SIZE, PageRequest, Store, WorkbenchFilter, WorkbenchRow};
use tonic::{Request, Response, Status};

#[cfg(test)]
mod tests;

/// Rows a page holds when the request does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

pub struct WorkbenchApi {
    store: Store,
    registry: Registry,
    auth: Authenticator,
}

/// The service, ready for `GrpcRoutes::add`.
pub fn service(store: Store, registry: Registry) -> WorkbenchServiceServer<WorkbenchApi> {
    WorkbenchServiceServer::new(WorkbenchApi::new(store, registry))
}

impl WorkbenchApi {
    /// The implementation, shared by the gRPC server and the HTTP JSON API.
    pub fn new(store: Store, registry: Registry) -> Self {
        let auth = Authenticator::new(store.clone());
        WorkbenchApi {
            store,
            registry,
            auth,
        }
    }
}

/// The row's deep link: the URL stored at creation, else the one its vendor's spec builds.
fn deep_link(r: &WorkbenchRow, registry: &Registry) -> String {
    if let Some(url) = &r.url {
        return url.clone();
    }
    let ticket = TicketRef::parse(
        r.vendor(),
        r.target.container(),
        r.external_id.as_str(),
        r.ticket_key.as_str(),
    );
    registry
        .spec(r.vendor())
        .ok()
        .zip(ticket.ok())
        .and_then(|(spec, ticket)| spec.deep_link(&r.base_url, &ticket))
        .unwrap_or_default()
}

fn vocab_list<T>(field: &str, values: &[String]) -> Result<Vec<T>, Status>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    values
        .iter()
        .map(|v| {
            v.trim()
                .parse::<T>()
                .map_err(|e| Status::invalid_argument(format!("filter.{field}: {e}")))
        })
        .collect()
}

/// The request's filter in store terms; INVALID_ARGUMENT naming the field for bad values.
pub fn filter_of(filter: Option<&pb::WorkbenchFilter>) -> Result<WorkbenchFilter, Status> {
    let Some(f) = filter else {
        return Ok(WorkbenchFilter::default());
    };
    let text = f.text.trim();
    if text.chars().count() > lockstep_store::MAX_SEARCH_CHARS {
        return Err(Status::invalid_argument(format!(
            "filter.text is longer than {} characters",
            lockstep_store::MAX_SEARCH_CHARS
        )));
    }
    Ok(WorkbenchFilter {
        integrations: f
            .integration_ids
            .iter()
            .map(|v| integration_id("filter.integration_ids", v))
            .collect::<Result<_, _>>()?,
        severities: vocab_list::<Severity>("severities", &f.severities)?,
        statuses: vocab_list::<FindingStatus>("finding_statuses", &f.finding_statuses)?,
        vendor_states: f
            .vendor_states
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        text: (!text.is_empty()).then(|| text.to_owned()),
        sla_breached: f.sla_breached,
        vendors: vocab_list::<lockstep_domain::Vendor>("vendors", &f.vendors)?,
        sync_error: f.sync_error,
    })
}

/// A short fingerprint of the filter, carried in page tokens.
fn filter_tag(filter: &WorkbenchFilter) -> String {
    let text = format!("{filter:?}");
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `w<filter tag>.<store cursor>`.
pub fn encode_token(filter: &WorkbenchFilter, cursor: &Cursor) -> String {
    format!("w{}.{}", filter_tag(filter), cursor.encode())
}

pub fn decode_token(filter: &WorkbenchFilter, token: &str) -> Result<Option<Cursor>, Status> {
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || {
        Status::invalid_argument(format!(
            "page_token {token:?} is not one this server issued for this filter; start without a token"
        ))
    };
    let rest = token.strip_prefix('w').ok_or_else(invalid)?;
    let (tag, cursor) = rest.split_once('.').ok_or_else(invalid)?;
    if tag != filter_tag(filter) {
        return Err(invalid());
    }
    Cursor::decode(cursor).map(Some).map_err(|_| invalid())
}

pub fn row(r: &WorkbenchRow, registry: &Registry) -> pb::LinkedTicket {
    pb::LinkedTicket {
        link_id: r.link_id.to_string(),
        finding_id: r.finding_id.to_string(),
        finding_title: r.finding_title.clone(),
        scanner_key: r.scanner_key.clone(),
        asset: r.asset.clone().unwrap_or_default(),
        severity: r.severity.as_str().to_owned(),
        finding_status: r.finding_status.as_str().to_owned(),
        integration_id: r.integration_id.to_string(),
        integration_name: r.integration_name.clone(),
        vendor: r.vendor().as_str().to_owned(),
        table_or_project: r.target.container().to_owned(),
        external_id: r.external_id.as_str().to_owned(),
        ticket_key: r.ticket_key.as_str().to_owned(),
        deep_link: deep_link(r, registry),
        vendor_state: r.vendor_state.clone().unwrap_or_default(),
        sla_due_at: r.sla_due_at.map(to_timestamp),
        sla_breached: r.sla_breached,
        last_synced_at: r.last_synced_at.map(to_timestamp),
        last_sync_channel: r
            .last_sync_channel
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        linked_at: Some(to_timestamp(r.linked_at)),
        sync_error: r.sync_error.clone().unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl WorkbenchService for WorkbenchApi {
    async fn list_linked_tickets(
        &self,
        request: Request<pb::ListLinkedTicketsRequest>,
    ) -> Result<Response<pb::ListLinkedTicketsResponse>, Status> {
        let caller = self.auth.authenticate(&request).await?;
        caller.require(Access::Read, "listing linked tickets")?;
        let req = request.get_ref();
        let filter = filter_of(req.filter.as_ref())?;
        let size = match req.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let page = PageRequest {
            limit: size,
            after: decode_token(&filter, &req.page_token)?,
        };
        let got = self
            .store
            .workbench()
            .list(caller.tenant, &filter, page)
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(pb::ListLinkedTicketsResponse {
            rows: got.items.iter().map(|r| row(r, &self.registry)).collect(),
            next_page_token: got
                .next
                .map(|c| encode_token(&filter, &c))
                .unwrap_or_default(),
        }))
    }
}
