//! `lockstep mappings`, `lockstep presets`, `lockstep sync`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::mapping_service_client::MappingServiceClient;
use lockstep_proto::v1::preset_service_client::PresetServiceClient;
use lockstep_proto::v1::sync_service_client::SyncServiceClient;
use serde_json::{Value, json};

use crate::client::{api, poller, req};
use crate::render::{self, Output};
use crate::{Cli, Failure, Result};

#[derive(Subcommand, Debug)]
pub enum MappingsCommand {
    /// The integration's rules (`-o json` prints the document `set` takes).
    Show { integration: String },
    /// Replace the rules with a JSON document (checked against the instance's choice lists).
    Set {
        integration: String,
        #[arg(long)]
        file: PathBuf,
        /// Skip the check against the instance (shape is still checked).
        #[arg(long)]
        skip_instance_validation: bool,
    },
}

fn show_rules(output: Output, rules: &pb::MappingRules) {
    match output {
        Output::Json => crate::outln!("{}", rules.rules_json),
        Output::Table => {
            crate::outln!(
                "integration {} ({}){}",
                rules.integration_id,
                rules.vendor,
                if rules.is_default {
                    ", default rules"
                } else {
                    ""
                }
            );
            render::table(
                &[
                    "kind", "severity", "impact", "urgency", "priority", "category",
                ],
                &rules
                    .severity
                    .iter()
                    .map(|s| {
                        vec![
                            s.kind.clone(),
                            s.severity.clone(),
                            s.impact.clone(),
                            s.urgency.clone(),
                            s.priority.clone(),
                            s.category.clone(),
                        ]
                    })
                    .collect::<Vec<_>>(),
            );
            for w in &rules.instance_warnings {
                eprintln!("warning: {}", render::escape(w));
            }
        }
    }
}

pub async fn mappings(cli: &Cli, cmd: &MappingsCommand) -> Result<()> {
    let mut client = MappingServiceClient::new(api(cli).await?);
    match cmd {
        MappingsCommand::Show { integration } => {
            let rules = client
                .get_mapping_rules(req(
                    cli,
                    pb::GetMappingRulesRequest {
                        integration_id: integration.clone(),
                    },
                )?)
                .await?
                .into_inner();
            show_rules(cli.output, &rules);
        }
        MappingsCommand::Set {
            integration,
            file,
            skip_instance_validation,
        } => {
            let rules_json = std::fs::read_to_string(file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let rules = client
                .update_mapping_rules(req(
                    cli,
                    pb::UpdateMappingRulesRequest {
                        integration_id: integration.clone(),
                        rules_json,
                        skip_instance_validation: *skip_instance_validation,
                    },
                )?)
                .await?
                .into_inner();
            show_rules(cli.output, &rules);
        }
    }
    Ok(())
}

#[derive(Args, Debug, Clone)]
pub struct PresetFields {
    #[arg(long, default_value = "")]
    impact: String,
    #[arg(long, default_value = "")]
    urgency: String,
    #[arg(long, default_value = "")]
    priority: String,
    #[arg(long, default_value = "")]
    category: String,
    #[arg(long, default_value = "")]
    assignment_group: String,
    #[arg(long, default_value = "")]
    assignee: String,
    #[arg(long, default_value = "")]
    summary_template: String,
}

impl PresetFields {
    fn to_pb(&self) -> pb::FieldValues {
        pb::FieldValues {
            impact: self.impact.clone(),
            urgency: self.urgency.clone(),
            priority: self.priority.clone(),
            category: self.category.clone(),
            assignment_group: self.assignment_group.clone(),
            assignee: self.assignee.clone(),
            summary_template: self.summary_template.clone(),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum PresetsCommand {
    List,
    Get {
        id_or_name: String,
    },
    Create {
        name: String,
        #[command(flatten)]
        fields: PresetFields,
    },
    /// Replace a preset's fields (and optionally rename it).
    Update {
        id_or_name: String,
        #[arg(long, default_value = "")]
        name: String,
        #[command(flatten)]
        fields: PresetFields,
    },
    Delete {
        id_or_name: String,
    },
}

fn show_presets(output: Output, items: &[pb::Preset]) {
    let fields = |p: &pb::Preset| p.fields.clone().unwrap_or_default();
    match output {
        Output::Json => render::json(&Value::Array(items.iter().map(|p| {
            let f = fields(p);
            json!({"id": p.id, "name": p.name, "fields": {"impact": f.impact, "urgency": f.urgency, "priority": f.priority,
                "category": f.category, "assignment_group": f.assignment_group, "assignee": f.assignee, "summary_template": f.summary_template}})
        }).collect())),
        Output::Table => render::table(
            &["id", "name", "impact", "urgency", "category", "assignment_group", "assignee"],
            &items
                .iter()
                .map(|p| {
                    let f = fields(p);
                    vec![p.id.clone(), p.name.clone(), f.impact, f.urgency, f.category, f.assignment_group, f.assignee]
                })
                .collect::<Vec<_>>(),
        ),
    }
}

pub async fn presets(cli: &Cli, cmd: &PresetsCommand) -> Result<()> {
    let mut client = PresetServiceClient::new(api(cli).await?);
    match cmd {
        PresetsCommand::List => {
            let out = client
                .list_presets(req(
                    cli,
                    pb::ListPresetsRequest {
                        page_size: 200,
                        page_token: String::new(),
                    },
                )?)
                .await?
                .into_inner();
            show_presets(cli.output, &out.presets);
        }
        PresetsCommand::Get { id_or_name } => {
            let p = client
                .get_preset(req(
                    cli,
                    pb::GetPresetRequest {
                        id: id_or_name.clone(),
                    },
                )?)
                .await?
                .into_inner();
            show_presets(cli.output, &[p]);
        }
        PresetsCommand::Create { name, fields } => {
            let p = client
                .create_preset(req(
                    cli,
                    pb::CreatePresetRequest {
                        request_id: String::new(),
                        name: name.clone(),
                        fields: Some(fields.to_pb()),
                    },
                )?)
                .await?
                .into_inner();
            show_presets(cli.output, &[p]);
        }
        PresetsCommand::Update {
            id_or_name,
            name,
            fields,
        } => {
            let p = client
                .update_preset(req(
                    cli,
                    pb::UpdatePresetRequest {
                        id: id_or_name.clone(),
                        name: name.clone(),
                        fields: Some(fields.to_pb()),
                    },
                )?)
                .await?
                .into_inner();
            show_presets(cli.output, &[p]);
        }
        PresetsCommand::Delete { id_or_name } => {
            client
                .delete_preset(req(
                    cli,
                    pb::DeletePresetRequest {
                        id: id_or_name.clone(),
                    },
                )?)
                .await?;
            eprintln!("preset {id_or_name} deleted");
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Poll one integration now, or every visible one with --all (60 s cooldown per caller).
    Resync {
        integration: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

fn result_row(r: &pb::IntegrationResyncResult) -> Vec<String> {
    vec![
        r.integration_id.clone(),
        r.ok.to_string(),
        r.tickets_read.to_string(),
        r.tickets_changed.to_string(),
        r.error.clone(),
    ]
}

pub async fn sync(cli: &Cli, cmd: &SyncCommand) -> Result<()> {
    let SyncCommand::Resync { integration, all } = cmd;
    let mut client = SyncServiceClient::new(poller(cli).await?);
    let results = match (integration, all) {
        (Some(id), false) => {
            let out = client
                .resync(req(
                    cli,
                    pb::ResyncRequest {
                        integration_id: id.clone(),
                    },
                )?)
                .await?
                .into_inner();
            out.result.into_iter().collect::<Vec<_>>()
        }
        (None, true) => {
            client
                .resync_all(req(
                    cli,
                    pb::ResyncAllRequest {
                        integration_ids: vec![],
                    },
                )?)
                .await?
                .into_inner()
                .results
        }
        _ => return Err(Failure::usage("name one integration, or pass --all")),
    };
    match cli.output {
        Output::Json => render::json(&Value::Array(
            results
                .iter()
                .map(|r| {
                    json!({"integration_id": r.integration_id, "ok": r.ok,
            "tickets_read": r.tickets_read, "tickets_changed": r.tickets_changed, "error": r.error})
                })
                .collect(),
        )),
        Output::Table => render::table(
            &["integration", "ok", "read", "changed", "error"],
            &results.iter().map(result_row).collect::<Vec<_>>(),
        ),
    }
    if results.iter().any(|r| !r.ok) {
        return Err(Failure {
            code: 7,
            message: "some integrations could not be re-synced".into(),
        });
    }
    Ok(())
}
