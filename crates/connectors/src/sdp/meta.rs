//! What an instance accepts: its lookups (priority, urgency, impact, status, category, group,
//! closure code), UDFs and mandatory fields from `GET /requests/_metainfo` (reference B3), and the
//! request templates. Read once and reused for [`super::client::SdpConfig::metadata_ttl`]; used by
//! the field metadata, the mapping check and the pre-create check of mandatory fields.
//!
//! UNCONFIRMED in the reference and chosen here: the lookup endpoint names (`priorities`,
//! `urgencies`, `impacts`, `statuses`, `closure_codes`, `categories`, `groups`), and where
//! `_metainfo` lists the templates' mandatory fields (`metainfo.templates[].mandatory_fields`,
//! besides `metainfo.fields.<name>.mandatory`). An endpoint that does not exist on a build leaves
//! its list out and the metadata partial.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use futures::future::join_all;
use http::Method;
use lockstep_domain::{MappingRules, Severity, TicketTarget};
use serde_json::{Value, json};

use super::client::{SdpCall, SdpClient};
use crate::connector::{Choice, FieldInfo, FieldMetadata, MappingCheck};
use crate::error::{ConnectorError, Result};

/// Lookup fields and the endpoint listing their values.
const LOOKUPS: &[(&str, &str)] = &[
    ("priority", "priorities"),
    ("urgency", "urgencies"),
    ("impact", "impacts"),
    ("status", "statuses"),
    ("closure_code", "closure_codes"),
    ("category", "categories"),
    ("group", "groups"),
];

/// A status and whether it is an In Progress one (else Completed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusInfo {
    pub name: String,
    pub internal_name: Option<String>,
    pub in_progress: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Instance {
    pub lookups: BTreeMap<&'static str, Vec<Choice>>,
    pub statuses: Vec<StatusInfo>,
    /// UDF key → display name.
    pub udfs: BTreeMap<String, String>,
    /// Fields every request needs (`_metainfo` `mandatory` flags and the default template's).
    pub mandatory: BTreeSet<String>,
    pub default_template: Option<String>,
    /// Lists that could not be read, with why.
    pub missing: Vec<String>,
}

impl Instance {
    pub fn choices(&self, field: &str) -> Option<&[Choice]> {
        self.lookups.get(field).map(Vec::as_slice)
    }

    /// Whether `field` accepts `name` (ignoring case); `None` when its list is unknown.
    pub fn accepts(&self, field: &str, name: &str) -> Option<bool> {
        self.choices(field)
            .map(|c| c.iter().any(|c| c.label.eq_ignore_ascii_case(name.trim())))
    }

    pub fn status(&self, name: &str) -> Option<&StatusInfo> {
        self.statuses
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
    }

    /// Mandatory fields a request body does not set, with their display names for UDFs.
    pub fn missing_mandatory(&self, request: &Value) -> Vec<String> {
        let set = |f: &str| {
            let v = if f.starts_with("udf_") {
                request.get("udf_fields").and_then(|u| u.get(f))
            } else {
                request.get(f)
            };
            v.is_some_and(|v| !v.is_null() && v != "")
        };
        self.mandatory
            .iter()
            .filter(|f| !set(f))
            .map(|f| match self.udfs.get(f) {
                Some(display) => format!("{f} ({display})"),
                None => f.clone(),
            })
            .collect()
    }
}

fn choices_of(items: &[Value]) -> Vec<Choice> {
    items
        .iter()
        .filter_map(|i| {
            let name = i.get("name").and_then(Value::as_str)?.to_owned();
            let id = super::record::id_of(i.get("id")).unwrap_or_else(|| name.clone());
            Some(Choice {
                value: id,
                label: name,
                sequence: None,
            })
        })
        .collect()
}

impl SdpClient {
    /// The instance's metadata, read when older than the configured TTL.
    pub async fn instance(&self) -> Result<Arc<Instance>> {
        let mut cache = self.inner.instance.lock().await;
        if let Some((at, cached)) = cache.as_ref()
            && at.elapsed() < self.inner.config.metadata_ttl
        {
            return Ok(cached.clone());
        }
        let fresh = Arc::new(self.read_instance().await?);
        *cache = Some((Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    async fn read_instance(&self) -> Result<Instance> {
        let meta = self
            .call(&SdpCall::new("metainfo", Method::GET, "requests/_metainfo"))
            .await?;
        let mut instance = Instance::default();
        let m = meta.get("metainfo").unwrap_or(&Value::Null);
        if let Some(udfs) = m
            .pointer("/fields/udf_fields/fields")
            .and_then(Value::as_object)
        {
            for (key, def) in udfs {
                let display = def
                    .get("display_name")
                    .and_then(Value::as_str)
                    .unwrap_or(key);
                instance.udfs.insert(key.clone(), display.to_owned());
            }
        }
        if let Some(fields) = m.get("fields").and_then(Value::as_object) {
            for (name, def) in fields {
                if def.get("mandatory").is_some_and(|v| v == true) {
                    instance.mandatory.insert(name.clone());
                }
            }
        }
        let templates = m
            .get("templates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let default = templates
            .iter()
            .find(|t| t.get("is_default").is_some_and(|v| v == true))
            .or(templates.first());
        if let Some(t) = default {
            instance.default_template = t.get("name").and_then(Value::as_str).map(str::to_owned);
            for f in t
                .get("mandatory_fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(f) = f.as_str() {
                    instance.mandatory.insert(f.to_owned());
                }
            }
        }
        let calls = LOOKUPS.iter().map(|(field, endpoint)| async move {
            let call = SdpCall::new("lookup_list", Method::GET, *endpoint)
                .input(json!({"list_info": {"row_count": 100}}));
            (*field, *endpoint, self.call(&call).await)
        });
        for (field, endpoint, answer) in join_all(calls).await {
            match answer {
                Ok(body) => {
                    let items = body
                        .get(endpoint)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    if field == "status" {
                        instance.statuses = items
                            .iter()
                            .filter_map(|s| {
                                Some(StatusInfo {
                                    name: s.get("name").and_then(Value::as_str)?.to_owned(),
                                    internal_name: s
                                        .get("internal_name")
                                        .and_then(Value::as_str)
                                        .map(str::to_owned),
                                    in_progress: s
                                        .get("in_progress")
                                        .and_then(Value::as_bool)
                                        .unwrap_or(true),
                                })
                            })
                            .collect();
                    }
                    instance.lookups.insert(field, choices_of(&items));
                }
                Err(e @ (ConnectorError::Auth { .. } | ConnectorError::Transport { .. })) => {
                    return Err(e);
                }
                Err(e) => instance.missing.push(format!("{endpoint}: {e}")),
            }
        }
        Ok(instance)
    }

    /// The fields of requests: lookups with their values, UDFs, mandatory fields.
    pub async fn field_metadata(&self, target: &TicketTarget) -> Result<FieldMetadata> {
        let instance = self.instance().await?;
        let mut fields = BTreeMap::new();
        for (name, choices) in &instance.lookups {
            fields.insert(
                (*name).to_owned(),
                FieldInfo {
                    required: instance.mandatory.contains(*name),
                    custom: false,
                    choices: choices.clone(),
                },
            );
        }
        for key in instance.udfs.keys() {
            fields.insert(
                key.clone(),
                FieldInfo {
                    required: instance.mandatory.contains(key),
                    custom: true,
                    choices: Vec::new(),
                },
            );
        }
        for name in &instance.mandatory {
            fields.entry(name.clone()).or_default().required = true;
        }
        Ok(FieldMetadata {
            target: target.clone(),
            fields,
            complete: instance.missing.is_empty(),
            partial_reason: (!instance.missing.is_empty()).then(|| instance.missing.join("; ")),
        })
    }

    /// The rules' priorities, urgencies and impacts, outbound statuses and closure codes checked
    /// against the instance.
    pub async fn check_mapping(&self, rules: &MappingRules) -> Result<MappingCheck> {
        let MappingRules::ManageEngine { request } = rules else {
            return Err(ConnectorError::config(
                "these mapping rules are not ServiceDesk Plus rules",
            ));
        };
        let instance = self.instance().await?;
        let mut out = MappingCheck::default();
        let mut check = |field: &str, value: &str, context: String| match instance
            .accepts(field, value)
        {
            Some(true) => {}
            Some(false) => {
                let valid: Vec<&str> = instance
                    .choices(field)
                    .unwrap_or_default()
                    .iter()
                    .map(|c| c.label.as_str())
                    .collect();
                out.problems.push(format!(
                    "{field} {value:?} ({context}) is not a {field} of the instance; valid: {}",
                    valid.join(", ")
                ));
            }
            None => out.warnings.push(format!(
                "{field} {value:?} ({context}) could not be confirmed: the instance's {field} list \
                 could not be read"
            )),
        };
        for severity in Severity::ALL {
            let levels = request.severity.get(*severity);
            let context = || format!("severity {severity}");
            check("priority", levels.priority.as_str(), context());
            if let Some(urgency) = &levels.urgency {
                check("urgency", urgency.as_str(), context());
            }
            if let Some(impact) = &levels.impact {
                check("impact", impact.as_str(), context());
            }
        }
        for rule in request.outbound.rules() {
            let context = format!("outbound rule for {}", rule.status);
            check("status", rule.state.as_str(), context.clone());
            if let Some(code) = &rule.close_code {
                check("closure_code", code.as_str(), context);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mandatory_fields_not_set_are_named_with_their_display_names() {
        let mut i = Instance::default();
        i.mandatory
            .extend(["subject".into(), "impact".into(), "udf_sline_301".into()]);
        i.udfs.insert("udf_sline_301".into(), "Finding ID".into());
        let body = json!({"subject": "s", "udf_fields": {"udf_sline_301": ""}});
        assert_eq!(
            i.missing_mandatory(&body),
            vec!["impact".to_owned(), "udf_sline_301 (Finding ID)".to_owned()]
        );
    }
}
