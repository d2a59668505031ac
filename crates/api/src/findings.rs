//! `FindingService`: import, list, get (with ticket links), activity feed, and analyst status
//! changes. Reads need any role; import and status changes need analyst or admin.

use lockstep_bus::Bus;
use lockstep_domain::text::free_text;
use lockstep_domain::{ActivityKind, FindingId, FindingStatus, Severity, SyncChannel};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::finding_service_server::FindingService;
use lockstep_service_kit::convert::{self, finding_id, opt_vocab, page_size};
use lockstep_service_kit::{Access, Caller, status};
use lockstep_store::{
    Cursor, FindingFilter, FindingRecord, NewActivity, PageRequest, StatusChange, Store, StoreError,
};
use tonic::{Request, Response, Status};

use crate::ctx::Ctx;
use crate::import_stream;

pub struct Findings {
    pub(crate) ctx: Ctx,
}

/// A page token bound to the filter it was issued for (AIP-158: other parameters must match).
fn page_token(cursor: &Cursor, filter: &str) -> String {
    format!("{}~{filter}", cursor.encode())
}

fn read_token(token: &str, filter: &str) -> Result<Option<Cursor>, Status> {
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    let (cursor, issued_for) = token.split_once('~').ok_or_else(|| {
        Status::invalid_argument("page_token is not one this server issued; start without a token")
    })?;
    if issued_for != filter {
        return Err(Status::invalid_argument(
            "page_token was issued for other filters; repeat the filters of the first page",
        ));
    }
    Cursor::decode(cursor).map(Some).map_err(status::from_store)
}

/// Findings with their links (integration names and base URLs filled in).
pub async fn with_links(
    store: &Store,
    tenant: lockstep_domain::TenantId,
    records: &[FindingRecord],
) -> Result<Vec<pb::Finding>, Status> {
    let ids: Vec<FindingId> = records.iter().map(|f| f.id).collect();
    let links = store
        .links()
        .list_for_findings(tenant, &ids)
        .await
        .map_err(status::from_store)?;
    let integrations = convert::integration_index(
        store
            .integrations()
            .list(tenant)
            .await
            .map_err(status::from_store)?,
    );
    let mut by_finding = convert::links_by_finding(&links, &integrations);
    Ok(records
        .iter()
        .map(|f| convert::finding(f, by_finding.remove(&f.id).unwrap_or_default()))
        .collect())
}

/// Publishes the change an analyst made, so linked tickets follow. The event id is derived from
/// the finding and the moment its local status was set, so publishing the same change again (a
/// retried request) is deduplicated by JetStream and by the ticket-writer's inbox.
pub async fn publish_change(bus: &Bus, change: &StatusChange) -> Result<(), Status> {
    let finding = &change.finding;
    let event = pb::FindingChanged {
        event_id: format!(
            "finding-status:{}:{}:{}",
            finding.id,
            finding.local.status,
            finding.local.set_at.unix_timestamp_nanos()
        ),
        tenant_id: finding.tenant_id.to_string(),
        finding_id: finding.id.to_string(),
        from_status: change.previous.as_str().to_owned(),
        to_status: finding.status.as_str().to_owned(),
        origin: pb::ChangeOrigin::Analyst as i32,
        channel: SyncChannel::Manual.as_str().to_owned(),
        integration_id: String::new(),
        changed_at: convert::ts(finding.local.set_at),
        // Stamped by `finding_changes` from the RPC's span.
        traceparent: String::new(),
    };
    let message = lockstep_bus::finding_changes(finding.tenant_id, vec![event]);
    bus.publish(&bus.subjects().finding_changed(finding.tenant_id), &message)
        .await
        .map(|_| ())
        .map_err(|e| {
            tracing::warn!(error = %e, finding = %finding.id, "publishing a finding change failed");
            Status::unavailable(format!(
                "the status of finding {} is saved, but the change could not be published to the \
                 ticket-writer ({e}); repeat the request to publish it",
                finding.id
            ))
        })
}

/// An analyst's note on a status change is kept in the activity feed.
const MAX_NOTE_CHARS: usize = 2_000;

async fn set_status(
    ctx: &Ctx,
    caller: &Caller,
    req: pb::SetFindingStatusRequest,
) -> Result<pb::Finding, Status> {
    let id = finding_id("id", &req.id)?;
    let to: FindingStatus = opt_vocab("status", &req.status)?
        .ok_or_else(|| Status::invalid_argument("status is required"))?;
    let expected: Option<FindingStatus> = opt_vocab("expected_status", &req.expected_status)?;
    let note = free_text("note", req.note.trim(), MAX_NOTE_CHARS).map_err(status::from_domain)?;
    // The status and its activity row commit together or not at all.
    let change = ctx
        .store
        .in_tx(async |tx| {
            let change = tx
                .findings()
                .set_status(caller.tenant, id, to, expected)
                .await?;
            if change.changed() {
                let message = if note.is_empty() {
                    format!("{} set the status to {to}", caller.name)
                } else {
                    format!("{} set the status to {to}: {note}", caller.name)
                };
                tx.activity()
                    .append(
                        caller.tenant,
                        &NewActivity {
                            finding_id: id,
                            channel: SyncChannel::Manual,
                            actor: caller.name.clone(),
                            kind: ActivityKind::StatusChanged,
                            from_status: Some(change.previous),
                            to_status: Some(to),
                            message,
                            details: serde_json::json!({"note": note}),
                        },
                    )
                    .await?;
            }
            Ok::<_, StoreError>(change)
        })
        .await
        .map_err(status::from_store)?;
    publish_change(&ctx.bus, &change).await?;
    let mut out = with_links(
        &ctx.store,
        caller.tenant,
        std::slice::from_ref(&change.finding),
    )
    .await?;
    Ok(out.remove(0))
}

impl Findings {
    /// `ImportFindingsStream` over any stream of pieces: the gRPC method's, or the HTTP route's
    /// request body cut into pieces. One function, so both check the caller and write alike.
    pub async fn import_pieces<S>(
        &self,
        request: Request<S>,
    ) -> Result<Response<import_stream::ProgressStream>, Status>
    where
        S: tokio_stream::Stream<Item = Result<pb::ImportFindingsPiece, Status>> + Send + Unpin,
    {
        // The caller is checked on the metadata alone: the pieces need not be Sync.
        let (metadata, extensions, pieces) = request.into_parts();
        let credential = Request::from_parts(metadata, extensions, ());
        let caller = self
            .ctx
            .caller(&credential, Access::Write, "importing findings")
            .await?;
        let progress = import_stream::start(self.ctx.store.clone(), caller, pieces).await?;
        Ok(Response::new(progress))
    }
}

#[tonic::async_trait]
impl FindingService for Findings {
    async fn import_findings(
        &self,
        request: Request<pb::ImportFindingsRequest>,
    ) -> Result<Response<pb::ImportFindingsResponse>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Write, "importing findings")
            .await?;
        let req = request.into_inner();
        let findings = import_stream::parse(req.format, &req.content, &req.scanner)?;
        let outcome = self
            .ctx
            .store
            .findings()
            .import(caller.tenant, &findings)
            .await
            .map_err(status::from_store)?;
        tracing::info!(created = outcome.created, updated = outcome.updated, by = %caller.name, "findings imported");
        Ok(Response::new(pb::ImportFindingsResponse {
            created: outcome.created as i32,
            updated: outcome.updated as i32,
            findings: import_stream::imported(&outcome),
        }))
    }

    type ImportFindingsStreamStream = import_stream::ProgressStream;

    async fn import_findings_stream(
        &self,
        request: Request<tonic::Streaming<pb::ImportFindingsPiece>>,
    ) -> Result<Response<Self::ImportFindingsStreamStream>, Status> {
        self.import_pieces(request).await
    }

    async fn list_findings(
        &self,
        request: Request<pb::ListFindingsRequest>,
    ) -> Result<Response<pb::ListFindingsResponse>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Read, "listing findings")
            .await?;
        let req = request.get_ref();
        let filter = FindingFilter {
            severity: opt_vocab::<Severity>("severity", &req.severity)?,
            status: opt_vocab::<FindingStatus>("status", &req.status)?,
        };
        let filter_key = format!(
            "{}.{}",
            filter.severity.map(|s| s.as_str()).unwrap_or(""),
            filter.status.map(|s| s.as_str()).unwrap_or("")
        );
        let limit = page_size(req.page_size, 50, lockstep_store::MAX_PAGE_SIZE)?;
        let page = PageRequest {
            limit,
            after: read_token(&req.page_token, &filter_key)?,
        };
        let found = self
            .ctx
            .store
            .findings()
            .list(caller.tenant, filter, page)
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(pb::ListFindingsResponse {
            findings: with_links(&self.ctx.store, caller.tenant, &found.items).await?,
            next_page_token: found
                .next
                .map(|c| page_token(&c, &filter_key))
                .unwrap_or_default(),
        }))
    }

    async fn get_finding(
        &self,
        request: Request<pb::GetFindingRequest>,
    ) -> Result<Response<pb::Finding>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Read, "reading findings")
            .await?;
        let id = finding_id("id", &request.get_ref().id)?;
        let record = self
            .ctx
            .store
            .findings()
            .get(caller.tenant, id)
            .await
            .map_err(status::from_store)?;
        let mut out = with_links(
            &self.ctx.store,
            caller.tenant,
            std::slice::from_ref(&record),
        )
        .await?;
        Ok(Response::new(out.remove(0)))
    }

    async fn list_finding_activity(
        &self,
        request: Request<pb::ListFindingActivityRequest>,
    ) -> Result<Response<pb::ListFindingActivityResponse>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Read, "reading the activity feed")
            .await?;
        let req = request.get_ref();
        let id = finding_id("finding_id", &req.finding_id)?;
        // Another tenant's finding is NOT_FOUND, not an empty feed.
        self.ctx
            .store
            .findings()
            .get(caller.tenant, id)
            .await
            .map_err(status::from_store)?;
        let key = id.to_string();
        let page = PageRequest {
            limit: page_size(req.page_size, 50, lockstep_store::MAX_PAGE_SIZE)?,
            after: read_token(&req.page_token, &key)?,
        };
        let feed = self
            .ctx
            .store
            .activity()
            .list_for_finding(caller.tenant, id, page)
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(pb::ListFindingActivityResponse {
            entries: feed.items.iter().map(convert::activity).collect(),
            next_page_token: feed.next.map(|c| page_token(&c, &key)).unwrap_or_default(),
        }))
    }

    async fn set_finding_status(
        &self,
        request: Request<pb::SetFindingStatusRequest>,
    ) -> Result<Response<pb::Finding>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Write, "changing a finding's status")
            .await?;
        let finding = set_status(&self.ctx, &caller, request.into_inner()).await?;
        Ok(Response::new(finding))
    }
}
