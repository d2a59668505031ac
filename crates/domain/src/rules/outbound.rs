//! Outbound status rules: which vendor state a ticket is moved to when its finding's status
//! changes on our side. Plain data that an admin edits per integration; defaults per kind.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::finding::Finding;
use crate::label::Label;
use crate::template::Template;
use crate::ticket::TicketKind;
use crate::vocab::FindingStatus;

/// Moves the ticket when the finding reaches `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundRule {
    pub status: FindingStatus,
    /// The vendor state to move to: a ServiceNow `state` value (`"6"`), a Jira status name (the
    /// connector picks the transition leading there) or a ServiceDesk Plus status name.
    pub state: Label,
    /// ServiceNow `close_code`, Jira resolution or ServiceDesk Plus closure code. Valid values are
    /// instance-specific (ServiceNow's changed between releases), hence configurable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_code: Option<Label>,
    /// ServiceNow `close_notes`; a comment on Jira; the resolution text on ServiceDesk Plus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_notes: Option<Template>,
}

/// What the ticket writer should send for one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundPush {
    pub state: Label,
    pub close_code: Option<Label>,
    pub close_notes: Option<String>,
}

/// The outbound rules of one kind of ticket: at most one rule per finding status. A status
/// without a rule leaves the ticket alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<OutboundRule>", into = "Vec<OutboundRule>")]
pub struct OutboundRules(Vec<OutboundRule>);

impl OutboundRules {
    pub fn new(rules: Vec<OutboundRule>) -> Result<Self, DomainError> {
        for (i, rule) in rules.iter().enumerate() {
            if rules[..i]
                .iter()
                .any(|earlier| earlier.status == rule.status)
            {
                return Err(DomainError::DuplicateRule {
                    rules: "outbound rules",
                    matcher: format!("finding status {}", rule.status),
                });
            }
        }
        Ok(Self(rules))
    }

    pub fn rules(&self) -> &[OutboundRule] {
        &self.0
    }

    pub fn rule_for(&self, status: FindingStatus) -> Option<&OutboundRule> {
        self.0.iter().find(|rule| rule.status == status)
    }

    /// What to send to the finding's ticket for its current status, if anything.
    pub fn push_for(&self, finding: &Finding) -> Option<OutboundPush> {
        self.rule_for(finding.status).map(|rule| OutboundPush {
            state: rule.state.clone(),
            close_code: rule.close_code.clone(),
            close_notes: rule.close_notes.as_ref().map(|t| t.render(finding)),
        })
    }

    /// The defaults for a kind of ticket; see [`super::defaults`] for the reasoning.
    pub fn default_for(kind: TicketKind) -> Self {
        super::defaults::outbound(kind)
    }
}

impl TryFrom<Vec<OutboundRule>> for OutboundRules {
    type Error = DomainError;
    fn try_from(rules: Vec<OutboundRule>) -> Result<Self, Self::Error> {
        Self::new(rules)
    }
}

impl From<OutboundRules> for Vec<OutboundRule> {
    fn from(rules: OutboundRules) -> Self {
        rules.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::fixtures::finding;

    #[test]
    fn pushes_render_close_notes_for_the_finding() {
        let rules: OutboundRules = serde_json::from_str(
            r#"[{"status": "closed", "state": "6", "close_code": "Solution provided",
                 "close_notes": "Fixed {key}"}]"#,
        )
        .unwrap();
        let mut finding = finding();
        assert_eq!(rules.push_for(&finding), None);
        finding.status = FindingStatus::Closed;
        let push = rules.push_for(&finding).unwrap();
        assert_eq!(push.state.as_str(), "6");
        assert_eq!(push.close_code.unwrap().as_str(), "Solution provided");
        assert_eq!(push.close_notes.unwrap(), "Fixed NES-19506");
    }

    #[test]
    fn one_rule_per_status() {
        let json = r#"[{"status": "closed", "state": "6"}, {"status": "closed", "state": "7"}]"#;
        let err = serde_json::from_str::<OutboundRules>(json).unwrap_err();
        assert!(
            err.to_string()
                .contains("more than one rule for finding status closed"),
            "{err}"
        );
        let typo = r#"[{"status": "closed", "state": "6", "close_note": "x"}]"#;
        assert!(serde_json::from_str::<OutboundRules>(typo).is_err());
    }
}
