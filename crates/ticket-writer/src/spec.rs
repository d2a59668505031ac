//! A request's `TicketSpec` resolved against the tenant's data: the integration, target table,
//! mapping rules, preset and explicit values, mode, labels and reporter. [`Plan::draft`] is the
//! one place a ticket's content is decided, used unchanged by previews and creation, so a
//! preview can never disagree with what is then created.

use lockstep_connectors::{ConnectorError, Registry, TicketCreate};
use lockstep_domain::{
    FieldSource, FieldValues, Finding, FindingSelection, MappingRules, TenantId, TicketDraft,
    TicketMode, TicketRequest, TicketTarget,
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
    registry: &Registry,
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
    let vendor = registry
        .spec(integration.vendor)
        .map_err(|e| status::from_connector(&e))?;
    let table = match spec.table.trim() {
        "" => integration
            .settings
            .default_table_or_project
            .clone()
            .or_else(|| vendor.default_container().map(str::to_owned))
            .ok_or_else(|| {
                Status::invalid_argument(format!(
                    "spec.table is required: integration {} has no default table or project",
                    integration.name
                ))
            })?,
        other => other.to_owned(),
    };
    // The vendor's own container rules (case, the tables it writes), from its folder.
    let target = vendor.parse_container(&table).map_err(|e| match e {
        ConnectorError::InvalidConfig { message } => {
            Status::invalid_argument(format!("spec.table: {message}"))
        }
        other => status::from_connector(&other),
    })?;
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

    /// The vendor-neutral create request of a draft: the draft, plus reporter, mode and labels
    /// (the connector decides how its vendor carries them).
    pub fn ticket_create(&self, draft: TicketDraft, finding: &Finding) -> TicketCreate {
        TicketCreate {
            draft,
            finding_id: finding.id,
            reference_label: format!("Lockstep {}", finding.scanner_key),
            reporter: self.reporter.clone(),
            mode: self.mode.clone(),
            labels: self.labels.clone(),
        }
    }
}
