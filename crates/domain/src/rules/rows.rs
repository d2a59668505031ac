//! The display rows of a rule set: one per kind of ticket and severity, with what the severity
//! maps to (impact, urgency and the priority they make on ServiceNow; a named priority on Jira;
//! priority, urgency and impact names on ServiceDesk Plus). Shown by the API and the CLI.

use super::{KindRules, MappingRules};
use crate::label::Label;
use crate::servicenow::Priority;
use crate::severity::{BySeverity, LevelNames, ServiceNowFields};
use crate::vocab::Severity;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SeverityRow {
    pub kind: &'static str,
    pub severity: &'static str,
    pub impact: String,
    pub urgency: String,
    pub priority: String,
    pub category: String,
}

fn servicenow(
    out: &mut Vec<SeverityRow>,
    kind: &'static str,
    by: &BySeverity<ServiceNowFields>,
    incident: bool,
) {
    for severity in Severity::ALL {
        let f = by.get(*severity);
        out.push(SeverityRow {
            kind,
            severity: severity.as_str(),
            impact: f.impact.to_string(),
            urgency: f.urgency.to_string(),
            priority: if incident {
                Priority::for_incident(f.impact, f.urgency).to_string()
            } else {
                "computed by ServiceNow".to_owned()
            },
            category: f
                .category
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
        });
    }
}

fn named(out: &mut Vec<SeverityRow>, kind: &'static str, rules: &KindRules<Label>) {
    for severity in Severity::ALL {
        out.push(SeverityRow {
            kind,
            severity: severity.as_str(),
            priority: rules.severity.get(*severity).as_str().to_owned(),
            ..SeverityRow::default()
        });
    }
}

/// ServiceDesk Plus: the priority, urgency and impact names (blank when the template decides).
fn levels(out: &mut Vec<SeverityRow>, kind: &'static str, rules: &KindRules<LevelNames>) {
    let name = |l: &Option<Label>| {
        l.as_ref()
            .map(|l| l.as_str().to_owned())
            .unwrap_or_default()
    };
    for severity in Severity::ALL {
        let l = rules.severity.get(*severity);
        out.push(SeverityRow {
            kind,
            severity: severity.as_str(),
            impact: name(&l.impact),
            urgency: name(&l.urgency),
            priority: l.priority.as_str().to_owned(),
            category: String::new(),
        });
    }
}

impl MappingRules {
    /// The display rows, kind by kind, severities in order.
    pub fn severity_rows(&self) -> Vec<SeverityRow> {
        let mut out = Vec::new();
        match self {
            MappingRules::ServiceNow {
                incident,
                change_request,
            } => {
                servicenow(&mut out, "incident", &incident.severity, true);
                servicenow(&mut out, "change_request", &change_request.severity, false);
            }
            MappingRules::Jira { issue } => named(&mut out, "issue", issue),
            MappingRules::ManageEngine { request } => levels(&mut out, "request", request),
        }
        out
    }
}
