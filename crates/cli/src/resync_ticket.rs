//! `lockstep tickets resync <link-id>`: read one linked ticket from its vendor now (the Tickets
//! page's row button); when it changed, the answer comes once the change is applied.

use lockstep_proto::v1 as pb;
use lockstep_proto::v1::sync_service_client::SyncServiceClient;
use serde_json::json;

use crate::client::{poller, req};
use crate::render::{self, Output};
use crate::{Cli, Result};

fn outcome(code: i32) -> &'static str {
    match pb::TicketResyncOutcome::try_from(code) {
        Ok(pb::TicketResyncOutcome::Current) => "current",
        Ok(pb::TicketResyncOutcome::Applied) => "applied",
        Ok(pb::TicketResyncOutcome::Published) => "published",
        _ => "unknown",
    }
}

pub async fn run(cli: &Cli, link: &str) -> Result<()> {
    let mut client = SyncServiceClient::new(poller(cli).await?);
    let out = client
        .resync_ticket(req(
            cli,
            pb::ResyncTicketRequest {
                link_id: link.to_owned(),
            },
        )?)
        .await?
        .into_inner();
    let state = if out.vendor_state_label.is_empty() {
        out.vendor_state.clone()
    } else {
        format!("{} ({})", out.vendor_state_label, out.vendor_state)
    };
    match cli.output {
        Output::Json => render::json(&json!({
            "link_id": out.link_id, "finding_id": out.finding_id,
            "integration_id": out.integration_id, "ticket": out.ticket_key,
            "outcome": outcome(out.outcome), "vendor_state": out.vendor_state,
            "vendor_state_label": out.vendor_state_label, "vendor_version": out.vendor_version,
            "finding_status": out.finding_status, "last_sync_channel": out.last_sync_channel,
        })),
        Output::Table => render::table(
            &["ticket", "outcome", "vendor state", "finding status", "via"],
            &[vec![
                out.ticket_key.clone(),
                outcome(out.outcome).to_owned(),
                state,
                out.finding_status.clone(),
                out.last_sync_channel.clone(),
            ]],
        ),
    }
    Ok(())
}
