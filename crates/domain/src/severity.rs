//! Severity → ticket priority mappings: impact, urgency and category for ServiceNow, a priority
//! name for Jira, a priority name with optional urgency and impact names for ServiceDesk Plus.
//! Stored per integration and editable by an admin.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
}

/// What a severity becomes on a ServiceDesk Plus request: a priority name and, for templates that
/// make them mandatory (or admins who want them), urgency and impact names. All three are names
/// of the instance's lookups, checked against them when the mapping is saved and before a create.
///
/// JSON: a bare priority name (`"High"`, the form older mappings were stored in) or
/// `{"priority": "High", "urgency": "Urgent", "impact": "Affects Business"}`; the bare form is
/// written whenever urgency and impact are unset, so existing documents read back unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelNames {
    pub priority: Label,
    pub urgency: Option<Label>,
    pub impact: Option<Label>,
}

impl LevelNames {
    /// Only a priority: urgency and impact left to the request template.
    pub fn priority(priority: Label) -> Self {
        Self {
            priority,
            urgency: None,
            impact: None,
        }
    }
}

/// The object form of [`LevelNames`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelObject {
    priority: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    urgency: Option<Label>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    impact: Option<Label>,
}

impl Serialize for LevelNames {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.urgency.is_none() && self.impact.is_none() {
            return self.priority.serialize(s);
        }
        LevelObject {
            priority: self.priority.clone(),
            urgency: self.urgency.clone(),
            impact: self.impact.clone(),
        }
        .serialize(s)
    }
}

/// Reads either form with serde's own errors (an untagged enum would only say "did not match
/// any variant", which tells an admin nothing).
impl<'de> Deserialize<'de> for LevelNames {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = LevelNames;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a priority name or {\"priority\", \"urgency\", \"impact\"} with lookup names",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LevelNames, E> {
                let priority = Label::parse(v).map_err(E::custom)?;
                Ok(LevelNames {
                    priority,
                    urgency: None,
                    impact: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LevelNames, A::Error> {
                let o = LevelObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(LevelNames {
                    priority: o.priority,
                    urgency: o.urgency,
                    impact: o.impact,
                })
            }
        }
        d.deserialize_any(Either)
    }
}

impl BySeverity<LevelNames> {
    /// ServiceDesk Plus ships four priorities, Low < Normal < Medium < High (there is no default
    /// "Urgent" priority; that name is an urgency). Critical and high findings share High.
    /// Urgency and impact are left to the template's defaults until an admin maps them.
    pub fn manageengine_default() -> Self {
        Self {
            critical: LevelNames::priority(Label::known("High")),
            high: LevelNames::priority(Label::known("High")),
            medium: LevelNames::priority(Label::known("Medium")),
            low: LevelNames::priority(Label::known("Normal")),
            info: LevelNames::priority(Label::known("Low")),
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
                .priority
                .as_str(),
            "Normal"
        );
    }

    #[test]
    fn level_names_read_a_bare_priority_or_an_object_and_write_the_bare_form_back() {
        let bare: LevelNames = serde_json::from_str(r#""High""#).unwrap();
        assert_eq!(bare, LevelNames::priority(Label::known("High")));
        assert_eq!(serde_json::to_string(&bare).unwrap(), r#""High""#);
        let json = r#"{"priority":"High","urgency":"Urgent","impact":"Affects Business"}"#;
        let full: LevelNames = serde_json::from_str(json).unwrap();
        assert_eq!(full.urgency.as_ref().unwrap().as_str(), "Urgent");
        assert_eq!(full.impact.as_ref().unwrap().as_str(), "Affects Business");
        assert_eq!(serde_json::to_string(&full).unwrap(), json);
        let only_impact: LevelNames =
            serde_json::from_str(r#"{"priority": "Low", "impact": "Affects User"}"#).unwrap();
        assert!(only_impact.urgency.is_none());

        let typo = serde_json::from_str::<LevelNames>(r#"{"priority": "Low", "urgent": "x"}"#);
        assert!(
            typo.unwrap_err()
                .to_string()
                .contains("unknown field `urgent`")
        );
        let no_priority = serde_json::from_str::<LevelNames>(r#"{"urgency": "High"}"#);
        assert!(
            no_priority
                .unwrap_err()
                .to_string()
                .contains("missing field `priority`")
        );
        assert!(serde_json::from_str::<LevelNames>(r#""  ""#).is_err());
        assert!(serde_json::from_str::<LevelNames>("3").is_err());
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
