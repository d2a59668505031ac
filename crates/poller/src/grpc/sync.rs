//! `SyncService`: Resync (one integration, no cooldown), ResyncTicket (one ticket, `ticket.rs`),
//! ResyncAll (cooldown per caller) and GetPollStatus, and ResetVendorVersion (`reset.rs`). Every call is authenticated by bearer token
//! and scoped to the caller's tenant; re-syncing needs the analyst or admin role, reading the
//! status any role, resetting a link's vendor version the admin role.

use lockstep_domain::{IntegrationId, TicketLinkId};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::sync_service_server::{SyncService, SyncServiceServer};
use lockstep_service_kit::convert::{integration_id, parse_id, ts};
use lockstep_service_kit::{Access, Authenticator, status};
use lockstep_store::StoreError;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

use crate::{PollReport, Poller, ResyncError};

/// The service implementation; [`SyncApi::server`] wraps it for tonic.
#[derive(Clone)]
pub struct SyncApi {
    poller: Poller,
    auth: Authenticator,
}

impl SyncApi {
    pub fn new(poller: Poller) -> Self {
        let auth = Authenticator::new(poller.store().clone());
        Self { poller, auth }
    }

    pub fn server(self) -> SyncServiceServer<Self> {
        SyncServiceServer::new(self)
    }
}

fn result_of(report: PollReport) -> pb::IntegrationResyncResult {
    let mut out = pb::IntegrationResyncResult {
        integration_id: report.integration.to_string(),
        ..Default::default()
    };
    match report.outcome {
        Ok(s) => {
            out.ok = true;
            out.tickets_changed = u32::try_from(s.tickets_changed).unwrap_or(u32::MAX);
            out.tickets_read = u32::try_from(s.tickets_read).unwrap_or(u32::MAX);
            out.watermark = s.watermark.and_then(ts);
        }
        Err(e) => out.error = e.to_string(),
    }
    out
}

fn failed(integration: IntegrationId, err: &ResyncError) -> pb::IntegrationResyncResult {
    pb::IntegrationResyncResult {
        integration_id: integration.to_string(),
        error: err.to_string(),
        ..Default::default()
    }
}

fn to_status(err: ResyncError, cooldown: std::time::Duration) -> Status {
    match err {
        ResyncError::Store(e) => status::from_store(e),
        e @ ResyncError::Inactive { .. } => Status::failed_precondition(e.to_string()),
        e @ ResyncError::Busy { .. } => Status::unavailable(e.to_string()),
        e @ ResyncError::NoTicket { .. } => Status::failed_precondition(e.to_string()),
        ResyncError::Vendor { ticket, source } => Status::new(
            status::connector_code(&source),
            status::bounded(&format!(
                "reading {ticket} from the vendor failed: {source}"
            )),
        ),
        e @ ResyncError::Publish(_) => Status::unavailable(status::bounded(&e.to_string())),
        ResyncError::CoolingDown { remaining } => {
            let secs = remaining.as_secs_f64().ceil().max(1.0) as u64;
            let mut status = Status::resource_exhausted(format!(
                "re-sync of all integrations is allowed once per {} s per caller; try again in {secs} s",
                cooldown.as_secs()
            ));
            let meta = status.metadata_mut();
            meta.insert("retry-after", MetadataValue::from(secs));
            meta.insert(
                "lockstep-retry-after-ms",
                MetadataValue::from(u64::try_from(remaining.as_millis()).unwrap_or(u64::MAX)),
            );
            status
        }
    }
}

fn ids(field: &str, values: &[String]) -> Result<Vec<IntegrationId>, Status> {
    values.iter().map(|v| integration_id(field, v)).collect()
}

#[tonic::async_trait]
impl SyncService for SyncApi {
    async fn resync(
        &self,
        request: Request<pb::ResyncRequest>,
    ) -> Result<Response<pb::ResyncResponse>, Status> {
        let caller = self.auth.authenticate(&request).await?;
        caller.require(Access::Write, "re-syncing an integration")?;
        let id = integration_id("integration_id", &request.get_ref().integration_id)?;
        let report = self
            .poller
            .poll_now(caller.tenant, id)
            .await
            .map_err(|e| to_status(e, self.poller.settings().resync_all_cooldown))?;
        Ok(Response::new(pb::ResyncResponse {
            result: Some(result_of(report)),
        }))
    }

    async fn resync_ticket(
        &self,
        request: Request<pb::ResyncTicketRequest>,
    ) -> Result<Response<pb::ResyncTicketResponse>, Status> {
        let caller = self.auth.authenticate(&request).await?;
        caller.require(Access::Write, "re-syncing a ticket")?;
        let id = parse_id("link_id", &request.get_ref().link_id, TicketLinkId::parse)?;
        let answer = self
            .poller
            .resync_ticket(caller.tenant, id)
            .await
            .map_err(|e| to_status(e, self.poller.settings().resync_all_cooldown))?;
        Ok(Response::new(super::ticket::response(answer)))
    }

    async fn resync_all(
        &self,
        request: Request<pb::ResyncAllRequest>,
    ) -> Result<Response<pb::ResyncAllResponse>, Status> {
        let caller = self.auth.authenticate(&request).await?;
        caller.require(Access::Write, "re-syncing integrations")?;
        let targets = ids("integration_ids", &request.get_ref().integration_ids)?;
        let results = self
            .poller
            .resync_all(caller.tenant, &caller.token_id.to_string(), &targets)
            .await
            .map_err(|e| to_status(e, self.poller.settings().resync_all_cooldown))?;
        let results: Vec<_> = results
            .into_iter()
            .map(|r| match r {
                Ok(report) => result_of(report),
                Err((id, e)) => failed(id, &e),
            })
            .collect();
        Ok(Response::new(pb::ResyncAllResponse {
            tickets_changed: results.iter().map(|r| r.tickets_changed).sum(),
            results,
        }))
    }

    async fn get_poll_status(
        &self,
        request: Request<pb::GetPollStatusRequest>,
    ) -> Result<Response<pb::GetPollStatusResponse>, Status> {
        let caller = self.auth.authenticate(&request).await?;
        caller.require(Access::Read, "reading poll status")?;
        let wanted = ids("integration_ids", &request.get_ref().integration_ids)?;
        let store = self.poller.store();
        let integrations = store
            .integrations()
            .list(caller.tenant)
            .await
            .map_err(status::from_store)?;
        for id in &wanted {
            if !integrations.iter().any(|i| i.id == *id) {
                return Err(status::from_store(StoreError::NotFound {
                    what: format!("integration {id}"),
                }));
            }
        }
        let mut statuses = Vec::new();
        let now = time::OffsetDateTime::now_utc();
        for rec in integrations
            .iter()
            .filter(|i| wanted.is_empty() || wanted.contains(&i.id))
        {
            let state = match store.poll_state().get(caller.tenant, rec.id).await {
                Ok(state) => state,
                Err(StoreError::NotFound { .. }) => continue,
                Err(e) => return Err(status::from_store(e)),
            };
            statuses.push(pb::PollStatus {
                integration_id: rec.id.to_string(),
                integration_name: rec.name.clone(),
                active: rec.active,
                watermark: state.watermark.and_then(ts),
                last_success_at: state.last_success_at.and_then(ts),
                next_due_at: ts(state.next_due_at),
                last_error: state.last_error.unwrap_or_default(),
                consecutive_failures: u32::try_from(state.consecutive_failures).unwrap_or(0),
                poll_interval: prost_types_duration(rec.settings.poll_interval()),
                polling: state.lease_expires_at.is_some_and(|at| at > now),
            });
        }
        Ok(Response::new(pb::GetPollStatusResponse { statuses }))
    }

    async fn reset_vendor_version(
        &self,
        request: Request<pb::ResetVendorVersionRequest>,
    ) -> Result<Response<pb::ResetVendorVersionResponse>, Status> {
        let caller = self.auth.authenticate(&request).await?;
        caller.require(Access::Admin, "resetting a ticket link's vendor version")?;
        let out = super::reset::reset(self.poller.store(), &caller, &request.get_ref().id).await?;
        Ok(Response::new(out))
    }
}

fn prost_types_duration(d: std::time::Duration) -> Option<prost_types::Duration> {
    prost_types::Duration::try_from(d).ok()
}
