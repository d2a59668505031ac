//! Reading a rule document an admin edited by hand, with errors that name the JSON path of the
//! bad value (`incident.severity.low.impact`). Serde's internally tagged enums buffer the whole
//! document before reading a variant, which loses both position and path, so the document is
//! read through a flat struct with the tag as a plain field and tracked by
//! `serde_path_to_error`.

use serde::Deserialize;

use super::{KindRules, MappingRules};
use crate::label::Label;
use crate::severity::{LevelNames, ServiceNowFields};
use crate::vocab::Vendor;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    /// The tag's spelling (`servicenow`), which is not the serde name of [`Vendor`].
    vendor: String,
    incident: Option<KindRules<ServiceNowFields>>,
    change_request: Option<KindRules<ServiceNowFields>>,
    issue: Option<KindRules<Label>>,
    request: Option<KindRules<LevelNames>>,
}

impl MappingRules {
    /// Parses a rule document (the JSON of [`MappingRules`]). The error names where the problem
    /// is and what is wrong.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let mut reader = serde_json::Deserializer::from_str(text);
        let doc: Document = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                e.inner().to_string()
            } else {
                format!("at {path}: {}", e.inner())
            }
        })?;
        reader.end().map_err(|e| e.to_string())?;
        let vendor: Vendor = doc
            .vendor
            .parse()
            .map_err(|e: crate::vocab::ParseVocabError| format!("at vendor: {e}"))?;
        let missing = |field: &str| format!("a {vendor} rule document needs {field:?}");
        let fields = [
            ("incident", doc.incident.is_some()),
            ("change_request", doc.change_request.is_some()),
            ("issue", doc.issue.is_some()),
            ("request", doc.request.is_some()),
        ];
        let belongs: &[&str] = match vendor {
            Vendor::ServiceNow => &["incident", "change_request"],
            Vendor::Jira => &["issue"],
            Vendor::ManageEngine => &["request"],
        };
        if let Some((field, _)) = fields.iter().find(|(f, set)| *set && !belongs.contains(f)) {
            return Err(format!(
                "{field:?} does not belong in a {vendor} rule document; it takes {}",
                belongs.join(" and ")
            ));
        }
        let rules = match vendor {
            Vendor::ServiceNow => MappingRules::ServiceNow {
                incident: doc.incident.ok_or_else(|| missing("incident"))?,
                change_request: doc
                    .change_request
                    .ok_or_else(|| missing("change_request"))?,
            },
            Vendor::Jira => MappingRules::Jira {
                issue: doc.issue.ok_or_else(|| missing("issue"))?,
            },
            Vendor::ManageEngine => MappingRules::ManageEngine {
                request: doc.request.ok_or_else(|| missing("request"))?,
            },
        };
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_and_errors_name_the_path() {
        let rules = MappingRules::defaults(Vendor::ServiceNow);
        let text = serde_json::to_string_pretty(&rules).unwrap();
        assert_eq!(MappingRules::from_json(&text).unwrap(), rules);
        let jira = MappingRules::defaults(Vendor::Jira);
        assert_eq!(
            MappingRules::from_json(&serde_json::to_string(&jira).unwrap()).unwrap(),
            jira
        );

        let mut doc = serde_json::to_value(&rules).unwrap();
        doc["incident"]["severity"]["low"]["impact"] = 9.into();
        let err = MappingRules::from_json(&doc.to_string()).unwrap_err();
        assert!(
            err.starts_with("at incident.severity.low.impact: impact must be"),
            "{err}"
        );

        let err = MappingRules::from_json(r#"{"vendor": "servicenow"}"#).unwrap_err();
        assert!(err.contains("needs \"incident\""), "{err}");
        let mut doc = serde_json::to_value(&rules).unwrap();
        doc["issue"] = serde_json::to_value(&jira).unwrap()["issue"].clone();
        let err = MappingRules::from_json(&doc.to_string()).unwrap_err();
        assert!(err.contains("\"issue\" does not belong"), "{err}");
        assert!(MappingRules::from_json(r#"{"vendor": "servicenow", "x": 1}"#).is_err());
    }

    #[test]
    fn servicedesk_documents_take_bare_priorities_or_level_objects() {
        let rules = MappingRules::defaults(Vendor::ManageEngine);
        let mut doc = serde_json::to_value(&rules).unwrap();
        assert_eq!(doc["request"]["severity"]["low"], "Normal");
        doc["request"]["severity"]["critical"] = serde_json::json!({"priority": "High", "urgency": "Urgent", "impact": "Affects Business"});
        let parsed = MappingRules::from_json(&doc.to_string()).unwrap();
        let rows = parsed.severity_rows();
        let critical = rows.iter().find(|r| r.severity == "critical").unwrap();
        assert_eq!(
            (
                critical.priority.as_str(),
                critical.urgency.as_str(),
                critical.impact.as_str()
            ),
            ("High", "Urgent", "Affects Business")
        );
        assert_eq!(
            rows.iter().find(|r| r.severity == "low").unwrap().urgency,
            ""
        );
        assert_eq!(serde_json::to_value(&parsed).unwrap(), doc);

        doc["request"]["severity"]["high"] = serde_json::json!({"priority": "High", "urgency": ""});
        let err = MappingRules::from_json(&doc.to_string()).unwrap_err();
        assert!(err.starts_with("at request.severity.high"), "{err}");
    }
}
