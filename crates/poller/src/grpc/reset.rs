//! `SyncService.ResetVendorVersion`: an admin forgets the vendor version of ticket links, the way
//! out for a link frozen by a vendor version from the future (see `lockstep_domain::transition`).
//! Every reset and its activity row are written in one transaction.

use lockstep_domain::{ActivityKind, FindingId, SyncChannel, TicketLinkId};
use lockstep_proto::v1 as pb;
use lockstep_service_kit::convert::parse_id;
use lockstep_service_kit::{Caller, status};
use lockstep_store::{NewActivity, Store, StoreError, TicketLinkRecord, TicketLinkState, Tx};
use tonic::Status;

/// Resets the link `id` names, or every live link of the finding `id` names.
pub(crate) async fn reset(
    store: &Store,
    caller: &Caller,
    id: &str,
) -> Result<pb::ResetVendorVersionResponse, Status> {
    let link_id = parse_id("id", id, TicketLinkId::parse)?;
    let mut tx = store.begin().await.map_err(status::from_store)?;
    let targets = targets(&mut tx, caller, id, link_id)
        .await
        .map_err(status::from_store)?;
    let mut links = Vec::with_capacity(targets.len());
    for target in targets {
        let before = tx
            .links()
            .reset_vendor_version(caller.tenant, target)
            .await
            .map_err(status::from_store)?;
        let previous = before
            .vendor_snapshot
            .as_ref()
            .map(|s| s.version.to_string())
            .unwrap_or_default();
        let ticket = before
            .ticket_key
            .as_ref()
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default();
        let held = if previous.is_empty() {
            "no version".to_owned()
        } else {
            format!("version {previous}")
        };
        let message = format!(
            "{} reset the vendor version of {}: it held {held}; the next observation of the \
             ticket applies whatever its version",
            caller.name,
            if ticket.is_empty() {
                "the ticket link"
            } else {
                ticket.as_str()
            },
        );
        tx.activity()
            .append(
                caller.tenant,
                &NewActivity {
                    finding_id: before.finding_id,
                    channel: SyncChannel::Manual,
                    actor: caller.name.clone(),
                    kind: ActivityKind::VendorVersionReset,
                    from_status: None,
                    to_status: None,
                    message,
                    details: serde_json::json!({
                        "link_id": before.id.to_string(),
                        "integration_id": before.integration_id.to_string(),
                        "previous_version": previous,
                    }),
                },
            )
            .await
            .map_err(status::from_store)?;
        links.push(pb::ResetLinkVersion {
            link_id: before.id.to_string(),
            finding_id: before.finding_id.to_string(),
            integration_id: before.integration_id.to_string(),
            ticket_key: ticket,
            previous_version: previous,
        });
    }
    tx.commit().await.map_err(status::from_store)?;
    Ok(pb::ResetVendorVersionResponse { links })
}

/// The link `id` names, else the live links of the finding it names.
async fn targets(
    tx: &mut Tx,
    caller: &Caller,
    id: &str,
    link: TicketLinkId,
) -> Result<Vec<TicketLinkId>, StoreError> {
    match tx.links().get(caller.tenant, link).await {
        Ok(record) => return Ok(vec![record.id]),
        Err(StoreError::NotFound { .. }) => {}
        Err(err) => return Err(err),
    }
    let finding = FindingId::from_uuid(link.as_uuid());
    let live: Vec<TicketLinkId> = tx
        .links()
        .list_for_findings(caller.tenant, &[finding])
        .await?
        .into_iter()
        .filter(|l: &TicketLinkRecord| l.state == TicketLinkState::Live)
        .map(|l| l.id)
        .collect();
    if live.is_empty() {
        return Err(StoreError::NotFound {
            what: format!("ticket link or finding with a live link {}", id.trim()),
        });
    }
    Ok(live)
}
