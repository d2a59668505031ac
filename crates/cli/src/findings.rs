//! `lockstep findings`: import (JSON or SARIF 2.1.0), list, get, activity, set-status.

use std::path::PathBuf;

use clap::Subcommand;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::finding_service_client::FindingServiceClient;
use serde_json::{Value, json};

use crate::client::{api, req};
use crate::import_stream;
use crate::render::{self, Output};
use crate::{Cli, Failure, Result};

#[derive(Subcommand, Debug)]
pub enum FindingsCommand {
    /// Import a scan: Lockstep JSON, SARIF 2.1.0 or NDJSON (one finding object a line); JSON or
    /// SARIF is detected from the content unless --format names it.
    Import {
        file: PathBuf,
        #[arg(long, value_enum)]
        format: Option<ScanFormat>,
        /// Scanner name when the document has none.
        #[arg(long, default_value = "")]
        scanner: String,
    },
    List {
        #[arg(long, default_value = "")]
        severity: String,
        #[arg(long, default_value = "")]
        status: String,
        /// Rows per page (at most 200).
        #[arg(long, default_value_t = 50)]
        page_size: i32,
        /// Follow every page.
        #[arg(long)]
        all: bool,
    },
    Get {
        id: String,
    },
    /// The finding's activity feed, newest first.
    Activity {
        id: String,
    },
    /// Set the status (closed, risk_accepted, false_positive, …); linked tickets follow.
    SetStatus {
        id: String,
        status: String,
        #[arg(long, default_value = "")]
        note: String,
        /// Only if the status is still this one.
        #[arg(long, default_value = "")]
        expected: String,
    },
}

pub fn link_json(l: &pb::TicketLink) -> Value {
    json!({"id": l.id, "integration_id": l.integration_id, "integration_name": l.integration_name, "vendor": l.vendor,
           "table_or_project": l.table_or_project, "external_id": l.external_id, "key": l.key, "url": l.url,
           "base_url": l.base_url, "state": l.state, "failure_reason": l.failure_reason, "vendor_state": l.vendor_state,
           "sla_breached": l.sla_breached})
}

fn to_json(f: &pb::Finding) -> Value {
    json!({"id": f.id, "scanner_key": f.scanner_key, "title": f.title, "severity": f.severity, "status": f.status,
           "asset": f.asset, "cve": f.cve, "cwe": f.cwe, "scanner": f.scanner, "description": f.description,
           "create_time": render::time(&f.create_time), "tickets": f.tickets.iter().map(link_json).collect::<Vec<_>>()})
}

/// The active ticket keys of a finding ("INC0010001", or "-").
fn tickets(f: &pb::Finding) -> String {
    let keys: Vec<String> = f
        .tickets
        .iter()
        .filter(|l| l.state == "live" || l.state == "pending")
        .map(|l| {
            if l.key.is_empty() {
                format!("({})", l.state)
            } else {
                l.key.clone()
            }
        })
        .collect();
    if keys.is_empty() {
        "-".into()
    } else {
        keys.join(",")
    }
}

pub fn show(output: Output, items: &[pb::Finding]) {
    match output {
        Output::Json => render::json(&Value::Array(items.iter().map(to_json).collect())),
        Output::Table => render::table(
            &["id", "key", "severity", "status", "title", "tickets"],
            &items
                .iter()
                .map(|f| {
                    vec![
                        f.id.clone(),
                        f.scanner_key.clone(),
                        f.severity.clone(),
                        f.status.clone(),
                        f.title.clone(),
                        tickets(f),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
    }
}

/// Every finding matching the filters, following pages.
pub async fn list_all(cli: &Cli, severity: &str, status: &str) -> Result<Vec<pb::Finding>> {
    let mut client = FindingServiceClient::new(api(cli).await?);
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_findings(req(
                cli,
                pb::ListFindingsRequest {
                    page_size: 200,
                    page_token,
                    severity: severity.into(),
                    status: status.into(),
                },
            )?)
            .await?
            .into_inner();
        out.extend(page.findings);
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = page.next_page_token;
    }
}

/// The formats `findings import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    Json,
    Sarif,
    /// One Lockstep finding object a line.
    Ndjson,
}

impl ScanFormat {
    /// The named format, else JSON or SARIF from the content (a SARIF log has `runs`). NDJSON is
    /// never guessed: a one-line JSON scan would read as both.
    fn resolve(named: Option<ScanFormat>, content: &[u8]) -> pb::ImportFormat {
        match named {
            Some(ScanFormat::Json) => pb::ImportFormat::Json,
            Some(ScanFormat::Sarif) => pb::ImportFormat::Sarif,
            Some(ScanFormat::Ndjson) => pb::ImportFormat::Ndjson,
            None if String::from_utf8_lossy(&content[..content.len().min(4096)])
                .contains("\"runs\"") =>
            {
                pb::ImportFormat::Sarif
            }
            None => pb::ImportFormat::Json,
        }
    }
}

pub async fn run(cli: &Cli, cmd: &FindingsCommand) -> Result<()> {
    let mut client = FindingServiceClient::new(api(cli).await?);
    match cmd {
        FindingsCommand::Import {
            file,
            format,
            scanner,
        } => {
            let content = std::fs::read(file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let format = ScanFormat::resolve(*format, &content);
            let out = import_stream::import(cli, &mut client, format, content, scanner).await?;
            match cli.output {
                Output::Json => {
                    render::json(&json!({"created": out.created, "updated": out.updated,
                    "findings": out.findings.iter().map(|f| json!({"id": f.id, "scanner_key": f.scanner_key, "created": f.created})).collect::<Vec<_>>()}))
                }
                Output::Table => crate::outln!(
                    "imported {} findings: {} new, {} updated",
                    out.findings.len(),
                    out.created,
                    out.updated
                ),
            }
        }
        FindingsCommand::List {
            severity,
            status,
            page_size,
            all,
        } => {
            let items = if *all {
                list_all(cli, severity, status).await?
            } else {
                let page = client
                    .list_findings(req(
                        cli,
                        pb::ListFindingsRequest {
                            page_size: *page_size,
                            page_token: String::new(),
                            severity: severity.clone(),
                            status: status.clone(),
                        },
                    )?)
                    .await?
                    .into_inner();
                if !page.next_page_token.is_empty() && cli.output == Output::Table {
                    eprintln!("(more findings: use --all)");
                }
                page.findings
            };
            show(cli.output, &items);
        }
        FindingsCommand::Get { id } => {
            let f = client
                .get_finding(req(cli, pb::GetFindingRequest { id: id.clone() })?)
                .await?
                .into_inner();
            match cli.output {
                Output::Json => render::json(&to_json(&f)),
                Output::Table => {
                    show(cli.output, std::slice::from_ref(&f));
                    for l in &f.tickets {
                        crate::outln!(
                            "  {} {} on {} ({}) {}",
                            render::escape(&l.state),
                            render::escape(&l.key),
                            render::escape(&l.integration_name),
                            render::escape(&l.table_or_project),
                            render::escape(&l.url)
                        );
                    }
                }
            }
        }
        FindingsCommand::Activity { id } => {
            let feed = client
                .list_finding_activity(req(
                    cli,
                    pb::ListFindingActivityRequest {
                        finding_id: id.clone(),
                        page_size: 200,
                        page_token: String::new(),
                    },
                )?)
                .await?
                .into_inner();
            match cli.output {
                Output::Json => render::json(&Value::Array(feed.entries.iter().map(|e| json!({"time": render::time(&e.time),
                    "channel": e.channel, "actor": e.actor, "kind": e.kind, "from_status": e.from_status,
                    "to_status": e.to_status, "message": e.message})).collect())),
                Output::Table => render::table(
                    &["time", "channel", "actor", "kind", "message"],
                    &feed.entries.iter().map(|e| vec![render::time(&e.time), e.channel.clone(), e.actor.clone(), e.kind.clone(), e.message.clone()]).collect::<Vec<_>>(),
                ),
            }
        }
        FindingsCommand::SetStatus {
            id,
            status,
            note,
            expected,
        } => {
            let f = client
                .set_finding_status(req(
                    cli,
                    pb::SetFindingStatusRequest {
                        id: id.clone(),
                        status: status.clone(),
                        expected_status: expected.clone(),
                        note: note.clone(),
                    },
                )?)
                .await?
                .into_inner();
            show(cli.output, &[f]);
        }
    }
    Ok(())
}
