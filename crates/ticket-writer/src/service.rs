//! `TicketService`. Previews and checks need any role; creation needs analyst or admin. Every
//! finding id is looked up within the caller's tenant, so another tenant's finding put into a
//! request is reported NOT_FOUND and never reaches a vendor.

use lockstep_domain::{BULK_LIMIT, FindingId, FindingSelection};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::ticket_service_server::{TicketService, TicketServiceServer};
use lockstep_service_kit::convert::{self, finding_id, integration_id};
use lockstep_service_kit::{Access, Authenticator, status};
use tonic::{Request, Response, Status};

use crate::spec;
use crate::writer::{Writer, result_status};

pub struct Tickets {
    auth: Authenticator,
    writer: Writer,
}

pub fn service(auth: Authenticator, writer: Writer) -> TicketServiceServer<Tickets> {
    TicketServiceServer::new(Tickets { auth, writer })
}

/// Parses and caps a list of finding ids before anything else happens.
fn finding_ids(ids: &[String]) -> Result<Vec<FindingId>, Status> {
    if ids.len() > BULK_LIMIT {
        return Err(status::from_domain(
            lockstep_domain::DomainError::BulkTooLarge {
                count: ids.len(),
                limit: BULK_LIMIT,
            },
        ));
    }
    let parsed = ids
        .iter()
        .enumerate()
        .map(|(i, id)| finding_id(&format!("finding_ids[{i}]"), id))
        .collect::<Result<Vec<_>, _>>()?;
    FindingSelection::new(parsed.clone()).map_err(status::from_domain)?;
    Ok(parsed)
}

#[tonic::async_trait]
impl TicketService for Tickets {
    async fn preview_tickets(
        &self,
        request: Request<pb::PreviewTicketsRequest>,
    ) -> Result<Response<pb::PreviewTicketsResponse>, Status> {
        let caller = self.auth.authenticate(&request).await?;
        caller.require(Access::Read, "previewing tickets")?;
        let req = request.into_inner();
        let ids = finding_ids(&req.finding_ids)?;
        let store = &self.writer.store;
        let registry = self.writer.connectors.registry();
        let plan = spec::resolve(store, registry, caller.tenant, req.spec.as_ref(), &ids).await?;
        let found = store
            .findings()
            .by_ids(caller.tenant, &ids)
            .await
            .map_err(status::from_store)?;
        let links = store
            .links()
            .list_for_findings(caller.tenant, &ids)
            .await
            .map_err(status::from_store)?;
        let previews = ids
            .iter()
            .map(|id| {
                let mut preview = pb::TicketPreview {
                    finding_id: id.to_string(),
                    ..Default::default()
                };
                let Some(finding) = found.iter().find(|f| f.id == *id) else {
                    preview.error = format!("finding {id} not found");
                    return preview;
                };
                preview.existing = links
                    .iter()
                    .find(|l| {
                        l.finding_id == *id
                            && l.integration_id == plan.integration.id
                            && l.state.is_active()
                    })
                    .map(|l| convert::link(l, Some(&plan.integration)));
                match plan.draft(&finding.to_finding()) {
                    Ok(draft) => preview.fields = plan.preview_fields(&draft),
                    Err(s) => preview.error = s.message().to_owned(),
                }
                preview
            })
            .collect();
        Ok(Response::new(pb::PreviewTicketsResponse { previews }))
    }

    async fn create_ticket(
        &self,
        request: Request<pb::CreateTicketRequest>,
    ) -> Result<Response<pb::TicketResult>, Status> {
        let caller = self.auth.authenticate(&request).await?;
        caller.require(Access::Write, "creating tickets")?;
        let req = request.into_inner();
        let id = finding_id("finding_id", &req.finding_id)?;
        let plan = spec::resolve(
            &self.writer.store,
            self.writer.connectors.registry(),
            caller.tenant,
            req.spec.as_ref(),
            &[id],
        )
        .await?;
        let mut results = self.writer.create(&caller, &plan, &[id]).await?;
        let result = results.remove(0);
        if let Some(status) = result_status(&result) {
            return Err(status);
        }
        Ok(Response::new(result))
    }

    async fn bulk_create_tickets(
        &self,
        request: Request<pb::BulkCreateTicketsRequest>,
    ) -> Result<Response<pb::BulkCreateTicketsResponse>, Status> {
        let caller = self.auth.authenticate(&request).await?;
        caller.require(Access::Write, "creating tickets")?;
        let req = request.into_inner();
        // The cap is checked before anything is read or sent.
        let ids = finding_ids(&req.finding_ids)?;
        let plan = spec::resolve(
            &self.writer.store,
            self.writer.connectors.registry(),
            caller.tenant,
            req.spec.as_ref(),
            &ids,
        )
        .await?;
        let results = self.writer.create(&caller, &plan, &ids).await?;
        let count =
            |o: pb::TicketOutcome| results.iter().filter(|r| r.outcome == o as i32).count() as i32;
        let response = pb::BulkCreateTicketsResponse {
            created: count(pb::TicketOutcome::Created),
            already_linked: count(pb::TicketOutcome::AlreadyLinked),
            failed: count(pb::TicketOutcome::Failed),
            results,
        };
        tracing::info!(created = response.created, already_linked = response.already_linked,
            failed = response.failed, by = %caller.name, "bulk ticket creation");
        Ok(Response::new(response))
    }

    async fn check_ticket_links(
        &self,
        request: Request<pb::CheckTicketLinksRequest>,
    ) -> Result<Response<pb::CheckTicketLinksResponse>, Status> {
        let caller = self.auth.authenticate(&request).await?;
        caller.require(Access::Read, "checking ticket links")?;
        let req = request.into_inner();
        let ids = finding_ids(&req.finding_ids)?;
        let only = match req.integration_id.trim() {
            "" => None,
            id => Some(integration_id("integration_id", id)?),
        };
        let store = &self.writer.store;
        let found = store
            .findings()
            .by_ids(caller.tenant, &ids)
            .await
            .map_err(status::from_store)?;
        let links = store
            .links()
            .list_for_findings(caller.tenant, &ids)
            .await
            .map_err(status::from_store)?;
        let links: Vec<_> = links
            .into_iter()
            .filter(|l| only.is_none_or(|i| l.integration_id == i))
            .collect();
        let integrations = convert::integration_index(
            store
                .integrations()
                .list(caller.tenant)
                .await
                .map_err(status::from_store)?,
        );
        let mut by_finding = convert::links_by_finding(&links, &integrations);
        let findings = ids
            .iter()
            .map(|id| {
                let links = by_finding.remove(id).unwrap_or_default();
                pb::FindingLinks {
                    finding_id: id.to_string(),
                    linked: links
                        .iter()
                        .any(|l| l.state == "pending" || l.state == "live"),
                    links,
                    not_found: !found.iter().any(|f| f.id == *id),
                }
            })
            .collect();
        Ok(Response::new(pb::CheckTicketLinksResponse { findings }))
    }
}
