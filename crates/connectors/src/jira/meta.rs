//! What a project accepts, read from createmeta (reference A4:
//! `issue/createmeta/{project}/issuetypes[/{id}]`, the per-project source of required fields and
//! allowed priorities) and the project's statuses. Cached for a few minutes per project, so a bulk
//! of 500 reads it once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;

use super::client::{JCall, JiraClient};
use crate::error::{ConnectorError, Result};

/// How long a project's metadata is trusted.
const TTL: Duration = Duration::from_secs(300);
/// Jira's createmeta page limit.
const PAGE: u32 = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueTypeMeta {
    pub id: String,
    pub name: String,
    pub subtask: bool,
}

/// One value a field accepts (`name` for priorities, `value` for select options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMeta {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub has_default: bool,
    pub allowed: Vec<Allowed>,
}

impl FieldMeta {
    pub fn custom(&self) -> bool {
        self.id.starts_with("customfield_")
    }

    pub fn allows(&self, name: &str) -> bool {
        self.allowed
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// The create fields of one issue type of one project.
#[derive(Debug, Clone)]
pub struct CreateMeta {
    pub project: String,
    pub issue_type: IssueTypeMeta,
    pub fields: Vec<FieldMeta>,
}

impl CreateMeta {
    pub fn field(&self, id: &str) -> Option<&FieldMeta> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// Required fields Lockstep does not fill and Jira has no default for: creation would fail.
    pub fn unfillable(&self) -> Vec<&FieldMeta> {
        const FILLED: [&str; 6] = [
            "project",
            "issuetype",
            "summary",
            "description",
            "parent",
            "reporter",
        ];
        self.fields
            .iter()
            .filter(|f| f.required && !f.has_default && !FILLED.contains(&f.id.as_str()))
            .collect()
    }
}

/// (project, sub-task type) → when read, what was read.
type Entries = HashMap<(String, bool), (Instant, Arc<CreateMeta>)>;

#[derive(Default)]
pub(crate) struct MetaCache {
    entries: Mutex<Entries>,
}

fn allowed(v: &Value) -> Vec<Allowed> {
    v.get("allowedValues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let name = a.get("name").or_else(|| a.get("value"))?.as_str()?;
            let id = super::issue::id_at(a, "/id").unwrap_or_default();
            Some(Allowed {
                id,
                name: name.to_owned(),
            })
        })
        .collect()
}

pub(crate) fn field_from_json(v: &Value) -> Option<FieldMeta> {
    let id = v
        .get("fieldId")
        .or_else(|| v.get("key"))?
        .as_str()?
        .to_owned();
    Some(FieldMeta {
        name: v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(&id)
            .to_owned(),
        required: v.get("required").and_then(Value::as_bool).unwrap_or(false),
        has_default: v
            .get("hasDefaultValue")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        allowed: allowed(v),
        id,
    })
}

fn path(project: &str) -> String {
    format!("issue/createmeta/{project}/issuetypes")
}

impl JiraClient {
    /// The issue types one may create in `project`.
    pub async fn issue_types(&self, project: &str) -> Result<Vec<IssueTypeMeta>> {
        let items = self
            .paged("createmeta_types", path(project), "issueTypes")
            .await?;
        Ok(items
            .iter()
            .filter_map(|t| {
                Some(IssueTypeMeta {
                    id: super::issue::id_at(t, "/id")?,
                    name: t.get("name")?.as_str()?.to_owned(),
                    subtask: t.get("subtask").and_then(Value::as_bool).unwrap_or(false),
                })
            })
            .collect())
    }

    /// The create fields of the configured issue type of `project` (or of its sub-task type).
    pub async fn create_meta(&self, project: &str, subtask: bool) -> Result<Arc<CreateMeta>> {
        let key = (project.to_owned(), subtask);
        if let Some((at, meta)) = self.inner_meta().entries.lock().get(&key)
            && at.elapsed() < TTL
        {
            return Ok(meta.clone());
        }
        let types = self.issue_types(project).await?;
        let wanted = &self.config().issue_type;
        let issue_type = if subtask {
            types.iter().find(|t| t.subtask)
        } else {
            types
                .iter()
                .find(|t| !t.subtask && t.name.eq_ignore_ascii_case(wanted))
        }
        .cloned()
        .ok_or_else(|| missing_type(project, subtask, wanted, &types))?;
        let fields = self
            .paged(
                "createmeta_fields",
                format!("{}/{}", path(project), issue_type.id),
                "fields",
            )
            .await?
            .iter()
            .filter_map(field_from_json)
            .collect();
        let meta = Arc::new(CreateMeta {
            project: project.to_owned(),
            issue_type,
            fields,
        });
        self.inner_meta()
            .entries
            .lock()
            .insert(key, (Instant::now(), meta.clone()));
        Ok(meta)
    }

    /// Status names and category keys of `project`'s workflows (`project/{key}/statuses`).
    pub async fn project_statuses(&self, project: &str) -> Result<Vec<(String, String)>> {
        let resp = self
            .call(&JCall::get(
                "project_statuses",
                format!("project/{project}/statuses"),
            ))
            .await?;
        let mut out: Vec<(String, String)> = Vec::new();
        for t in resp.body.as_array().into_iter().flatten() {
            for s in t
                .get("statuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
                let category = s
                    .pointer("/statusCategory/key")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let pair = (name.to_owned(), category.to_owned());
                if !name.is_empty() && !out.contains(&pair) {
                    out.push(pair);
                }
            }
        }
        Ok(out)
    }

    /// Every element of a `startAt`/`maxResults`/`total` list.
    async fn paged(&self, op: &'static str, path: String, member: &str) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        loop {
            let call = JCall::get(op, path.clone())
                .query("startAt", all.len().to_string())
                .query("maxResults", PAGE.to_string());
            let body = self.call(&call).await?.body;
            let page = body
                .get(member)
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| {
                    ConnectorError::invalid_response(format!("createmeta has no {member} list"))
                })?;
            let total = body.get("total").and_then(Value::as_u64);
            let empty = page.is_empty();
            all.extend(page);
            if empty || total.is_none_or(|t| all.len() as u64 >= t) {
                return Ok(all);
            }
        }
    }

    fn inner_meta(&self) -> &MetaCache {
        &self.inner.meta
    }
}

fn missing_type(
    project: &str,
    subtask: bool,
    wanted: &str,
    types: &[IssueTypeMeta],
) -> ConnectorError {
    let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    let what = if subtask {
        "a sub-task issue type".to_owned()
    } else {
        format!("the issue type {wanted:?}")
    };
    ConnectorError::DataPolicy {
        message: format!(
            "project {project} has no {what} the integration account may create (it offers: {})",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ),
        remedy: "Add the issue type to the project's issue type scheme (sub-tasks must be enabled \
                 for the sub-task mode), or give the integration account the Create Issues \
                 permission in the project"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn createmeta_fields_read_required_custom_and_allowed_values() {
        let priority = field_from_json(&json!({"fieldId": "priority", "name": "Priority",
            "required": false, "hasDefaultValue": true,
            "allowedValues": [{"id": "2", "name": "High"}, {"id": "3", "name": "Medium"}]}))
        .unwrap();
        assert!(priority.allows("high") && !priority.allows("Highest"));
        let asset = field_from_json(&json!({"fieldId": "customfield_10050",
            "name": "Affected asset", "required": true, "hasDefaultValue": false}))
        .unwrap();
        assert!(asset.custom());
        let select = field_from_json(&json!({"fieldId": "customfield_10051", "name": "Sev",
            "required": false, "allowedValues": [{"id": "1", "value": "Critical"}]}))
        .unwrap();
        assert_eq!(select.allowed[0].name, "Critical");
        let meta = CreateMeta {
            project: "SEC".into(),
            issue_type: IssueTypeMeta {
                id: "1".into(),
                name: "Task".into(),
                subtask: false,
            },
            fields: vec![priority, asset, select],
        };
        let unfillable: Vec<&str> = meta.unfillable().iter().map(|f| f.id.as_str()).collect();
        assert_eq!(unfillable, ["customfield_10050"]);
    }
}
