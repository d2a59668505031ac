//! Field input on create and edit: what the screen holds, how each field's value is read, and the
//! per-field messages of Jira's `ErrorCollection.errors`. Messages that the reference does not
//! quote are modelled on Jira's wording and marked unconfirmed there.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Version;
use super::adf;
use super::db::JiraDb;
use super::model::{ChangeItem, Issue, Project};

/// Fields on the create/edit screen of a project's issue type.
pub fn screen(db: &JiraDb, p: &Project, subtask: bool) -> Vec<String> {
    let mut f: Vec<String> = [
        "project",
        "issuetype",
        "summary",
        "description",
        "priority",
        "labels",
        "components",
        "assignee",
        "reporter",
        "duedate",
    ]
    .map(String::from)
    .to_vec();
    if subtask {
        f.push("parent".into());
    }
    f.extend(
        p.custom_fields
            .iter()
            .filter(|c| db.field(c).is_some())
            .cloned(),
    );
    f
}

pub type FieldErrors = BTreeMap<String, String>;

fn not_on_screen(id: &str) -> String {
    format!("Field '{id}' cannot be set. It is not on the appropriate screen, or unknown.")
}

/// `{"id": …}` or `{"name": …}` (or `{"key": …}`) of a reference value.
fn ref_of<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| v.get(*k).and_then(Value::as_str))
}

fn item(
    field: &str,
    from: Option<String>,
    from_s: Option<String>,
    to: Option<String>,
    to_s: Option<String>,
) -> ChangeItem {
    ChangeItem {
        field: field.into(),
        field_id: field.into(),
        from,
        from_string: from_s,
        to,
        to_string: to_s,
    }
}

pub struct Input<'a> {
    pub db: &'a JiraDb,
    pub project: &'a Project,
    pub subtask: bool,
    pub version: Version,
}

impl Input<'_> {
    /// Applies `fields` to `issue`, collecting per-field errors and the change items.
    pub fn apply(
        &self,
        fields: &Map<String, Value>,
        issue: &mut Issue,
        errors: &mut FieldErrors,
    ) -> Vec<ChangeItem> {
        let on_screen = screen(self.db, self.project, self.subtask);
        let mut changes = Vec::new();
        for (name, value) in fields {
            if matches!(name.as_str(), "project" | "issuetype") {
                continue;
            }
            if !on_screen.contains(name) {
                errors.insert(name.clone(), not_on_screen(name));
                continue;
            }
            match self.apply_one(name, value, issue) {
                Ok(Some(c)) => changes.push(c),
                Ok(None) => {}
                Err(msg) => {
                    errors.insert(name.clone(), msg);
                }
            }
        }
        changes
    }

    fn apply_one(
        &self,
        name: &str,
        v: &Value,
        i: &mut Issue,
    ) -> Result<Option<ChangeItem>, String> {
        let db = self.db;
        match name {
            "summary" => {
                let s = v
                    .as_str()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or("You must specify a summary of the issue.")?;
                if s.len() > 255 {
                    return Err("Summary must be less than 255 characters.".into());
                }
                let old = std::mem::replace(&mut i.summary, s.to_string());
                Ok((old != i.summary)
                    .then(|| item("summary", None, Some(old), None, Some(i.summary.clone()))))
            }
            "description" => {
                let new = match (self.version, v) {
                    (_, Value::Null) => None,
                    (Version::V3, d) if adf::is_doc(d) => Some(d.clone()),
                    (Version::V3, _) => {
                        return Err("Operation value must be an Atlassian Document (see the Atlassian Document Format)".into());
                    }
                    (Version::V2, Value::String(s)) => Some(adf::from_text(s)),
                    (Version::V2, _) => return Err("Operation value must be a string".into()),
                };
                let old = std::mem::replace(&mut i.description, new);
                let text = |d: &Option<Value>| d.as_ref().map(adf::to_text);
                Ok((old != i.description)
                    .then(|| item("description", None, text(&old), None, text(&i.description))))
            }
            "priority" => {
                let r = ref_of(v, &["id", "name"])
                    .ok_or("Specify the Priority (id or name) in the proper format")?;
                let p = db
                    .priorities
                    .iter()
                    .find(|p| p.id == r || p.name.eq_ignore_ascii_case(r))
                    .filter(|p| self.project.priorities.contains(&p.id))
                    .ok_or_else(|| "The priority selected is invalid.".to_string())?;
                let old = std::mem::replace(&mut i.priority_id, p.id.clone());
                let name_of = |id: &str| db.priority(id).map(|p| p.name.clone());
                Ok((old != i.priority_id).then(|| {
                    item(
                        "priority",
                        Some(old.clone()),
                        name_of(&old),
                        Some(p.id.clone()),
                        Some(p.name.clone()),
                    )
                }))
            }
            "labels" => {
                let labels: Vec<String> = v
                    .as_array()
                    .ok_or("Labels must be an array of strings")?
                    .iter()
                    .map(|l| {
                        l.as_str()
                            .map(String::from)
                            .ok_or("Labels must be an array of strings".to_string())
                    })
                    .collect::<Result<_, _>>()?;
                self.set_labels(i, labels)
            }
            "components" => {
                let mut names = Vec::new();
                for c in v.as_array().ok_or("Components must be an array")? {
                    let r =
                        ref_of(c, &["name", "id"]).ok_or("Component must have a name or an id")?;
                    let name = self
                        .project
                        .components
                        .iter()
                        .find(|n| n.as_str() == r)
                        .ok_or_else(|| format!("Component name '{r}' is not valid"))?;
                    names.push(name.clone());
                }
                i.components = names;
                Ok(None)
            }
            "assignee" | "reporter" => {
                let new = match v {
                    Value::Null => None,
                    other => {
                        let id = other.get("accountId").and_then(Value::as_str)
                            .ok_or_else(|| format!("Specify a valid value for {name} (users are referenced by accountId)"))?;
                        db.user(id)
                            .ok_or_else(|| format!("User '{id}' does not exist."))?;
                        Some(id.to_string())
                    }
                };
                let slot = if name == "assignee" {
                    &mut i.assignee
                } else {
                    &mut i.reporter
                };
                let old = std::mem::replace(slot, new.clone());
                let disp = |a: &Option<String>| {
                    a.as_deref()
                        .and_then(|a| db.user(a))
                        .map(|u| u.display_name.clone())
                };
                Ok((old != new)
                    .then(|| item(name, old.clone(), disp(&old), new.clone(), disp(&new))))
            }
            "duedate" => {
                let d = match v {
                    Value::Null => None,
                    Value::String(s)
                        if time::Date::parse(
                            s,
                            time::macros::format_description!("[year]-[month]-[day]"),
                        )
                        .is_ok() =>
                    {
                        Some(s.clone())
                    }
                    _ => return Err("Error parsing date string: use yyyy-MM-dd".into()),
                };
                i.duedate = d;
                Ok(None)
            }
            "parent" => {
                let r = ref_of(v, &["key", "id"]).ok_or("Specify the parent issue by key or id")?;
                let parent = db
                    .issue_id(r)
                    .and_then(|id| db.issues.get(&id))
                    .ok_or("Could not find issue by id or key.")?;
                if parent.project_id != self.project.id {
                    return Err(
                        "Sub-tasks must be created in the same project as the parent.".into(),
                    );
                }
                i.parent = Some(parent.id);
                Ok(None)
            }
            custom => self.apply_custom(custom, v, i),
        }
    }

    fn apply_custom(
        &self,
        id: &str,
        v: &Value,
        i: &mut Issue,
    ) -> Result<Option<ChangeItem>, String> {
        let def = self.db.field(id).ok_or_else(|| not_on_screen(id))?;
        let value = match (def.schema_type.as_str(), v) {
            (_, Value::Null) => Value::Null,
            ("string", Value::String(_)) => v.clone(),
            ("option", o) => {
                let r = ref_of(o, &["value", "id"])
                    .ok_or_else(|| format!("Specify a valid 'id' or 'name' for {}", def.name))?;
                let pos = def
                    .options
                    .iter()
                    .position(|x| x == r)
                    .or_else(|| {
                        r.parse::<usize>()
                            .ok()
                            .and_then(|n| n.checked_sub(10100))
                            .filter(|n| *n < def.options.len())
                    })
                    .ok_or_else(|| format!("Option value '{r}' is not valid"))?;
                serde_json::json!({"id": (10100 + pos).to_string(), "value": def.options[pos]})
            }
            _ => return Err(format!("Operation value must be a {}", def.schema_type)),
        };
        let old = i.custom.insert(id.to_string(), value.clone());
        let s = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            o => o.get("value").and_then(Value::as_str).map(String::from),
        };
        let old_s = old.as_ref().and_then(s);
        let new_s = s(&value);
        Ok((old_s != new_s).then(|| ChangeItem {
            field: def.name.clone(),
            ..item(id, None, old_s, None, new_s)
        }))
    }

    pub fn set_labels(
        &self,
        i: &mut Issue,
        labels: Vec<String>,
    ) -> Result<Option<ChangeItem>, String> {
        if let Some(bad) = labels.iter().find(|l| l.contains(' ')) {
            return Err(format!(
                "The label '{bad}' contains spaces which is invalid."
            ));
        }
        let old = std::mem::replace(&mut i.labels, labels);
        Ok((old != i.labels).then(|| {
            item(
                "labels",
                None,
                Some(old.join(" ")),
                None,
                Some(i.labels.join(" ")),
            )
        }))
    }
}
