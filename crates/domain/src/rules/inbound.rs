//! Inbound status rules: what a vendor ticket state means for the finding. Plain data that an
//! admin edits per integration; defaults per kind of ticket.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::label::{Label, same_name};
use crate::observation::TicketObservation;
use crate::ticket::TicketKind;
use crate::vocab::FindingStatus;

/// What a ticket state says about its finding. Written in config as one word: a finding status
/// (`open`, `in_progress`, …), `done` or `neutral`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum InboundEffect {
    /// The finding should have this status.
    SetStatus(FindingStatus),
    /// The ticket's work is finished: the finding goes to `closed` when the integration
    /// auto-closes on resolve, else to `re_test` for an analyst to verify the fix.
    Done,
    /// The state says nothing about the finding (a canceled ticket, a duplicate): the finding
    /// shows the status Lockstep itself last gave it.
    Neutral,
}

impl InboundEffect {
    pub const fn as_str(&self) -> &'static str {
        match self {
            InboundEffect::SetStatus(status) => status.as_str(),
            InboundEffect::Done => "done",
            InboundEffect::Neutral => "neutral",
        }
    }
}

impl fmt::Display for InboundEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InboundEffect {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "done" => Ok(InboundEffect::Done),
            "neutral" => Ok(InboundEffect::Neutral),
            other => other.parse().map(InboundEffect::SetStatus).map_err(|_| {
                DomainError::invalid(
                    "inbound effect",
                    s,
                    "done, neutral, or a finding status (open in_progress re_test closed \
                     risk_accepted false_positive)",
                )
            }),
        }
    }
}

impl TryFrom<String> for InboundEffect {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<InboundEffect> for String {
    fn from(effect: InboundEffect) -> String {
        effect.as_str().to_owned()
    }
}

/// Which part of an observation a state rule looks at. Written as `{"code": "6"}`,
/// `{"name": "On Hold"}` or `{"category": "done"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateMatch {
    /// The raw state code, compared exactly (ServiceNow `state` values).
    Code(Label),
    /// The state's name, ignoring case (Jira and ServiceDesk Plus status names).
    Name(Label),
    /// The vendor's state category, ignoring case (Jira status categories).
    Category(Label),
}

impl StateMatch {
    fn matches(&self, obs: &TicketObservation) -> bool {
        match self {
            StateMatch::Code(code) => code.as_str() == obs.vendor_state.trim(),
            StateMatch::Name(name) => obs
                .vendor_state_label
                .as_deref()
                .is_some_and(|label| name.matches(label)),
            StateMatch::Category(category) => obs
                .vendor_state_category
                .as_deref()
                .is_some_and(|c| category.matches(c)),
        }
    }

    /// Whether two matchers would claim the same observations.
    fn overlaps(&self, other: &StateMatch) -> bool {
        match (self, other) {
            (StateMatch::Code(a), StateMatch::Code(b)) => a == b,
            (StateMatch::Name(a), StateMatch::Name(b))
            | (StateMatch::Category(a), StateMatch::Category(b)) => {
                same_name(a.as_str(), b.as_str())
            }
            _ => false,
        }
    }

    /// Codes are the most specific, then names, then categories.
    const fn precedence(&self) -> u8 {
        match self {
            StateMatch::Code(_) => 0,
            StateMatch::Name(_) => 1,
            StateMatch::Category(_) => 2,
        }
    }
}

impl fmt::Display for StateMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateMatch::Code(code) => write!(f, "state code {:?}", code.as_str()),
            StateMatch::Name(name) => write!(f, "state name {:?}", name.as_str()),
            StateMatch::Category(category) => write!(f, "state category {:?}", category.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRule {
    pub when: StateMatch,
    pub effect: InboundEffect,
}

/// Refines a `done` state by how the ticket was closed, such as Jira's "Won't Fix".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionRule {
    /// Compared with the observation's resolution ignoring case.
    pub resolution: Label,
    pub effect: InboundEffect,
}

/// The rule that decided an observation's meaning, and why, for the activity feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    pub effect: InboundEffect,
    pub reason: String,
}

/// The inbound rules of one kind of ticket. A state is matched by code first, then by name, then
/// by category, whatever the order of the list, so an admin can override one Jira status by name
/// while its category rule covers the rest. Two rules for the same code, name or category are
/// rejected when the rules are built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawInboundRules")]
pub struct InboundRules {
    states: Vec<StateRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resolutions: Vec<ResolutionRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInboundRules {
    states: Vec<StateRule>,
    #[serde(default)]
    resolutions: Vec<ResolutionRule>,
}

impl TryFrom<RawInboundRules> for InboundRules {
    type Error = DomainError;
    fn try_from(raw: RawInboundRules) -> Result<Self, Self::Error> {
        InboundRules::new(raw.states, raw.resolutions)
    }
}

impl InboundRules {
    pub fn new(
        states: Vec<StateRule>,
        resolutions: Vec<ResolutionRule>,
    ) -> Result<Self, DomainError> {
        for (i, rule) in states.iter().enumerate() {
            if states[..i]
                .iter()
                .any(|earlier| earlier.when.overlaps(&rule.when))
            {
                return Err(DomainError::DuplicateRule {
                    rules: "inbound state rules",
                    matcher: rule.when.to_string(),
                });
            }
        }
        for (i, rule) in resolutions.iter().enumerate() {
            if resolutions[..i]
                .iter()
                .any(|earlier| earlier.resolution.matches(rule.resolution.as_str()))
            {
                return Err(DomainError::DuplicateRule {
                    rules: "inbound resolution rules",
                    matcher: format!("resolution {:?}", rule.resolution.as_str()),
                });
            }
        }
        Ok(Self {
            states,
            resolutions,
        })
    }

    pub fn states(&self) -> &[StateRule] {
        &self.states
    }

    pub fn resolutions(&self) -> &[ResolutionRule] {
        &self.resolutions
    }

    /// What the observation means for its finding, or `None` when no rule knows its state.
    pub fn evaluate(&self, obs: &TicketObservation) -> Option<RuleMatch> {
        let state_rule = self
            .states
            .iter()
            .filter(|rule| rule.when.matches(obs))
            .min_by_key(|rule| rule.when.precedence())?;
        let mut reason = format!("{} means {}", state_rule.when, state_rule.effect);
        let refined = match (state_rule.effect, obs.resolution.as_deref()) {
            (InboundEffect::Done, Some(resolution)) => self
                .resolutions
                .iter()
                .find(|rule| rule.resolution.matches(resolution)),
            _ => None,
        };
        let effect = match refined {
            Some(rule) => {
                reason.push_str(&format!(
                    ", and resolution {:?} means {}",
                    rule.resolution.as_str(),
                    rule.effect
                ));
                rule.effect
            }
            None => state_rule.effect,
        };
        Some(RuleMatch { effect, reason })
    }

    /// The defaults for a kind of ticket; see [`super::defaults`] for the reasoning.
    pub fn default_for(kind: TicketKind) -> Self {
        super::defaults::inbound(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::fixtures::incident;

    fn label(s: &str) -> Label {
        Label::parse(s).unwrap()
    }

    fn rule(when: StateMatch, effect: &str) -> StateRule {
        StateRule {
            when,
            effect: effect.parse().unwrap(),
        }
    }

    #[test]
    fn effects_are_single_words() {
        for word in ["done", "neutral", "open", "in_progress", "risk_accepted"] {
            let effect: InboundEffect = word.parse().unwrap();
            assert_eq!(effect.to_string(), word);
        }
        let err = "resolved".parse::<InboundEffect>().unwrap_err().to_string();
        assert!(err.contains("done, neutral, or a finding status"), "{err}");
    }

    #[test]
    fn codes_beat_names_beat_categories_regardless_of_order() {
        let rules = InboundRules::new(
            vec![
                rule(StateMatch::Category(label("indeterminate")), "in_progress"),
                rule(StateMatch::Name(label("Waiting for vendor")), "neutral"),
                rule(StateMatch::Code(label("10007")), "open"),
            ],
            vec![],
        )
        .unwrap();
        let mut obs = incident("10007", 0);
        obs.vendor_state_label = Some("WAITING FOR VENDOR".to_owned());
        obs.vendor_state_category = Some("indeterminate".to_owned());
        assert_eq!(
            rules.evaluate(&obs).unwrap().effect,
            "open".parse().unwrap()
        );
        obs.vendor_state = "10008".to_owned();
        assert_eq!(rules.evaluate(&obs).unwrap().effect, InboundEffect::Neutral);
        obs.vendor_state_label = Some("Doing".to_owned());
        let matched = rules.evaluate(&obs).unwrap();
        assert_eq!(
            matched.reason,
            "state category \"indeterminate\" means in_progress"
        );
        obs.vendor_state_category = None;
        assert_eq!(rules.evaluate(&obs), None);
    }

    #[test]
    fn codes_match_exactly() {
        let rules =
            InboundRules::new(vec![rule(StateMatch::Code(label("6")), "done")], vec![]).unwrap();
        assert!(rules.evaluate(&incident("6", 0)).is_some());
        assert!(rules.evaluate(&incident("60", 0)).is_none());
    }

    #[test]
    fn resolutions_refine_only_done_states() {
        let rules = InboundRules::new(
            vec![
                rule(StateMatch::Code(label("6")), "done"),
                rule(StateMatch::Code(label("2")), "in_progress"),
            ],
            vec![ResolutionRule {
                resolution: label("Won't Fix"),
                effect: InboundEffect::SetStatus(FindingStatus::RiskAccepted),
            }],
        )
        .unwrap();
        let mut obs = incident("6", 0);
        obs.resolution = Some("won't fix".to_owned());
        let matched = rules.evaluate(&obs).unwrap();
        assert_eq!(
            matched.effect,
            InboundEffect::SetStatus(FindingStatus::RiskAccepted)
        );
        assert_eq!(
            matched.reason,
            "state code \"6\" means done, and resolution \"Won't Fix\" means risk_accepted"
        );
        obs.vendor_state = "2".to_owned();
        assert_eq!(
            rules.evaluate(&obs).unwrap().effect,
            InboundEffect::SetStatus(FindingStatus::InProgress)
        );
    }

    #[test]
    fn duplicate_rules_are_rejected() {
        let err = InboundRules::new(
            vec![
                rule(StateMatch::Name(label("On Hold")), "in_progress"),
                rule(StateMatch::Name(label("on hold")), "neutral"),
            ],
            vec![],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "inbound state rules has more than one rule for state name \"on hold\"; keep one"
        );
        // The same text as a code and as a name are different matchers.
        assert!(
            InboundRules::new(
                vec![
                    rule(StateMatch::Code(label("Open")), "open"),
                    rule(StateMatch::Name(label("Open")), "open"),
                ],
                vec![],
            )
            .is_ok()
        );
    }

    #[test]
    fn admins_write_rules_as_json() {
        let json = r#"{
            "states": [
                {"when": {"code": "6"}, "effect": "done"},
                {"when": {"name": "On Hold"}, "effect": "in_progress"}
            ],
            "resolutions": [{"resolution": "Duplicate", "effect": "neutral"}]
        }"#;
        let rules: InboundRules = serde_json::from_str(json).unwrap();
        assert_eq!(rules.states().len(), 2);
        let back = serde_json::to_string(&rules).unwrap();
        assert_eq!(serde_json::from_str::<InboundRules>(&back).unwrap(), rules);

        let typo = r#"{"states": [{"when": {"code": "6"}, "efect": "done"}]}"#;
        assert!(serde_json::from_str::<InboundRules>(typo).is_err());
        let dup = r#"{"states": [{"when": {"code": "6"}, "effect": "done"},
                                 {"when": {"code": "6"}, "effect": "open"}]}"#;
        let err = serde_json::from_str::<InboundRules>(dup).unwrap_err();
        assert!(err.to_string().contains("more than one rule"), "{err}");
    }
}
