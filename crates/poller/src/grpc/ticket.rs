//! `SyncService.ResyncTicket`: the answer of [`Poller::resync_ticket`](crate::Poller) on the wire.

use lockstep_proto::v1 as pb;

use crate::{TicketResync, TicketResyncOutcome};

pub(crate) fn response(r: TicketResync) -> pb::ResyncTicketResponse {
    let outcome = match r.outcome {
        TicketResyncOutcome::Current => pb::TicketResyncOutcome::Current,
        TicketResyncOutcome::Applied => pb::TicketResyncOutcome::Applied,
        TicketResyncOutcome::Published => pb::TicketResyncOutcome::Published,
    };
    let obs = &r.observation;
    pb::ResyncTicketResponse {
        link_id: r.link.id.to_string(),
        finding_id: r.link.finding_id.to_string(),
        integration_id: r.link.integration_id.to_string(),
        ticket_key: obs.ticket.key().as_str().to_owned(),
        outcome: outcome.into(),
        vendor_state: obs.vendor_state.clone(),
        vendor_state_label: obs.vendor_state_label.clone().unwrap_or_default(),
        vendor_version: obs.version.to_string(),
        finding_status: r.finding_status.as_str().to_owned(),
        last_sync_channel: r
            .link
            .last_sync_channel
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
    }
}
