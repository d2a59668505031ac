//! Read-only metadata: serverInfo, myself, users, fields, priorities, statuses, issue types, link
//! types, projects and createmeta (reference A4).

use http::StatusCode;
use serde_json::{Value, json};

use super::auth::Caller;
use super::db::JiraDb;
use super::errors::{JResult, JiraError};
use super::model::{FieldDef, Perm, Project};
use super::render::{self, api};
use super::{JReq, JResp, Jira, Version};

pub fn server_info(j: &Jira) -> JResp {
    let now = j.clock.now();
    JResp::ok(json!({
        "baseUrl": j.base_url,
        "displayUrl": j.base_url,
        "version": "1001.0.0-SNAPSHOT",
        "versionNumbers": [1001, 0, 0],
        "deploymentType": "Cloud",
        "buildNumber": 100_290,
        "buildDate": "2026-11-30T00:00:00.000+0000",
        "serverTime": render::datetime(now, time::UtcOffset::UTC),
        "scmInfo": "itsm-sim",
        "serverTitle": "Jira (itsm-sim)",
        "defaultLocale": {"locale": "en_US"},
        "serverTimeZone": "Etc/UTC",
    }))
}

pub fn myself(j: &Jira, caller: &Caller) -> JResult<JResp> {
    let db = j.db.read();
    let mut u = render::user(&db, &j.base_url, Version::V3, &caller.account_id);
    u["locale"] = json!("en_US");
    Ok(JResp::ok(u))
}

/// `GET mypermissions?projectKey=&permissions=A,B` ([spec] `getMyPermissions`): each asked
/// permission with `havePermission`. `permissions` is required (400 without it, as on Cloud); an
/// unknown or invisible project is a 404. Only the permissions the emulator models are known.
pub fn my_permissions(j: &Jira, caller: &Caller, req: &JReq) -> JResult<JResp> {
    let wanted = req.param("permissions").unwrap_or_default();
    if wanted.trim().is_empty() {
        return Err(JiraError::bad_request(
            "The permissions parameter is required.",
        ));
    }
    let db = j.db.read();
    let project = match req.param("projectKey") {
        Some(key) => Some(visible_project(&db, caller, key)?.id.clone()),
        None => None,
    };
    let mut out = serde_json::Map::new();
    for key in wanted.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let (perm, name) = match key {
            "BROWSE_PROJECTS" => (Perm::Browse, "Browse Projects"),
            "CREATE_ISSUES" => (Perm::Create, "Create Issues"),
            "EDIT_ISSUES" => (Perm::Edit, "Edit Issues"),
            "TRANSITION_ISSUES" => (Perm::Transition, "Transition Issues"),
            "ADD_COMMENTS" => (Perm::Comment, "Add Comments"),
            "LINK_ISSUES" => (Perm::Link, "Link Issues"),
            "DELETE_ISSUES" => (Perm::Delete, "Delete Issues"),
            other => {
                return Err(JiraError::bad_request(format!(
                    "Unrecognized permission key: {other}"
                )));
            }
        };
        let have = match &project {
            Some(p) => db.may(&caller.account_id, p, perm),
            None => db
                .projects
                .iter()
                .any(|p| db.may(&caller.account_id, &p.id, perm)),
        };
        out.insert(
            key.to_owned(),
            json!({"id": key, "key": key, "name": name, "type": "PROJECT", "description": name,
                   "havePermission": have}),
        );
    }
    Ok(JResp::ok(json!({ "permissions": out })))
}

pub fn user(j: &Jira, req: &JReq) -> JResult<JResp> {
    let id = req.param("accountId").ok_or_else(|| {
        JiraError::bad_request("The accountId query parameter needs to be provided.")
    })?;
    let db = j.db.read();
    match db.user(id) {
        Some(_) => Ok(JResp::ok(render::user(&db, &j.base_url, req.version, id))),
        None => Err(JiraError::not_found(
            "Specified user does not exist or you do not have required permissions",
        )),
    }
}

fn schema(f: &FieldDef) -> Value {
    let mut s = json!({"type": f.schema_type});
    if let Some(items) = &f.items {
        s["items"] = json!(items);
    }
    match f.custom_id() {
        Some(id) => {
            s["custom"] = json!(f.schema_key);
            s["customId"] = json!(id);
        }
        None => s["system"] = json!(f.schema_key),
    }
    s
}

pub fn fields(j: &Jira) -> JResp {
    let db = j.db.read();
    let list: Vec<Value> = db
        .fields
        .iter()
        .map(|f| {
            let clause = match f.custom_id() {
                Some(id) => vec![format!("cf[{id}]"), f.name.clone()],
                None => vec![f.id.clone()],
            };
            json!({"id": f.id, "key": f.id, "name": f.name, "custom": f.custom, "orderable": true,
                   "navigable": true, "searchable": true, "clauseNames": clause, "schema": schema(f)})
        })
        .collect();
    JResp::ok(Value::Array(list))
}

fn priority_full(db: &JiraDb, base: &str, id: &str) -> Value {
    let mut p = render::priority(db, base, Version::V3, id);
    if let Some(def) = db.priority(id) {
        p["description"] = json!("");
        p["statusColor"] = json!("#ffab00");
        p["isDefault"] = json!(def.is_default);
    }
    p
}

/// `GET /priority`: deprecated (CHANGE-762); still served because what "removed" covers is
/// unconfirmed in the reference.
pub fn priorities(j: &Jira) -> JResp {
    let db = j.db.read();
    let list: Vec<Value> = db
        .priorities
        .iter()
        .map(|p| priority_full(&db, &j.base_url, &p.id))
        .collect();
    JResp::ok(Value::Array(list))
}

pub fn priority_search(j: &Jira, req: &JReq) -> JResp {
    let db = j.db.read();
    let (start, max) = paging(req, 50, 50);
    let project = req.params("projectId");
    let ids = req.params("id");
    let all: Vec<Value> = db
        .priorities
        .iter()
        .filter(|p| ids.is_empty() || ids.contains(&p.id))
        .filter(|p| {
            project.is_empty()
                || project.iter().any(|pid| {
                    db.project_by_id(pid)
                        .is_some_and(|pr| pr.priorities.contains(&p.id))
                })
        })
        .filter(|p| req.param("priorityName").is_none_or(|n| p.name.contains(n)))
        .map(|p| priority_full(&db, &j.base_url, &p.id))
        .collect();
    page("values", all, start, max)
}

pub fn resolutions(j: &Jira) -> JResp {
    let db = j.db.read();
    let list: Vec<Value> = db.resolutions.iter().map(|r| json!({
        "self": format!("{}/resolution/{}", api(&j.base_url, Version::V3), r.id), "id": r.id, "name": r.name, "description": ""
    })).collect();
    JResp::ok(Value::Array(list))
}

pub fn statuses(j: &Jira) -> JResp {
    let db = j.db.read();
    let list: Vec<Value> = db
        .statuses
        .iter()
        .map(|s| render::status(&j.base_url, Version::V3, s))
        .collect();
    JResp::ok(Value::Array(list))
}

pub fn issue_types(j: &Jira) -> JResp {
    let db = j.db.read();
    let list: Vec<Value> = db
        .issue_types
        .iter()
        .map(|t| render::issue_type(&db, &j.base_url, Version::V3, &t.id))
        .collect();
    JResp::ok(Value::Array(list))
}

pub fn link_types(j: &Jira) -> JResp {
    let db = j.db.read();
    let list: Vec<Value> = db
        .link_types
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "name": t.name, "inward": t.inward, "outward": t.outward,
                "self": format!("{}/issueLinkType/{}", api(&j.base_url, Version::V3), t.id)
            })
        })
        .collect();
    JResp::ok(json!({"issueLinkTypes": list}))
}

/// A project the caller may browse, else Jira's 404.
pub fn visible_project<'a>(db: &'a JiraDb, caller: &Caller, key: &str) -> JResult<&'a Project> {
    db.project(key)
        .filter(|p| db.may(&caller.account_id, &p.id, Perm::Browse))
        .ok_or_else(|| JiraError::project_not_found(key))
}

fn project_json(db: &JiraDb, base: &str, v: Version, p: &Project) -> Value {
    let mut j = render::project_short(db, base, v, &p.id);
    j["issueTypes"] = Value::Array(
        p.issue_types
            .iter()
            .map(|t| render::issue_type(db, base, v, t))
            .collect(),
    );
    j["components"] = json!(
        p.components
            .iter()
            .map(|c| json!({"name": c}))
            .collect::<Vec<_>>()
    );
    j
}

pub fn projects(j: &Jira, caller: &Caller) -> JResp {
    let db = j.db.read();
    let list: Vec<Value> = db
        .projects
        .iter()
        .filter(|p| db.may(&caller.account_id, &p.id, Perm::Browse))
        .map(|p| project_json(&db, &j.base_url, Version::V3, p))
        .collect();
    JResp::ok(Value::Array(list))
}

pub fn project_search(j: &Jira, caller: &Caller) -> JResp {
    let JResp { body, .. } = projects(j, caller);
    let values = body.unwrap_or_default();
    let n = values.as_array().map_or(0, Vec::len);
    JResp::ok(json!({"startAt": 0, "maxResults": 50, "total": n, "isLast": true, "values": values}))
}

pub fn project(j: &Jira, caller: &Caller, key: &str) -> JResult<JResp> {
    let db = j.db.read();
    let p = visible_project(&db, caller, key)?;
    Ok(JResp::ok(project_json(&db, &j.base_url, Version::V3, p)))
}

pub fn project_statuses(j: &Jira, caller: &Caller, key: &str) -> JResult<JResp> {
    let db = j.db.read();
    let p = visible_project(&db, caller, key)?;
    let statuses: Vec<Value> = db
        .workflows
        .get(&p.workflow)
        .map(|w| {
            w.statuses
                .iter()
                .filter_map(|s| db.status(s))
                .map(|s| render::status(&j.base_url, Version::V3, s))
                .collect()
        })
        .unwrap_or_default();
    let list: Vec<Value> = p
        .issue_types
        .iter()
        .filter_map(|t| db.issue_type(t))
        .map(|t| json!({"id": t.id, "name": t.name, "subtask": t.subtask, "statuses": statuses}))
        .collect();
    Ok(JResp::ok(Value::Array(list)))
}

/// `startAt`/`maxResults` with createmeta's limit: more than `limit` is refused.
fn createmeta_paging(req: &JReq) -> JResult<(usize, usize)> {
    let max = req
        .param("maxResults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(50);
    if max > 200 {
        return Err(JiraError::bad_request(
            "Parameter 'maxResults' must not exceed the limit '200'",
        ));
    }
    let start = req
        .param("startAt")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((start, max))
}

fn paging(req: &JReq, default: usize, limit: usize) -> (usize, usize) {
    let max = req
        .param("maxResults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(default)
        .min(limit);
    let start = req
        .param("startAt")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (start, max)
}

fn page(key: &str, all: Vec<Value>, start: usize, max: usize) -> JResp {
    let total = all.len();
    let values: Vec<Value> = all.into_iter().skip(start).take(max).collect();
    let is_last = start + values.len() >= total;
    let mut body = json!({"startAt": start, "maxResults": max, "total": total, "isLast": is_last});
    body[key] = Value::Array(values);
    JResp::ok(body)
}

pub fn createmeta_types(j: &Jira, caller: &Caller, req: &JReq, key: &str) -> JResult<JResp> {
    let (start, max) = createmeta_paging(req)?;
    let db = j.db.read();
    let p = visible_project(&db, caller, key)?;
    let all: Vec<Value> = p
        .issue_types
        .iter()
        .map(|t| render::issue_type(&db, &j.base_url, req.version, t))
        .collect();
    let mut resp = page("issueTypes", all, start, max);
    if let Some(b) = resp.body.as_mut().and_then(Value::as_object_mut) {
        b.remove("isLast");
    }
    Ok(resp)
}

pub fn createmeta_fields(
    j: &Jira,
    caller: &Caller,
    req: &JReq,
    key: &str,
    type_id: &str,
) -> JResult<JResp> {
    let (start, max) = createmeta_paging(req)?;
    let db = j.db.read();
    let p = visible_project(&db, caller, key)?;
    let t = p
        .issue_types
        .iter()
        .find(|t| *t == type_id)
        .and_then(|t| db.issue_type(t))
        .ok_or_else(|| {
            JiraError::new(
                StatusCode::NOT_FOUND,
                "Issue type with given ID does not exist or you do not have permission to see it.",
            )
        })?;
    let base = &j.base_url;
    let mut list = Vec::new();
    for f in super::fields::screen(&db, p, t.subtask) {
        let Some(def) = db.field(&f) else { continue };
        let required = matches!(f.as_str(), "project" | "issuetype" | "summary")
            || (f == "parent" && t.subtask)
            || p.required_fields.contains(&f);
        let mut m = json!({"fieldId": def.id, "key": def.id, "name": def.name, "required": required,
            "hasDefaultValue": f == "priority", "operations": ["set"], "schema": schema(def)});
        match f.as_str() {
            "priority" => {
                m["allowedValues"] = Value::Array(
                    p.priorities
                        .iter()
                        .map(|id| priority_full(&db, base, id))
                        .collect(),
                );
                m["defaultValue"] = priority_full(&db, base, "3");
            }
            "issuetype" => {
                m["allowedValues"] = json!([render::issue_type(&db, base, req.version, &t.id)])
            }
            "project" => {
                m["allowedValues"] = json!([render::project_short(&db, base, req.version, &p.id)])
            }
            "components" => {
                m["allowedValues"] = json!(
                    p.components
                        .iter()
                        .map(|c| json!({"name": c}))
                        .collect::<Vec<_>>()
                )
            }
            "labels" => m["operations"] = json!(["add", "set", "remove"]),
            _ if !def.options.is_empty() => {
                m["allowedValues"] = json!(
                    def.options
                        .iter()
                        .enumerate()
                        .map(|(i, o)| json!({"id": (10100 + i).to_string(), "value": o}))
                        .collect::<Vec<_>>()
                );
            }
            _ => {}
        }
        list.push(m);
    }
    let mut resp = page("fields", list, start, max);
    if let Some(b) = resp.body.as_mut().and_then(Value::as_object_mut) {
        b.remove("isLast");
    }
    Ok(resp)
}
