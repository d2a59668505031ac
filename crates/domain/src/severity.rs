//! Severity → ticket priority mappings: impact, urgency and category for ServiceNow, a priority
//! name for Jira and ServiceDesk Plus. Stored per integration and editable by an admin.

use serde::{Deserialize, Serialize};

use crate::label::Label;
use crate::servicenow::{Impact, Urgency};
use crate::vocab::Severity;

/// One value per severity. A struct rather than a map, so a mapping can never miss a severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BySeverity<T> {
    pub critical: T,
    pub high: T,
    pub medium: T,
    pub low: T,
    pub info: T,
}

impl<T> BySeverity<T> {
    pub fn get(&self, severity: Severity) -> &T {
        match severity {
            Severity::Critical => &self.critical,
            Severity::High => &self.high,
            Severity::Medium => &self.medium,
            Severity::Low => &self.low,
            Severity::Info => &self.info,
        }
    }
}

/// What a severity becomes on a ServiceNow ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceNowFields {
    pub impact: Impact,
    pub urgency: Urgency,
    /// A `category` choice value such as `software`. `None` leaves the instance's default
    /// (base instances use `inquiry`): category choices are instance-specific, and ServiceNow
    /// silently drops a value it does not know, so we only send one an admin chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Label>,
}

impl ServiceNowFields {
    const fn new(impact: Impact, urgency: Urgency) -> Self {
        Self {
            impact,
            urgency,
            category: None,
        }
    }
}

impl BySeverity<ServiceNowFields> {
    /// Impact/urgency per severity, chosen so ServiceNow's base priority matrix yields
    /// critical → 1 Critical, high → 2 High, medium → 3 Moderate, low → 4 Low, info → 5 Planning.
    pub const fn servicenow_default() -> Self {
        Self {
            critical: ServiceNowFields::new(Impact::High, Urgency::High),
            high: ServiceNowFields::new(Impact::High, Urgency::Medium),
            medium: ServiceNowFields::new(Impact::Medium, Urgency::Medium),
            low: ServiceNowFields::new(Impact::Low, Urgency::Medium),
            info: ServiceNowFields::new(Impact::Low, Urgency::Low),
        }
    }
}

impl BySeverity<Label> {
    /// The five priorities of a new Jira Cloud site: Highest, High, Medium, Low, Lowest.
    pub fn jira_default() -> Self {
        Self {
            critical: Label::known("Highest"),
            high: Label::known("High"),
            medium: Label::known("Medium"),
            low: Label::known("Low"),
            info: Label::known("Lowest"),
        }
    }

    /// ServiceDesk Plus ships four priorities, Low < Normal < Medium < High (there is no default
    /// "Urgent" priority; that name is an urgency). Critical and high findings share High.
    pub fn manageengine_default() -> Self {
        Self {
            critical: Label::known("High"),
            high: Label::known("High"),
            medium: Label::known("Medium"),
            low: Label::known("Normal"),
            info: Label::known("Low"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servicenow::Priority;

    #[test]
    fn servicenow_defaults_give_one_priority_step_per_severity() {
        let mapping = BySeverity::servicenow_default();
        let priorities: Vec<u8> = Severity::ALL
            .iter()
            .map(|s| {
                let fields = mapping.get(*s);
                Priority::for_incident(fields.impact, fields.urgency).value()
            })
            .collect();
        assert_eq!(priorities, [1, 2, 3, 4, 5]);
        let low = mapping.get(Severity::Low);
        assert_eq!((low.impact.value(), low.urgency.value()), (3, 2));
    }

    #[test]
    fn named_defaults() {
        assert_eq!(
            BySeverity::jira_default().get(Severity::Critical).as_str(),
            "Highest"
        );
        assert_eq!(
            BySeverity::jira_default().get(Severity::Info).as_str(),
            "Lowest"
        );
        assert_eq!(
            BySeverity::manageengine_default()
                .get(Severity::Low)
                .as_str(),
            "Normal"
        );
    }

    #[test]
    fn admins_edit_mappings_as_json() {
        let json = r#"{
            "critical": {"impact": 1, "urgency": 1, "category": "software"},
            "high": {"impact": 1, "urgency": 2},
            "medium": {"impact": 2, "urgency": 2},
            "low": {"impact": 3, "urgency": 2},
            "info": {"impact": 3, "urgency": 3}
        }"#;
        let mapping: BySeverity<ServiceNowFields> = serde_json::from_str(json).unwrap();
        assert_eq!(
            mapping.critical.category.as_ref().unwrap().as_str(),
            "software"
        );
        let missing = r#"{"critical": {"impact": 1, "urgency": 1}}"#;
        let err = serde_json::from_str::<BySeverity<ServiceNowFields>>(missing).unwrap_err();
        assert!(err.to_string().contains("missing field `high`"), "{err}");
    }
}
