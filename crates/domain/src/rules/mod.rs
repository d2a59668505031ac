//! An integration's mapping rules: severity → priority fields, vendor state → finding status
//! (inbound) and finding status → vendor state (outbound), per kind of ticket. Stored as JSON
//! per integration and edited by admins; every rule set is validated when it is built or parsed.

pub mod defaults;
mod document;
pub mod inbound;
pub mod outbound;
pub mod rows;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::label::Label;
use crate::severity::{BySeverity, LevelNames, ServiceNowFields};
use crate::ticket::TicketKind;
use crate::vocab::{Severity, Vendor};

use self::inbound::InboundRules;
use self::outbound::OutboundRules;

/// Everything mapped for one kind of ticket. `P` is what a severity becomes: ServiceNow fields, a
/// priority name for Jira, level names (priority, urgency, impact) for ServiceDesk Plus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRules<P> {
    pub severity: BySeverity<P>,
    pub inbound: InboundRules,
    pub outbound: OutboundRules,
}

impl<P> KindRules<P> {
    fn defaults(kind: TicketKind, severity: BySeverity<P>) -> Self {
        Self {
            severity,
            inbound: InboundRules::default_for(kind),
            outbound: OutboundRules::default_for(kind),
        }
    }
}

/// The mapping rules of one integration. ServiceNow incidents and change requests are mapped
/// separately because their states, close codes and categories differ.
///
/// JSON: `{"vendor": "servicenow", "incident": {…}, "change_request": {…}}`,
/// `{"vendor": "jira", "issue": {…}}`, `{"vendor": "manageengine", "request": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "vendor", deny_unknown_fields)]
pub enum MappingRules {
    #[serde(rename = "servicenow")]
    ServiceNow {
        incident: KindRules<ServiceNowFields>,
        change_request: KindRules<ServiceNowFields>,
    },
    #[serde(rename = "jira")]
    Jira { issue: KindRules<Label> },
    #[serde(rename = "manageengine")]
    ManageEngine { request: KindRules<LevelNames> },
}

/// What a severity maps to on one kind of ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappedPriority<'a> {
    ServiceNow(&'a ServiceNowFields),
    Named(&'a Label),
    Levels(&'a LevelNames),
}

enum Selected<'a> {
    ServiceNow(&'a KindRules<ServiceNowFields>),
    Named(&'a KindRules<Label>),
    Levels(&'a KindRules<LevelNames>),
}

impl MappingRules {
    /// The rules a new integration starts with.
    pub fn defaults(vendor: Vendor) -> Self {
        match vendor {
            Vendor::ServiceNow => MappingRules::ServiceNow {
                incident: KindRules::defaults(
                    TicketKind::ServiceNowIncident,
                    BySeverity::servicenow_default(),
                ),
                change_request: KindRules::defaults(
                    TicketKind::ServiceNowChangeRequest,
                    BySeverity::servicenow_default(),
                ),
            },
            Vendor::Jira => MappingRules::Jira {
                issue: KindRules::defaults(TicketKind::JiraIssue, BySeverity::jira_default()),
            },
            Vendor::ManageEngine => MappingRules::ManageEngine {
                request: KindRules::defaults(
                    TicketKind::ManageEngineRequest,
                    BySeverity::manageengine_default(),
                ),
            },
        }
    }

    pub fn vendor(&self) -> Vendor {
        match self {
            MappingRules::ServiceNow { .. } => Vendor::ServiceNow,
            MappingRules::Jira { .. } => Vendor::Jira,
            MappingRules::ManageEngine { .. } => Vendor::ManageEngine,
        }
    }

    fn select(&self, kind: TicketKind) -> Result<Selected<'_>, DomainError> {
        match (self, kind) {
            (MappingRules::ServiceNow { incident, .. }, TicketKind::ServiceNowIncident) => {
                Ok(Selected::ServiceNow(incident))
            }
            (
                MappingRules::ServiceNow { change_request, .. },
                TicketKind::ServiceNowChangeRequest,
            ) => Ok(Selected::ServiceNow(change_request)),
            (MappingRules::Jira { issue }, TicketKind::JiraIssue) => Ok(Selected::Named(issue)),
            (MappingRules::ManageEngine { request }, TicketKind::ManageEngineRequest) => {
                Ok(Selected::Levels(request))
            }
            _ => Err(DomainError::VendorMismatch {
                what: "mapping rules".to_owned(),
                expected: self.vendor(),
                found: kind.vendor(),
            }),
        }
    }

    pub fn inbound(&self, kind: TicketKind) -> Result<&InboundRules, DomainError> {
        Ok(match self.select(kind)? {
            Selected::ServiceNow(rules) => &rules.inbound,
            Selected::Named(rules) => &rules.inbound,
            Selected::Levels(rules) => &rules.inbound,
        })
    }

    pub fn outbound(&self, kind: TicketKind) -> Result<&OutboundRules, DomainError> {
        Ok(match self.select(kind)? {
            Selected::ServiceNow(rules) => &rules.outbound,
            Selected::Named(rules) => &rules.outbound,
            Selected::Levels(rules) => &rules.outbound,
        })
    }

    pub fn priority(
        &self,
        kind: TicketKind,
        severity: Severity,
    ) -> Result<MappedPriority<'_>, DomainError> {
        Ok(match self.select(kind)? {
            Selected::ServiceNow(rules) => MappedPriority::ServiceNow(rules.severity.get(severity)),
            Selected::Named(rules) => MappedPriority::Named(rules.severity.get(severity)),
            Selected::Levels(rules) => MappedPriority::Levels(rules.severity.get(severity)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::fixtures::finding;
    use crate::observation::fixtures::incident;
    use crate::vocab::FindingStatus;

    fn effect_of(
        kind: TicketKind,
        code: &str,
        label: Option<&str>,
        category: Option<&str>,
        resolution: Option<&str>,
    ) -> Option<String> {
        let mut obs = incident(code, 0);
        obs.vendor_state_label = label.map(str::to_owned);
        obs.vendor_state_category = category.map(str::to_owned);
        obs.resolution = resolution.map(str::to_owned);
        InboundRules::default_for(kind)
            .evaluate(&obs)
            .map(|m| m.effect.to_string())
    }

    #[test]
    fn servicenow_incident_defaults() {
        let kind = TicketKind::ServiceNowIncident;
        let cases = [
            ("1", "open"),
            ("2", "in_progress"),
            ("3", "in_progress"),
            ("6", "done"),
        ];
        for (code, effect) in cases {
            assert_eq!(
                effect_of(kind, code, None, None, None).as_deref(),
                Some(effect)
            );
        }
        assert_eq!(
            effect_of(kind, "7", None, None, Some("Solution provided")).unwrap(),
            "done"
        );
        assert_eq!(
            effect_of(kind, "7", None, None, Some("Duplicate")).unwrap(),
            "neutral"
        );
        assert_eq!(effect_of(kind, "8", None, None, None).unwrap(), "neutral");
        assert_eq!(effect_of(kind, "9", Some("Resolved"), None, None), None);
    }

    #[test]
    fn servicenow_change_defaults() {
        let kind = TicketKind::ServiceNowChangeRequest;
        assert_eq!(effect_of(kind, "-5", None, None, None).unwrap(), "open");
        for code in ["-4", "-3", "-2", "-1", "0"] {
            assert_eq!(
                effect_of(kind, code, None, None, None).unwrap(),
                "in_progress"
            );
        }
        assert_eq!(
            effect_of(kind, "3", None, None, Some("successful")).unwrap(),
            "done"
        );
        assert_eq!(
            effect_of(kind, "3", None, None, Some("Unsuccessful")).unwrap(),
            "open"
        );
        assert_eq!(effect_of(kind, "4", None, None, None).unwrap(), "neutral");
    }

    #[test]
    fn jira_defaults_use_categories_and_resolutions() {
        let kind = TicketKind::JiraIssue;
        assert_eq!(
            effect_of(kind, "10003", Some("To Do"), Some("new"), None).unwrap(),
            "open"
        );
        let doing = effect_of(kind, "3", Some("Code review"), Some("indeterminate"), None);
        assert_eq!(doing.unwrap(), "in_progress");
        assert_eq!(
            effect_of(kind, "10001", None, Some("done"), None).unwrap(),
            "done"
        );
        let wont_fix = effect_of(kind, "10001", None, Some("done"), Some("won't fix"));
        assert_eq!(wont_fix.unwrap(), "risk_accepted");
        let not_a_bug = effect_of(kind, "10001", None, Some("done"), Some("Not a Bug"));
        assert_eq!(not_a_bug.unwrap(), "false_positive");
        let cannot = effect_of(kind, "10001", None, Some("done"), Some("Cannot Reproduce"));
        assert_eq!(cannot.unwrap(), "done");
        // A reopened issue keeps its stale resolution; it must not count.
        let reopened = effect_of(kind, "10003", None, Some("new"), Some("Won't Fix"));
        assert_eq!(reopened.unwrap(), "open");
        assert_eq!(effect_of(kind, "1", None, Some("undefined"), None), None);
    }

    #[test]
    fn manageengine_defaults_use_names_then_status_types() {
        let kind = TicketKind::ManageEngineRequest;
        let by_name = |name| {
            effect_of(
                kind,
                "123640000000006657",
                Some(name),
                Some("in_progress"),
                None,
            )
        };
        assert_eq!(by_name("Open").unwrap(), "open");
        assert_eq!(by_name("on hold").unwrap(), "in_progress");
        assert_eq!(by_name("Resolved").unwrap(), "done");
        assert_eq!(by_name("Cancelled").unwrap(), "neutral");
        assert_eq!(by_name("Waiting for parts").unwrap(), "in_progress");
        let custom_done = effect_of(kind, "1", Some("Fixed"), Some("completed"), None);
        assert_eq!(custom_done.unwrap(), "done");
    }

    #[test]
    fn outbound_defaults_resolve_with_a_close_code() {
        let rules = OutboundRules::default_for(TicketKind::ServiceNowIncident);
        let mut finding = finding();
        finding.status = FindingStatus::RiskAccepted;
        let push = rules.push_for(&finding).unwrap();
        assert_eq!(push.state.as_str(), "6");
        assert_eq!(push.close_code.unwrap().as_str(), "No resolution provided");
        assert!(push.close_notes.unwrap().contains("NES-19506"));

        let change = OutboundRules::default_for(TicketKind::ServiceNowChangeRequest);
        let closed = change.rule_for(FindingStatus::Closed).unwrap();
        assert_eq!(
            (
                closed.state.as_str(),
                closed.close_code.as_ref().unwrap().as_str()
            ),
            ("3", "successful")
        );
        let jira = OutboundRules::default_for(TicketKind::JiraIssue);
        assert_eq!(
            jira.rule_for(FindingStatus::Closed).unwrap().state.as_str(),
            "Done"
        );
        let sdp = OutboundRules::default_for(TicketKind::ManageEngineRequest);
        assert_eq!(
            sdp.rule_for(FindingStatus::Closed).unwrap().state.as_str(),
            "Resolved"
        );
        for kind in [TicketKind::ServiceNowIncident, TicketKind::JiraIssue] {
            let rules = OutboundRules::default_for(kind);
            assert!(rules.rule_for(FindingStatus::Open).is_none());
            assert!(rules.rule_for(FindingStatus::ReTest).is_none());
        }
    }

    #[test]
    fn rules_are_selected_by_kind_and_vendor_mismatches_are_errors() {
        let rules = MappingRules::defaults(Vendor::ServiceNow);
        let change = rules.inbound(TicketKind::ServiceNowChangeRequest).unwrap();
        assert_eq!(
            change,
            &InboundRules::default_for(TicketKind::ServiceNowChangeRequest)
        );
        match rules
            .priority(TicketKind::ServiceNowIncident, Severity::Critical)
            .unwrap()
        {
            MappedPriority::ServiceNow(fields) => assert_eq!(fields.impact.value(), 1),
            other => panic!("ServiceNow maps to fields, got {other:?}"),
        }
        let err = rules.outbound(TicketKind::JiraIssue).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mapping rules (servicenow) cannot be used with a jira ticket"
        );
    }

    #[test]
    fn every_default_rule_set_round_trips_through_json() {
        for vendor in Vendor::ALL {
            let rules = MappingRules::defaults(*vendor);
            let json = serde_json::to_value(&rules).unwrap();
            assert_eq!(json["vendor"], vendor.as_str());
            assert_eq!(serde_json::from_value::<MappingRules>(json).unwrap(), rules);
        }
        let unknown = r#"{"vendor": "jira", "issue": {}, "extra": 1}"#;
        assert!(serde_json::from_str::<MappingRules>(unknown).is_err());
    }
}
