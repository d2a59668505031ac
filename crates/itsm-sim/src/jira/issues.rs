//! Issues: create (one and bulk), get, edit, delete, comments and links (reference A2, A3).

use http::StatusCode;
use serde_json::{Map, Value, json};

use super::auth::Caller;
use super::comments::{add_comment_to, body_of};
use super::db::JiraDb;
use super::errors::{JResult, JiraError};
use super::fields::{FieldErrors, Input};
use super::hooks::{self, IssueEvent};
use super::model::{ChangeItem, History, Issue, Perm};
use super::render::{self, FieldSel, IssueView, api};
use super::{JReq, JResp, Jira, Version};

/// The issue by id or key if the caller may browse it; Jira's one 404 otherwise.
pub fn visible(db: &JiraDb, caller: &Caller, key: &str) -> JResult<u64> {
    db.issue_id(key)
        .filter(|id| {
            db.issues
                .get(id)
                .is_some_and(|i| db.may(&caller.account_id, &i.project_id, Perm::Browse))
        })
        .ok_or_else(JiraError::issue_not_found)
}

pub(super) fn require(
    db: &JiraDb,
    caller: &Caller,
    id: u64,
    perm: Perm,
    what: &str,
) -> JResult<()> {
    let project = db
        .issues
        .get(&id)
        .map(|i| i.project_id.clone())
        .unwrap_or_default();
    if db.may(&caller.account_id, &project, perm) {
        Ok(())
    } else {
        Err(JiraError::forbidden(format!(
            "You do not have permission to {what} this issue."
        )))
    }
}

/// `{"id": "10000"}`, `{"id": 10000}`, `{"key": "SEC"}`, … as text.
pub(super) fn ref_str(v: Option<&Value>, keys: &[&str]) -> Option<String> {
    let v = v?;
    keys.iter().find_map(|k| match v.get(*k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Builds and stores one issue from an `IssueUpdateDetails` body; the errors are per field.
fn create_one(
    j: &Jira,
    db: &mut JiraDb,
    caller: &Caller,
    v: Version,
    body: &Value,
) -> JResult<u64> {
    let fields = body
        .get("fields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut errors = FieldErrors::new();
    let project = ref_str(fields.get("project"), &["id", "key"])
        .and_then(|p| db.project(&p))
        .filter(|p| db.may(&caller.account_id, &p.id, Perm::Browse));
    let Some(project) = project.cloned() else {
        errors.insert("project".into(), "Specify a valid project ID or key".into());
        return Err(JiraError::fields(errors));
    };
    if !db.may(&caller.account_id, &project.id, Perm::Create) {
        errors.insert(
            "project".into(),
            "You do not have permission to create issues in this project.".into(),
        );
        return Err(JiraError::fields(errors));
    }
    let issuetype = match ref_str(fields.get("issuetype"), &["id", "name"]) {
        None => {
            errors.insert("issuetype".into(), "Specify an issue type".into());
            None
        }
        Some(r) => {
            let found = db.issue_types.iter().find(|t| {
                (t.id == r || t.name.eq_ignore_ascii_case(&r))
                    && project.issue_types.contains(&t.id)
            });
            if found.is_none() {
                errors.insert(
                    "issuetype".into(),
                    "The issue type selected is invalid.".into(),
                );
            }
            found.cloned()
        }
    };
    let Some(wf) = db.workflows.get(&project.workflow).cloned() else {
        return Err(JiraError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The project's workflow is missing.",
        ));
    };
    let now = j.clock.now();
    let mut issue = Issue {
        id: 0,
        key: String::new(),
        project_id: project.id.clone(),
        issuetype_id: issuetype.as_ref().map(|t| t.id.clone()).unwrap_or_default(),
        summary: String::new(),
        description: None,
        priority_id: db
            .priorities
            .iter()
            .find(|p| p.is_default)
            .map(|p| p.id.clone())
            .unwrap_or_default(),
        labels: Vec::new(),
        components: Vec::new(),
        assignee: None,
        reporter: Some(caller.account_id.clone()),
        creator: caller.account_id.clone(),
        status_id: wf.initial.clone(),
        resolution_id: None,
        resolution_date: None,
        created: now,
        updated: now,
        status_category_changed: now,
        duedate: None,
        parent: None,
        custom: Default::default(),
        comments: Vec::new(),
        histories: Vec::new(),
    };
    let subtask = issuetype.as_ref().is_some_and(|t| t.subtask);
    let input = Input {
        db,
        project: &project,
        subtask,
        version: v,
    };
    input.apply(&fields, &mut issue, &mut errors);
    if issue.summary.is_empty() && !errors.contains_key("summary") {
        errors.insert(
            "summary".into(),
            "You must specify a summary of the issue.".into(),
        );
    }
    if subtask && issue.parent.is_none() && !errors.contains_key("parent") {
        errors.insert(
            "parent".into(),
            "Sub-task issues must have a parent (give its key or id in 'parent').".into(),
        );
    }
    for f in &project.required_fields {
        if issue.custom.get(f).is_none_or(Value::is_null) {
            let name = db.field(f).map_or(f.as_str(), |d| d.name.as_str());
            errors.insert(f.clone(), format!("{name} is required."));
        }
    }
    if !errors.is_empty() {
        return Err(JiraError::fields(errors));
    }
    let id = db.next_issue_id;
    db.next_issue_id += 1;
    let p = db
        .projects
        .iter_mut()
        .find(|p| p.id == project.id)
        .ok_or_else(JiraError::issue_not_found)?;
    issue.id = id;
    issue.key = format!("{}-{}", p.key, p.next_number);
    p.next_number += 1;
    db.issues.insert(id, issue);
    hooks::emit(j, db, IssueEvent::created(id, &caller.account_id));
    Ok(id)
}

fn created(j: &Jira, db: &JiraDb, v: Version, id: u64) -> Value {
    json!({"id": id.to_string(), "key": db.issue_key_of(id), "self": format!("{}/issue/{id}", api(&j.base_url, v))})
}

pub fn create(j: &Jira, caller: &Caller, req: &JReq) -> JResult<JResp> {
    let body = req.json()?;
    let mut db = j.db.write();
    let id = create_one(j, &mut db, caller, req.version, &body)?;
    Ok(JResp::with(
        StatusCode::CREATED,
        created(j, &db, req.version, id),
    ))
}

/// At most 50 per call; 201 when any element succeeded, 400 when all failed; `issues` holds only
/// the successes in request order and `failedElementNumber` is the 0-based request index.
pub fn bulk(j: &Jira, caller: &Caller, req: &JReq) -> JResult<JResp> {
    let body = req.json()?;
    let updates = body
        .get("issueUpdates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if updates.len() > 50 {
        return Err(JiraError::bad_request(
            "Request can contain at most 50 issues to create.",
        ));
    }
    let mut db = j.db.write();
    let (mut issues, mut errors) = (Vec::new(), Vec::new());
    for (n, u) in updates.iter().enumerate() {
        let result = if j.bulk_element_fails() {
            Err(JiraError::new(
                StatusCode::BAD_REQUEST,
                "The issue could not be created (failure injected by itsm-sim).",
            ))
        } else {
            create_one(j, &mut db, caller, req.version, u)
        };
        match result {
            Ok(id) => issues.push(created(j, &db, req.version, id)),
            Err(e) => errors.push(json!({"status": e.status.as_u16(), "failedElementNumber": n, "elementErrors": e.body()})),
        }
    }
    let status = if issues.is_empty() && !errors.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::CREATED
    };
    Ok(JResp::with(
        status,
        json!({"issues": issues, "errors": errors}),
    ))
}

pub fn get(j: &Jira, caller: &Caller, req: &JReq, key: &str) -> JResult<JResp> {
    let db = j.db.read();
    let id = visible(&db, caller, key)?;
    let sel = FieldSel::parse(&req.params("fields"), true);
    let view = IssueView {
        version: req.version,
        fields: &sel,
        tz: render::user_offset(&db, &caller.account_id),
        changelog: req.params("expand").iter().any(|e| e == "changelog"),
    };
    let issue = db.issues.get(&id).ok_or_else(JiraError::issue_not_found)?;
    Ok(JResp::ok(render::issue(&db, &j.base_url, issue, &view)))
}

/// `DELETE /rest/api/3/issue/{issueIdOrKey}[?deleteSubtasks=true]` (`deleteIssue`): needs Browse
/// (404 otherwise, as for a GET) and Delete issues (403); an issue with subtasks is refused (400)
/// unless `deleteSubtasks=true`, which deletes them with it. 204 with no body. Each deleted issue
/// sends `jira:issue_deleted` before it is gone. Not in the reference: from Atlassian's REST v3
/// description of `deleteIssue` (the 400 message text is UNCONFIRMED).
pub fn delete(j: &Jira, caller: &Caller, req: &JReq, key: &str) -> JResult<JResp> {
    let mut db = j.db.write();
    let id = visible(&db, caller, key)?;
    require(&db, caller, id, Perm::Delete, "delete")?;
    let subtasks: Vec<u64> = db
        .issues
        .values()
        .filter(|i| i.parent == Some(id))
        .map(|i| i.id)
        .collect();
    let cascade = req.params("deleteSubtasks").iter().any(|v| v == "true");
    if !subtasks.is_empty() && !cascade {
        return Err(JiraError::bad_request(
            "The issue has subtasks. Set deleteSubtasks to true to delete them with the issue.",
        ));
    }
    for gone in subtasks.into_iter().chain([id]) {
        hooks::emit(j, &db, IssueEvent::deleted(gone, &caller.account_id));
        db.issues.remove(&gone);
    }
    Ok(JResp::empty(StatusCode::NO_CONTENT))
}

/// Records a history entry and the issue's new `updated`; the caller emits the event.
pub fn record(
    db: &mut JiraDb,
    id: u64,
    author: &str,
    items: Vec<ChangeItem>,
    now: time::OffsetDateTime,
) -> Option<History> {
    let hid = db.next_history_id;
    db.next_history_id += 1;
    let issue = db.issues.get_mut(&id)?;
    issue.updated = now;
    if items.is_empty() {
        return None;
    }
    let h = History {
        id: hid.to_string(),
        author: author.into(),
        created: now,
        items,
    };
    issue.histories.push(h.clone());
    Some(h)
}

pub fn edit(j: &Jira, caller: &Caller, req: &JReq, key: &str) -> JResult<JResp> {
    let body = req.json()?;
    let mut db = j.db.write();
    let id = visible(&db, caller, key)?;
    require(&db, caller, id, Perm::Edit, "edit")?;
    let mut fields: Map<String, Value> = body
        .get("fields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let update = body
        .get("update")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut errors = FieldErrors::new();
    let mut comments = Vec::new();
    let mut issue = db
        .issues
        .get(&id)
        .cloned()
        .ok_or_else(JiraError::issue_not_found)?;
    let mut labels = issue.labels.clone();
    for (name, ops) in &update {
        if fields.contains_key(name) {
            errors.insert(
                name.clone(),
                format!("Field '{name}' cannot be set in both 'fields' and 'update'."),
            );
            continue;
        }
        for op in ops.as_array().into_iter().flatten() {
            match (name.as_str(), op.as_object().and_then(|o| o.iter().next())) {
                ("labels", Some((verb, v))) => {
                    let one = v.as_str().map(String::from);
                    match (verb.as_str(), one) {
                        ("add", Some(l)) if !labels.contains(&l) => labels.push(l),
                        ("remove", Some(l)) => labels.retain(|x| *x != l),
                        ("set", _) => {
                            labels = v
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|x| x.as_str().map(String::from))
                                .collect()
                        }
                        _ => {}
                    }
                }
                ("comment", Some((verb, v))) if verb == "add" => {
                    match body_of(req.version, v.get("body").unwrap_or(&Value::Null)) {
                        Ok(b) => comments.push(b),
                        Err(e) => {
                            errors.insert("comment".into(), e);
                        }
                    }
                }
                (_, Some((verb, v))) if verb == "set" => {
                    fields.insert(name.clone(), v.clone());
                }
                _ => {
                    errors.insert(
                        name.clone(),
                        format!("Field '{name}': the operation is not supported by the emulator."),
                    );
                }
            }
        }
    }
    let project = db
        .project_by_id(&issue.project_id)
        .cloned()
        .ok_or_else(JiraError::issue_not_found)?;
    let subtask = db
        .issue_type(&issue.issuetype_id)
        .is_some_and(|t| t.subtask);
    let input = Input {
        db: &db,
        project: &project,
        subtask,
        version: req.version,
    };
    let mut items = input.apply(&fields, &mut issue, &mut errors);
    if update.contains_key("labels") {
        match input.set_labels(&mut issue, labels) {
            Ok(Some(c)) => items.push(c),
            Ok(None) => {}
            Err(e) => {
                errors.insert("labels".into(), e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(JiraError::fields(errors));
    }
    let now = j.clock.now();
    db.issues.insert(id, issue);
    let history = record(&mut db, id, &caller.account_id, items, now);
    if history.is_some() {
        hooks::emit(
            j,
            &db,
            IssueEvent::updated(id, &caller.account_id, "issue_updated", history),
        );
    }
    for b in comments {
        add_comment_to(j, &mut db, id, &caller.account_id, b);
    }
    Ok(JResp::empty(StatusCode::NO_CONTENT))
}
