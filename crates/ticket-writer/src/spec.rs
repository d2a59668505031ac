//! A request's `TicketSpec` resolved against the tenant's data: the integration, target table,
//! mapping rules, preset and explicit values, mode, labels and reporter. [`Plan::draft`] is the
//! one place a ticket's content is decided, used unchanged by previews and creation, so a
//! preview can never disagree with what is then created.

use lockstep_connectors::servicenow::NewTicket;
use lockstep_domain::{
    FieldSource, FieldValues, Finding, FindingSelection, MappingRules, ServiceNowTable, TenantId,
    TicketDraft, TicketMode, TicketRequest, TicketTarget, Vendor,
};
use lockstep_proto::v1 as pb;
use lockstep_service_kit::convert::{self, integration_id};
use lockstep_service_kit::status;
use lockstep_store::{IntegrationRecord, Store};
use tonic::Status;

/// A resolved spec.
#[derive(Debug, Clone)]
pub struct Plan {
    pub integration: IntegrationRecord,
    pub target: TicketTarget,
    pub rules: MappingRules,
    pub preset: FieldValues,
    pub preset_name: Option<String>,
    pub request: FieldValues,
    pub mode: TicketMode,
    pub labels: Vec<String>,
    pub reporter: Option<String>,
}

fn source_name(source: FieldSource) -> &'static str {
    match source {
        FieldSource::Request => "request",
        FieldSource::Preset => "preset",
        FieldSource::Mapping => "mapping",
        FieldSource::Computed => "computed",
        FieldSource::Default => "default",
    }
}

/// Resolves `spec` for `tenant`. Everything is checked here, before any vendor call: a spec that
/// names another tenant's integration or preset is NOT_FOUND.
pub async fn resolve(
    store: &Store,
    tenant: TenantId,
    spec: Option<&pb::TicketSpec>,
    findings: &[lockstep_domain::FindingId],
) -> Result<Plan, Status> {
    let spec =
        spec.ok_or_else(|| Status::invalid_argument("spec is required (integration_id at least)"))?;
    let id = integration_id("spec.integration_id", &spec.integration_id)?;
    let integration = store
        .integrations()
        .get(tenant, id)
        .await
        .map_err(status::from_store)?;
    if integration.vendor != Vendor::ServiceNow {
        return Err(Status::failed_precondition(format!(
            "integration {} is a {} integration; only ServiceNow tickets can be created yet",
            integration.name, integration.vendor
        )));
    }
    let table = match spec.table.trim() {
        "" => integration
            .settings
            .default_table_or_project
            .clone()
            .unwrap_or_else(|| ServiceNowTable::Incident.as_str().to_owned()),
        other => other.to_ascii_lowercase(),
    };
    let target = TicketTarget::parse(integration.vendor, &table).map_err(status::from_domain)?;
    let mode_name = if spec.mode.trim().is_empty() {
        "standalone"
    } else {
        spec.mode.as_str()
    };
    let related = Some(spec.related_ticket.as_str()).filter(|r| !r.trim().is_empty());
    let mode =
        TicketMode::parse(integration.vendor, mode_name, related).map_err(status::from_domain)?;
    let selection = FindingSelection::new(findings.to_vec()).map_err(status::from_domain)?;
    // Checks the mode against the target (vendor of the related key, Jira subtask project).
    TicketRequest::new(target.clone(), mode.clone(), selection).map_err(status::from_domain)?;
    let rules = store
        .mapping_rules()
        .effective(&integration)
        .await
        .map_err(status::from_store)?
        .rules;
    let (preset, preset_name) = match spec.preset.trim() {
        "" => (FieldValues::default(), None),
        key => {
            let record = find_preset(store, tenant, key).await?;
            (convert::preset_fields(&record)?, Some(record.name))
        }
    };
    let request = convert::field_values(spec.fields.as_ref())?;
    let labels: Vec<String> = spec
        .labels
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(bad) = labels
        .iter()
        .find(|l| l.len() > 100 || l.contains([',', '\n']))
    {
        return Err(Status::invalid_argument(format!(
            "label {bad:?} must be one line of at most 100 characters without commas"
        )));
    }
    let reporter = Some(spec.reporter.trim().to_owned()).filter(|r| !r.is_empty());
    Ok(Plan {
        integration,
        target,
        rules,
        preset,
        preset_name,
        request,
        mode,
        labels,
        reporter,
    })
}

async fn find_preset(
    store: &Store,
    tenant: TenantId,
    key: &str,
) -> Result<lockstep_store::PresetRecord, Status> {
    if let Ok(id) = lockstep_domain::PresetId::parse(key) {
        return store
            .presets()
            .get(tenant, id)
            .await
            .map_err(status::from_store);
    }
    store
        .presets()
        .list(tenant)
        .await
        .map_err(status::from_store)?
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(key))
        .ok_or_else(|| {
            Status::not_found(format!(
                "preset {key:?} not found; `lockstep presets list` shows them"
            ))
        })
}

impl Plan {
    pub fn table(&self) -> ServiceNowTable {
        match self.target {
            TicketTarget::ServiceNow(table) => table,
            // `resolve` only accepts ServiceNow integrations.
            _ => ServiceNowTable::Incident,
        }
    }

    pub fn draft(&self, finding: &Finding) -> Result<TicketDraft, Status> {
        TicketDraft::build(
            finding,
            &self.target,
            &self.rules,
            &self.preset,
            &self.request,
        )
        .map_err(status::from_domain)
    }

    /// The preview of a draft: every field with the layer that decided it.
    pub fn preview_fields(&self, draft: &TicketDraft) -> Vec<pb::PreviewField> {
        let mut rows: Vec<pb::PreviewField> = draft
            .preview_rows()
            .into_iter()
            .map(|r| pb::PreviewField {
                field: r.field.to_owned(),
                value: r.value,
                source: source_name(r.source).to_owned(),
            })
            .collect();
        let mut extra = |field: &str, value: String| {
            rows.push(pb::PreviewField {
                field: field.to_owned(),
                value,
                source: "request".to_owned(),
            })
        };
        extra("mode", self.mode.as_str().to_owned());
        if let Some(related) = self.mode.related() {
            extra("related_ticket", related.as_str().to_owned());
        }
        if !self.labels.is_empty() {
            extra("labels", self.labels.join(", "));
        }
        if let Some(reporter) = &self.reporter {
            extra("reporter", reporter.clone());
        }
        if let Some(preset) = &self.preset_name {
            rows.push(pb::PreviewField {
                field: "preset".into(),
                value: preset.clone(),
                source: "preset".into(),
            });
        }
        rows
    }

    /// The ServiceNow ticket for a draft: the draft's fields, plus reporter, mode and labels.
    pub fn new_ticket(&self, draft: &TicketDraft, finding: &Finding) -> Result<NewTicket, Status> {
        let mut ticket = NewTicket::from_draft(draft).map_err(|e| status::from_connector(&e))?;
        ticket.correlation_display = format!("Lockstep {}", finding.scanner_key);
        ticket.caller = self.reporter.clone();
        match &self.mode {
            TicketMode::Standalone => {}
            TicketMode::Subtask { parent } => {
                let field = match self.table() {
                    ServiceNowTable::Incident => "parent_incident",
                    ServiceNowTable::ChangeRequest => "parent",
                };
                ticket
                    .extra
                    .insert(field.into(), parent.as_str().to_owned());
            }
            TicketMode::Link { related } => {
                if self.table() == ServiceNowTable::Incident && related.as_str().starts_with("CHG")
                {
                    ticket
                        .extra
                        .insert("rfc".into(), related.as_str().to_owned());
                }
                ticket.extra.insert(
                    "work_notes".into(),
                    format!("Related ticket: {related} (linked by Lockstep)"),
                );
            }
        }
        if !self.labels.is_empty() {
            ticket.description = format!(
                "{}\n\nLabels: {}",
                ticket.description,
                self.labels.join(", ")
            );
        }
        Ok(ticket)
    }
}
