//! Ticket drafts: exactly what a ticket for a finding would contain, and which layer decided each
//! field. Used for the dry-run preview and, unchanged, by the ticket writer, so a preview can
//! never disagree with what is then created.
//!
//! Each field is decided by the first layer that sets it: the request's explicit values, then
//! the preset, then the integration's mapping rules, then Lockstep's default.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::finding::Finding;
use crate::ids::FindingId;
use crate::label::Label;
use crate::rules::{MappedPriority, MappingRules};
use crate::servicenow::{Impact, Priority, Urgency};
use crate::template::Template;
use crate::ticket::{CorrelationId, TicketKind, TicketTarget};
use crate::vocab::Vendor;

/// The summary template used when neither the request nor the preset sets one.
pub const DEFAULT_SUMMARY_TEMPLATE: &str = "[LOCKSTEP] {key} - {title}";

/// Ticket field values set by a preset (tenant-wide defaults) or explicitly in a request. The same
/// shape serves both. A preset is shared across vendors, so its fields that do not apply to the
/// target are skipped; an explicit value that does not apply is an error, since the caller asked
/// for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldValues {
    /// ServiceNow only.
    pub impact: Option<Impact>,
    /// ServiceNow only.
    pub urgency: Option<Urgency>,
    /// A priority name; Jira and ServiceDesk Plus only (ServiceNow computes its priority).
    pub priority: Option<Label>,
    /// ServiceNow and ServiceDesk Plus.
    pub category: Option<Label>,
    /// ServiceNow `assignment_group`, ServiceDesk Plus `group`.
    pub assignment_group: Option<Label>,
    pub assignee: Option<Label>,
    pub summary_template: Option<Template>,
}

/// Which layer decided a draft field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    /// Set explicitly in the request.
    Request,
    Preset,
    /// The integration's mapping rules.
    Mapping,
    /// Derived from other fields (ServiceNow priority).
    Computed,
    /// Lockstep's built-in default.
    Default,
}

/// A field value and the layer that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: FieldSource,
}

/// How the draft expresses priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftPriority {
    ServiceNow {
        impact: Sourced<Impact>,
        urgency: Sourced<Urgency>,
        /// The incident priority ServiceNow's base matrix will compute, for the preview. `None`
        /// for change requests, whose priority ServiceNow computes differently.
        predicted: Option<Priority>,
    },
    /// A Jira priority name.
    Named(Sourced<Label>),
    /// ServiceDesk Plus lookup names: a priority, and urgency and impact when the mapping gives
    /// them (else the request template decides). Urgency and impact come from the mapping only:
    /// the request and preset fields of those names are ServiceNow's numeric scales.
    Levels {
        priority: Sourced<Label>,
        urgency: Option<Sourced<Label>>,
        impact: Option<Sourced<Label>>,
    },
}

/// One line of a preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub field: &'static str,
    pub value: String,
    pub source: FieldSource,
}

/// The ticket that would be created for one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketDraft {
    pub finding_id: FindingId,
    pub target: TicketTarget,
    pub priority: DraftPriority,
    pub category: Option<Sourced<Label>>,
    /// One line, at most the vendor's summary length ([`TicketKind::summary_limit`]).
    pub summary: Sourced<String>,
    /// Plain text; the connector converts it to the vendor's format (Jira ADF, SDP HTML).
    pub description: String,
    pub assignment_group: Option<Sourced<Label>>,
    pub assignee: Option<Sourced<Label>>,
    pub correlation_id: CorrelationId,
}

/// Which optional fields a kind of ticket has.
struct Applicable {
    /// Impact and urgency (ServiceNow) rather than a priority name (Jira, ServiceDesk Plus).
    servicenow: bool,
    category: bool,
    assignment_group: bool,
}

impl Applicable {
    fn to(kind: TicketKind) -> Self {
        let jira = kind == TicketKind::JiraIssue;
        Self {
            servicenow: kind.vendor() == Vendor::ServiceNow,
            category: !jira,
            assignment_group: !jira,
        }
    }

    /// Rejects explicit values the target does not have.
    fn check(&self, values: &FieldValues, target: &TicketTarget) -> Result<(), DomainError> {
        let refuse = |field, hint| {
            Err(DomainError::FieldNotApplicable {
                field,
                target: target.to_string(),
                hint,
            })
        };
        let named_hint = "set priority to one of the project's priority names instead";
        if !self.servicenow && values.impact.is_some() {
            return refuse("impact", named_hint);
        }
        if !self.servicenow && values.urgency.is_some() {
            return refuse("urgency", named_hint);
        }
        if self.servicenow && values.priority.is_some() {
            return refuse(
                "priority",
                "ServiceNow computes priority; set impact and urgency instead",
            );
        }
        if !self.category && values.category.is_some() {
            return refuse("category", "Jira issues have no category; remove it");
        }
        if !self.assignment_group && values.assignment_group.is_some() {
            return refuse(
                "assignment_group",
                "Jira issues have no assignment group; set assignee instead",
            );
        }
        Ok(())
    }
}

/// The request's value, else the preset's (when the field applies to the target).
fn chosen<T: Clone>(request: Option<&T>, preset: Option<&T>, applies: bool) -> Option<Sourced<T>> {
    let sourced = |value: &T, source| Sourced {
        value: value.clone(),
        source,
    };
    request
        .map(|value| sourced(value, FieldSource::Request))
        .or_else(|| {
            preset
                .filter(|_| applies)
                .map(|value| sourced(value, FieldSource::Preset))
        })
}

/// The chosen value, else the mapping's.
fn or_mapping<T: Clone>(chosen: Option<Sourced<T>>, mapping: &T) -> Sourced<T> {
    chosen.unwrap_or_else(|| Sourced {
        value: mapping.clone(),
        source: FieldSource::Mapping,
    })
}

impl TicketDraft {
    /// Drafts the ticket for `finding` in `target`. Fails when the rules are of another vendor or
    /// the request sets a field the target does not have.
    pub fn build(
        finding: &Finding,
        target: &TicketTarget,
        rules: &MappingRules,
        preset: &FieldValues,
        request: &FieldValues,
    ) -> Result<Self, DomainError> {
        let kind = target.kind();
        let applicable = Applicable::to(kind);
        applicable.check(request, target)?;
        let mapped = rules.priority(kind, finding.severity)?;
        let (priority, mapped_category) = match mapped {
            MappedPriority::ServiceNow(fields) => {
                let impact = or_mapping(
                    chosen(request.impact.as_ref(), preset.impact.as_ref(), true),
                    &fields.impact,
                );
                let urgency = or_mapping(
                    chosen(request.urgency.as_ref(), preset.urgency.as_ref(), true),
                    &fields.urgency,
                );
                let predicted = (kind == TicketKind::ServiceNowIncident)
                    .then(|| Priority::for_incident(impact.value, urgency.value));
                let priority = DraftPriority::ServiceNow {
                    impact,
                    urgency,
                    predicted,
                };
                (priority, fields.category.as_ref())
            }
            MappedPriority::Named(name) => {
                let name = or_mapping(
                    chosen(request.priority.as_ref(), preset.priority.as_ref(), true),
                    name,
                );
                (DraftPriority::Named(name), None)
            }
            MappedPriority::Levels(levels) => {
                let from_mapping = |l: &Option<Label>| {
                    l.as_ref().map(|value| Sourced {
                        value: value.clone(),
                        source: FieldSource::Mapping,
                    })
                };
                let priority = DraftPriority::Levels {
                    priority: or_mapping(
                        chosen(request.priority.as_ref(), preset.priority.as_ref(), true),
                        &levels.priority,
                    ),
                    urgency: from_mapping(&levels.urgency),
                    impact: from_mapping(&levels.impact),
                };
                (priority, None)
            }
        };
        let (template, template_source) = match chosen(
            request.summary_template.as_ref(),
            preset.summary_template.as_ref(),
            true,
        ) {
            Some(Sourced { value, source }) => (value, source),
            None => (
                Template::known(DEFAULT_SUMMARY_TEMPLATE),
                FieldSource::Default,
            ),
        };
        let summary = one_line(&template.render(finding));
        Ok(Self {
            finding_id: finding.id,
            target: target.clone(),
            priority,
            category: chosen(
                request.category.as_ref(),
                preset.category.as_ref(),
                applicable.category,
            )
            .or_else(|| {
                mapped_category.map(|category| Sourced {
                    value: category.clone(),
                    source: FieldSource::Mapping,
                })
            }),
            summary: Sourced {
                value: truncate(&summary, kind.summary_limit()),
                source: template_source,
            },
            description: description(finding, kind.description_limit()),
            assignment_group: chosen(
                request.assignment_group.as_ref(),
                preset.assignment_group.as_ref(),
                applicable.assignment_group,
            ),
            assignee: chosen(request.assignee.as_ref(), preset.assignee.as_ref(), true),
            correlation_id: CorrelationId::for_finding(finding.id),
        })
    }

    /// The draft as preview lines: each field, its value and the layer that decided it.
    pub fn preview_rows(&self) -> Vec<PreviewRow> {
        fn row(field: &'static str, value: impl ToString, source: FieldSource) -> PreviewRow {
            PreviewRow {
                field,
                value: value.to_string(),
                source,
            }
        }
        let mut rows = vec![row("target", &self.target, FieldSource::Request)];
        match &self.priority {
            DraftPriority::ServiceNow {
                impact,
                urgency,
                predicted,
            } => {
                rows.push(row("impact", impact.value, impact.source));
                rows.push(row("urgency", urgency.value, urgency.source));
                let priority =
                    predicted.map_or("computed by ServiceNow".to_owned(), |p| p.to_string());
                rows.push(row("priority", priority, FieldSource::Computed));
            }
            DraftPriority::Named(name) => rows.push(row("priority", &name.value, name.source)),
            DraftPriority::Levels {
                priority,
                urgency,
                impact,
            } => {
                rows.push(row("priority", &priority.value, priority.source));
                let optional = [("urgency", urgency), ("impact", impact)];
                rows.extend(optional.into_iter().filter_map(|(field, value)| {
                    value.as_ref().map(|v| row(field, &v.value, v.source))
                }));
            }
        }
        let optional = [
            ("category", &self.category),
            ("assignment_group", &self.assignment_group),
            ("assignee", &self.assignee),
        ];
        rows.extend(
            optional.into_iter().filter_map(|(field, value)| {
                value.as_ref().map(|v| row(field, &v.value, v.source))
            }),
        );
        rows.push(row("summary", &self.summary.value, self.summary.source));
        rows.push(row("description", &self.description, FieldSource::Default));
        rows.push(row(
            "correlation_id",
            self.correlation_id,
            FieldSource::Default,
        ));
        rows
    }
}

/// Collapses line breaks and runs of whitespace, which summaries cannot hold.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `text` to at most `max_chars` characters (never inside a character), ending with "…"
/// when something was cut so readers know.
fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The ticket body: the finding's facts, then the scanner's description.
fn description(finding: &Finding, limit: Option<usize>) -> String {
    let mut lines = vec![
        format!("Finding {}: {}", finding.scanner_key, finding.title),
        format!("Severity: {}", finding.severity),
    ];
    if let Some(asset) = finding.asset.as_deref().filter(|a| !a.trim().is_empty()) {
        lines.push(format!("Asset: {}", asset.trim()));
    }
    if let Some(cve) = &finding.cve {
        lines.push(format!("CVE: {cve}"));
    }
    if let Some(cwe) = finding.cwe {
        lines.push(format!("CWE: {cwe}"));
    }
    lines.push(format!("Scanner: {}", finding.scanner));
    lines.push(format!("Lockstep finding id: {}", finding.id));
    let details = finding.description.trim();
    if !details.is_empty() {
        lines.push(String::new());
        lines.push(details.to_owned());
    }
    let text = lines.join("\n");
    match limit {
        Some(limit) => truncate(&text, limit),
        None => text,
    }
}

#[cfg(test)]
mod tests;
