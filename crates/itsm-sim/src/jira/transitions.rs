//! Workflow transitions (reference A6): the list the caller may take from the issue's status, and
//! performing one (204). An id the status does not offer is a 400; a transition while another is in
//! progress on the same issue is a 409 (formerly 400; "update-in-simultaneous-transitions-issue-api").

use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};

use super::auth::Caller;
use super::errors::{JResult, JiraError};
use super::hooks::{self, IssueEvent};
use super::issues::{record, visible};
use super::model::{ChangeItem, Perm, Transition};
use super::{JReq, JResp, Jira, adf, render};

fn resolution_field(j: &Jira, db: &super::db::JiraDb) -> Value {
    json!({
        "required": true, "name": "Resolution", "key": "resolution", "hasDefaultValue": false,
        "operations": ["set"], "schema": {"type": "resolution", "system": "resolution"},
        "allowedValues": db.resolutions.iter().map(|r| json!({
            "self": format!("{}/rest/api/3/resolution/{}", j.base_url, r.id), "id": r.id, "name": r.name
        })).collect::<Vec<_>>(),
    })
}

pub fn list(j: &Jira, caller: &Caller, req: &JReq, key: &str) -> JResult<JResp> {
    let db = j.db.read();
    let id = visible(&db, caller, key)?;
    let issue = db.issues.get(&id).ok_or_else(JiraError::issue_not_found)?;
    // Without the Transition permission the list is empty, not an error.
    if !db.may(&caller.account_id, &issue.project_id, Perm::Transition) {
        return Ok(JResp::ok(json!({"transitions": []})));
    }
    let wf = db
        .workflow_of(&issue.project_id)
        .ok_or_else(JiraError::issue_not_found)?;
    let expand_fields = req
        .param("expand")
        .is_some_and(|e| e.contains("transitions.fields"));
    let only = req.param("transitionId");
    let list: Vec<Value> = wf
        .from_status(&issue.status_id)
        .filter(|t| only.is_none_or(|o| o == t.id))
        .map(|t| {
            let to = db
                .status(&t.to)
                .map_or(Value::Null, |s| render::status(&j.base_url, req.version, s));
            let mut v = json!({"id": t.id, "name": t.name, "to": to, "hasScreen": t.has_screen(),
                "isGlobal": t.from.is_empty(), "isInitial": false, "isAvailable": true,
                "isConditional": false, "isLooped": false});
            if expand_fields {
                v["fields"] = if t.requires_resolution {
                    json!({"resolution": resolution_field(j, &db)})
                } else {
                    json!({})
                };
            }
            v
        })
        .collect();
    Ok(JResp::ok(json!({"transitions": list})))
}

/// Removes the issue from the in-progress set however the transition ends.
struct InFlight<'a>(&'a Jira, u64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.lock().remove(&self.1);
    }
}

pub async fn perform(j: &Jira, caller: &Caller, req: &JReq, key: &str) -> JResult<JResp> {
    let body = req.json()?;
    let id = {
        let db = j.db.read();
        let id = visible(&db, caller, key)?;
        let project = db
            .issues
            .get(&id)
            .map(|i| i.project_id.clone())
            .unwrap_or_default();
        if !db.may(&caller.account_id, &project, Perm::Transition) {
            return Err(JiraError::bad_request(
                "You do not have permission to transition this issue.",
            ));
        }
        id
    };
    if !j.in_flight.lock().insert(id) {
        // The wording of the 409 body is unconfirmed; the status is documented.
        return Err(JiraError::new(
            StatusCode::CONFLICT,
            "Another transition is being performed on this issue at the same time. Try again.",
        ));
    }
    let _guard = InFlight(j, id);
    let latency = j.settings().transition_latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    apply(j, caller, req, id, &body)?;
    Ok(JResp::empty(StatusCode::NO_CONTENT))
}

fn apply(j: &Jira, caller: &Caller, req: &JReq, id: u64, body: &Value) -> JResult<()> {
    let mut db = j.db.write();
    let issue = db
        .issues
        .get(&id)
        .cloned()
        .ok_or_else(JiraError::issue_not_found)?;
    let wf = db
        .workflow_of(&issue.project_id)
        .cloned()
        .ok_or_else(JiraError::issue_not_found)?;
    let tid = match body.pointer("/transition/id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(JiraError::bad_request("Missing 'transition' identifier")),
    };
    let t: Transition = wf
        .from_status(&issue.status_id)
        .find(|t| t.id == tid)
        .cloned()
        .ok_or_else(|| {
            JiraError::bad_request(format!(
                "Transition id '{tid}' is not valid for this issue."
            ))
        })?;
    let fields = body
        .get("fields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut resolution = None;
    for (name, v) in &fields {
        if name != "resolution" || !t.has_screen() {
            return Err(JiraError::field(
                StatusCode::BAD_REQUEST,
                name,
                format!(
                    "Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                ),
            ));
        }
        let r = v
            .get("name")
            .or_else(|| v.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let found = db
            .resolutions
            .iter()
            .find(|x| x.name.eq_ignore_ascii_case(r) || x.id == r)
            .ok_or_else(|| {
                JiraError::field(
                    StatusCode::BAD_REQUEST,
                    "resolution",
                    format!("Resolution '{r}' is not valid."),
                )
            })?;
        resolution = Some(found.id.clone());
    }
    if t.requires_resolution && resolution.is_none() {
        return Err(JiraError::field(
            StatusCode::BAD_REQUEST,
            "resolution",
            "Resolution is required.",
        ));
    }
    if resolution.is_none() {
        resolution = t
            .sets_resolution
            .as_deref()
            .and_then(|n| db.resolutions.iter().find(|r| r.name == n))
            .map(|r| r.id.clone());
    }
    let mut comment = None;
    for op in body
        .pointer("/update/comment")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let b = op.pointer("/add/body").unwrap_or(&Value::Null);
        comment = Some(match (req.version, b) {
            (super::Version::V3, d) if adf::is_doc(d) => d.clone(),
            (super::Version::V2, Value::String(s)) => adf::from_text(s),
            _ => {
                return Err(JiraError::field(
                    StatusCode::BAD_REQUEST,
                    "comment",
                    "Comment body is not valid.",
                ));
            }
        });
    }
    let now = j.clock.now();
    let name_of = |s: &str| db.status(s).map(|s| s.name.clone());
    let res_name = |r: &Option<String>| {
        r.as_deref()
            .and_then(|r| db.resolution(r))
            .map(|r| r.name.clone())
    };
    let mut items = vec![ChangeItem {
        field: "status".into(),
        field_id: "status".into(),
        from: Some(issue.status_id.clone()),
        from_string: name_of(&issue.status_id),
        to: Some(t.to.clone()),
        to_string: name_of(&t.to),
    }];
    let old_res = issue.resolution_id.clone();
    let new_res = if resolution.is_some() {
        resolution
    } else if t.clears_resolution {
        None
    } else {
        old_res.clone()
    };
    if new_res != old_res {
        items.insert(
            0,
            ChangeItem {
                field: "resolution".into(),
                field_id: "resolution".into(),
                from: old_res.clone(),
                from_string: res_name(&old_res),
                to: new_res.clone(),
                to_string: res_name(&new_res),
            },
        );
    }
    let category_changed =
        db.status(&issue.status_id).map(|s| s.category) != db.status(&t.to).map(|s| s.category);
    if let Some(i) = db.issues.get_mut(&id) {
        i.status_id = t.to.clone();
        if new_res != old_res {
            i.resolution_date = new_res.as_ref().map(|_| now);
        }
        i.resolution_id = new_res;
        if category_changed {
            i.status_category_changed = now;
        }
    }
    let history = record(&mut db, id, &caller.account_id, items, now);
    hooks::emit(
        j,
        &db,
        IssueEvent::updated(id, &caller.account_id, "issue_generic", history),
    );
    if let Some(body) = comment {
        let cid = db.next_comment_id;
        db.next_comment_id += 1;
        let c = super::model::Comment {
            id: cid.to_string(),
            author: caller.account_id.clone(),
            body,
            created: now,
            updated: now,
        };
        if let Some(i) = db.issues.get_mut(&id) {
            i.comments.push(c.clone());
        }
        hooks::emit(j, &db, IssueEvent::commented(id, &caller.account_id, c));
    }
    Ok(())
}
