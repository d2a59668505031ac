//! `lockstep tickets`: preview (dry-run), create, bulk, check, list (the workbench).

use clap::{Args, Subcommand};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::ticket_service_client::TicketServiceClient;
use lockstep_proto::v1::workbench_service_client::WorkbenchServiceClient;
use serde_json::{Value, json};

use crate::client::{api, req, writer};
use crate::findings::link_json;
use crate::render::{self, Output};
use crate::{Cli, Failure, Result};

/// What to create; shared by preview, create and bulk.
#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// Integration id.
    #[arg(long)]
    integration: String,
    /// incident or change_request (default: the integration's default table).
    #[arg(long, default_value = "")]
    table: String,
    /// standalone, subtask or link.
    #[arg(long, default_value = "standalone")]
    mode: String,
    /// Parent (subtask) or related (link) ticket key.
    #[arg(long, default_value = "")]
    related: String,
    /// A label (repeatable).
    #[arg(long = "label")]
    labels: Vec<String>,
    #[arg(long, default_value = "")]
    reporter: String,
    /// ServiceNow impact 1-3.
    #[arg(long, default_value = "")]
    impact: String,
    /// ServiceNow urgency 1-3.
    #[arg(long, default_value = "")]
    urgency: String,
    #[arg(long, default_value = "")]
    category: String,
    #[arg(long, default_value = "")]
    assignment_group: String,
    #[arg(long, default_value = "")]
    assignee: String,
    #[arg(long, default_value = "")]
    summary_template: String,
    /// Preset id or name.
    #[arg(long, default_value = "")]
    preset: String,
}

impl SpecArgs {
    fn to_pb(&self) -> pb::TicketSpec {
        pb::TicketSpec {
            integration_id: self.integration.clone(),
            table: self.table.clone(),
            mode: self.mode.clone(),
            related_ticket: self.related.clone(),
            labels: self.labels.clone(),
            reporter: self.reporter.clone(),
            fields: Some(pb::FieldValues {
                impact: self.impact.clone(),
                urgency: self.urgency.clone(),
                priority: String::new(),
                category: self.category.clone(),
                assignment_group: self.assignment_group.clone(),
                assignee: self.assignee.clone(),
                summary_template: self.summary_template.clone(),
            }),
            preset: self.preset.clone(),
        }
    }
}

/// Which findings a bulk command takes.
#[derive(Args, Debug, Clone)]
pub struct Selection {
    /// Finding ids.
    findings: Vec<String>,
    /// Instead of ids: every finding with this status (e.g. open).
    #[arg(long)]
    status: Option<String>,
    /// With --status: only this severity.
    #[arg(long, default_value = "")]
    severity: String,
}

impl Selection {
    async fn ids(&self, cli: &Cli) -> Result<Vec<String>> {
        match &self.status {
            Some(status) => Ok(crate::findings::list_all(cli, &self.severity, status)
                .await?
                .into_iter()
                .map(|f| f.id)
                .collect()),
            None if self.findings.is_empty() => {
                Err(Failure::usage("name finding ids, or select with --status"))
            }
            None => Ok(self.findings.clone()),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum TicketsCommand {
    /// Dry-run: exactly what would be sent for each finding; nothing is sent.
    Preview {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        selection: Selection,
    },
    /// Create the ticket of one finding (returns the existing one if it has one).
    Create {
        finding: String,
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Create tickets for many findings (sent in requests of at most 500).
    Bulk {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        selection: Selection,
    },
    /// Which findings already have tickets (read-only).
    Check {
        findings: Vec<String>,
        #[arg(long, default_value = "")]
        integration: String,
    },
    /// Every ticket-linked finding (the workbench), filtered.
    List {
        #[arg(long = "integration")]
        integrations: Vec<String>,
        #[arg(long = "severity")]
        severities: Vec<String>,
        /// Finding status.
        #[arg(long = "status")]
        statuses: Vec<String>,
        #[arg(long = "vendor-state")]
        vendor_states: Vec<String>,
        #[arg(long, default_value = "")]
        text: String,
        /// Only tickets whose SLA is breached.
        #[arg(long)]
        breached: bool,
        #[arg(long, default_value_t = 200)]
        page_size: u32,
    },
    /// Read one linked ticket from its vendor now (no cooldown); when it changed, answers once
    /// the change is applied (outcome applied), else current (or published, still applying).
    Resync {
        /// The ticket link id (the `link_id` of `lockstep tickets list --output json`).
        link: String,
    },
    /// Admin: forget the vendor version of a finding's live ticket links (or of one link), so
    /// the next observation of the ticket applies whatever its version. For a ticket frozen by a
    /// vendor version from the future that no poll has repaired.
    ResetVersion {
        /// A finding id (its live links) or a ticket link id.
        id: String,
    },
}

fn outcome(code: i32) -> &'static str {
    match pb::TicketOutcome::try_from(code) {
        Ok(pb::TicketOutcome::Created) => "created",
        Ok(pb::TicketOutcome::AlreadyLinked) => "already_linked",
        Ok(pb::TicketOutcome::Failed) => "failed",
        _ => "unknown",
    }
}

fn result_json(r: &pb::TicketResult) -> Value {
    json!({"finding_id": r.finding_id, "outcome": outcome(r.outcome), "link": r.link.as_ref().map(link_json),
           "error_code": r.error_code, "error_message": r.error_message})
}

fn show_results(output: Output, results: &[pb::TicketResult]) {
    match output {
        Output::Json => render::json(&Value::Array(results.iter().map(result_json).collect())),
        Output::Table => render::table(
            &["finding", "outcome", "ticket", "url / error"],
            &results
                .iter()
                .map(|r| {
                    let link = r.link.clone().unwrap_or_default();
                    let detail = if r.error_message.is_empty() {
                        link.url
                    } else {
                        format!("{}: {}", r.error_code, r.error_message)
                    };
                    vec![
                        r.finding_id.clone(),
                        outcome(r.outcome).to_owned(),
                        link.key,
                        detail,
                    ]
                })
                .collect::<Vec<_>>(),
        ),
    }
}

pub async fn run(cli: &Cli, cmd: &TicketsCommand) -> Result<()> {
    match cmd {
        TicketsCommand::List {
            integrations,
            severities,
            statuses,
            vendor_states,
            text,
            breached,
            page_size,
        } => {
            return list(
                cli,
                integrations,
                severities,
                statuses,
                vendor_states,
                text,
                *breached,
                *page_size,
            )
            .await;
        }
        TicketsCommand::ResetVersion { id } => return crate::reset_version::run(cli, id).await,
        TicketsCommand::Resync { link } => return crate::resync_ticket::run(cli, link).await,
        TicketsCommand::Check {
            findings,
            integration,
        } => {
            let mut client = TicketServiceClient::new(writer(cli).await?);
            let out = client
                .check_ticket_links(req(
                    cli,
                    pb::CheckTicketLinksRequest {
                        finding_ids: findings.clone(),
                        integration_id: integration.clone(),
                    },
                )?)
                .await?
                .into_inner();
            match cli.output {
                Output::Json => render::json(&Value::Array(out.findings.iter().map(|f| json!({"finding_id": f.finding_id,
                    "linked": f.linked, "not_found": f.not_found, "links": f.links.iter().map(link_json).collect::<Vec<_>>()})).collect())),
                Output::Table => render::table(
                    &["finding", "linked", "tickets"],
                    &out.findings
                        .iter()
                        .map(|f| {
                            let keys: Vec<String> = f.links.iter().map(|l| format!("{} ({})", l.key, l.state)).collect();
                            vec![f.finding_id.clone(), if f.not_found { "not found".into() } else { f.linked.to_string() }, keys.join(", ")]
                        })
                        .collect::<Vec<_>>(),
                ),
            }
            return Ok(());
        }
        _ => {}
    }
    let mut client = TicketServiceClient::new(writer(cli).await?);
    match cmd {
        TicketsCommand::Preview { spec, selection } => {
            let ids = selection.ids(cli).await?;
            let mut previews = Vec::new();
            for chunk in ids.chunks(500) {
                let out = client
                    .preview_tickets(req(
                        cli,
                        pb::PreviewTicketsRequest {
                            spec: Some(spec.to_pb()),
                            finding_ids: chunk.to_vec(),
                        },
                    )?)
                    .await?
                    .into_inner();
                previews.extend(out.previews);
            }
            match cli.output {
                Output::Json => render::json(&Value::Array(previews.iter().map(|p| json!({"finding_id": p.finding_id, "error": p.error,
                    "existing": p.existing.as_ref().map(link_json),
                    "fields": p.fields.iter().map(|f| json!({"field": f.field, "value": f.value, "source": f.source})).collect::<Vec<_>>()})).collect())),
                Output::Table => {
                    for p in &previews {
                        crate::outln!("finding {}", p.finding_id);
                        if !p.error.is_empty() {
                            crate::outln!("  error: {}", render::escape(&p.error));
                            continue;
                        }
                        if let Some(existing) = &p.existing {
                            crate::outln!("  already linked to {} ({}): creating returns it", render::escape(&existing.key), render::escape(&existing.state));
                        }
                        let rows: Vec<Vec<String>> = p
                            .fields
                            .iter()
                            .filter(|f| f.field != "description")
                            .map(|f| vec![format!("  {}", f.field), f.value.clone(), f.source.clone()])
                            .collect();
                        render::table(&["  field", "value", "source"], &rows);
                    }
                    eprintln!("dry run: nothing was sent to the vendor");
                }
            }
        }
        TicketsCommand::Create { finding, spec } => {
            let result = client
                .create_ticket(req(
                    cli,
                    pb::CreateTicketRequest {
                        request_id: String::new(),
                        finding_id: finding.clone(),
                        spec: Some(spec.to_pb()),
                    },
                )?)
                .await?
                .into_inner();
            show_results(cli.output, &[result]);
        }
        TicketsCommand::Bulk { spec, selection } => {
            let ids = selection.ids(cli).await?;
            let mut results = Vec::new();
            for chunk in ids.chunks(500) {
                let out = client
                    .bulk_create_tickets(req(
                        cli,
                        pb::BulkCreateTicketsRequest {
                            request_id: String::new(),
                            finding_ids: chunk.to_vec(),
                            spec: Some(spec.to_pb()),
                        },
                    )?)
                    .await?
                    .into_inner();
                results.extend(out.results);
            }
            show_results(cli.output, &results);
            let failed = results
                .iter()
                .filter(|r| r.outcome == pb::TicketOutcome::Failed as i32)
                .count();
            let created = results
                .iter()
                .filter(|r| r.outcome == pb::TicketOutcome::Created as i32)
                .count();
            eprintln!(
                "{created} created, {} already linked, {failed} failed",
                results.len() - created - failed
            );
            if failed > 0 {
                return Err(Failure {
                    code: 7,
                    message: format!(
                        "{failed} of {} findings failed (see the table)",
                        results.len()
                    ),
                });
            }
        }
        TicketsCommand::List { .. }
        | TicketsCommand::Check { .. }
        | TicketsCommand::ResetVersion { .. }
        | TicketsCommand::Resync { .. } => {}
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn list(
    cli: &Cli,
    integrations: &[String],
    severities: &[String],
    statuses: &[String],
    vendor_states: &[String],
    text: &str,
    breached: bool,
    page_size: u32,
) -> Result<()> {
    let mut client = WorkbenchServiceClient::new(api(cli).await?);
    let filter = pb::WorkbenchFilter {
        integration_ids: integrations.to_vec(),
        severities: severities.to_vec(),
        finding_statuses: statuses.to_vec(),
        vendor_states: vendor_states.to_vec(),
        text: text.to_owned(),
        sla_breached: breached.then_some(true),
        ..Default::default()
    };
    let mut rows = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_linked_tickets(req(
                cli,
                pb::ListLinkedTicketsRequest {
                    filter: Some(filter.clone()),
                    page_size,
                    page_token,
                },
            )?)
            .await?
            .into_inner();
        rows.extend(page.rows);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    match cli.output {
        Output::Json => render::json(&Value::Array(rows.iter().map(|r| json!({"link_id": r.link_id, "finding_id": r.finding_id, "scanner_key": r.scanner_key,
            "finding_title": r.finding_title, "severity": r.severity, "finding_status": r.finding_status,
            "integration_id": r.integration_id, "integration_name": r.integration_name, "ticket_key": r.ticket_key,
            "vendor_state": r.vendor_state, "deep_link": r.deep_link, "sla_breached": r.sla_breached,
            "sla_due_at": render::time(&r.sla_due_at), "last_sync_channel": r.last_sync_channel})).collect())),
        Output::Table => render::table(
            &["ticket", "finding", "severity", "status", "vendor state", "integration", "sla", "link"],
            &rows
                .iter()
                .map(|r| {
                    vec![r.ticket_key.clone(), r.scanner_key.clone(), r.severity.clone(), r.finding_status.clone(), r.vendor_state.clone(),
                         r.integration_name.clone(), if r.sla_breached { "BREACHED".into() } else { render::time(&r.sla_due_at) }, r.deep_link.clone()]
                })
                .collect::<Vec<_>>(),
        ),
    }
    Ok(())
}
