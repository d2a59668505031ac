//! `lockstep tickets reset-version <finding or link>`: an admin forgets the vendor version that
//! ticket links hold, so the next observation of each ticket applies whatever its version. The
//! way out for a link frozen by a vendor version from the future that no poll has repaired.

use lockstep_proto::v1 as pb;
use lockstep_proto::v1::sync_service_client::SyncServiceClient;
use serde_json::{Value, json};

use crate::client::{poller, req};
use crate::render::{self, Output};
use crate::{Cli, Result};

pub async fn run(cli: &Cli, id: &str) -> Result<()> {
    let mut client = SyncServiceClient::new(poller(cli).await?);
    let out = client
        .reset_vendor_version(req(
            cli,
            pb::ResetVendorVersionRequest { id: id.to_owned() },
        )?)
        .await?
        .into_inner();
    match cli.output {
        Output::Json => render::json(&Value::Array(
            out.links
                .iter()
                .map(|l| {
                    json!({"link_id": l.link_id, "finding_id": l.finding_id,
                           "integration_id": l.integration_id, "ticket": l.ticket_key,
                           "previous_version": l.previous_version})
                })
                .collect(),
        )),
        Output::Table => render::table(
            &["link", "finding", "ticket", "version forgotten"],
            &out.links
                .iter()
                .map(|l| {
                    vec![
                        l.link_id.clone(),
                        l.finding_id.clone(),
                        l.ticket_key.clone(),
                        if l.previous_version.is_empty() {
                            "(none)".to_owned()
                        } else {
                            l.previous_version.clone()
                        },
                    ]
                })
                .collect::<Vec<_>>(),
        ),
    }
    Ok(())
}
