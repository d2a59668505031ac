//! Comments (ADF in v3, plain text in v2) and issue links (201 with an empty body).

use http::StatusCode;
use serde_json::{Value, json};

use super::auth::Caller;
use super::db::JiraDb;
use super::errors::{JResult, JiraError};
use super::hooks::{self, IssueEvent};
use super::issues::{ref_str, require, visible};
use super::model::{Comment, Link, Perm};
use super::render;
use super::{JReq, JResp, Jira, Version, adf};

pub(super) fn body_of(v: Version, value: &Value) -> Result<Value, String> {
    match (v, value) {
        (Version::V3, d) if adf::is_doc(d) => Ok(d.clone()),
        (Version::V3, _) => Err(
            "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                .into(),
        ),
        (Version::V2, Value::String(s)) if !s.trim().is_empty() => Ok(adf::from_text(s)),
        (Version::V2, _) => Err("Comment body can not be empty!".into()),
    }
}
pub fn comments(j: &Jira, caller: &Caller, req: &JReq, key: &str) -> JResult<JResp> {
    let db = j.db.read();
    let id = visible(&db, caller, key)?;
    let issue = db.issues.get(&id).ok_or_else(JiraError::issue_not_found)?;
    let tz = render::user_offset(&db, &caller.account_id);
    let start: usize = req
        .param("startAt")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let max: usize = req
        .param("maxResults")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let all: Vec<Value> = issue
        .comments
        .iter()
        .map(|c| render::comment(&db, &j.base_url, req.version, issue, c, tz))
        .collect();
    let total = all.len();
    let page: Vec<Value> = all.into_iter().skip(start).take(max).collect();
    Ok(JResp::ok(
        json!({"startAt": start, "maxResults": max, "total": total, "comments": page}),
    ))
}

pub(super) fn add_comment_to(
    j: &Jira,
    db: &mut JiraDb,
    id: u64,
    author: &str,
    body: Value,
) -> Option<Comment> {
    let now = j.clock.now();
    let cid = db.next_comment_id;
    db.next_comment_id += 1;
    let c = Comment {
        id: cid.to_string(),
        author: author.into(),
        body,
        created: now,
        updated: now,
    };
    let issue = db.issues.get_mut(&id)?;
    issue.comments.push(c.clone());
    issue.updated = now;
    hooks::emit(j, db, IssueEvent::commented(id, author, c.clone()));
    Some(c)
}

pub fn add_comment(j: &Jira, caller: &Caller, req: &JReq, key: &str) -> JResult<JResp> {
    let body = req.json()?;
    let mut db = j.db.write();
    let id = visible(&db, caller, key)?;
    require(&db, caller, id, Perm::Comment, "comment on")?;
    let b = body_of(req.version, body.get("body").unwrap_or(&Value::Null))
        .map_err(|e| JiraError::field(StatusCode::BAD_REQUEST, "comment", e))?;
    let c = add_comment_to(j, &mut db, id, &caller.account_id, b)
        .ok_or_else(JiraError::issue_not_found)?;
    let tz = render::user_offset(&db, &caller.account_id);
    let issue = db.issues.get(&id).ok_or_else(JiraError::issue_not_found)?;
    Ok(JResp::with(
        StatusCode::CREATED,
        render::comment(&db, &j.base_url, req.version, issue, &c, tz),
    ))
}

/// `POST /issueLink`: 201 with an empty body and no link id; a duplicate still "succeeds".
pub fn link(j: &Jira, caller: &Caller, req: &JReq) -> JResult<JResp> {
    let body = req.json()?;
    let mut db = j.db.write();
    let ty = ref_str(body.get("type"), &["name", "id"])
        .and_then(|r| {
            db.link_types
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(&r) || t.id == r)
        })
        .map(|t| t.id.clone())
        .ok_or_else(|| JiraError::not_found("No issue link type with name or id found."))?;
    let end = |side: &str| -> JResult<u64> {
        let r = ref_str(body.get(side), &["key", "id"]).ok_or_else(JiraError::issue_not_found)?;
        let id = visible(&db, caller, &r)?;
        let project = db
            .issues
            .get(&id)
            .map(|i| i.project_id.clone())
            .unwrap_or_default();
        if db.may(&caller.account_id, &project, Perm::Link) {
            Ok(id)
        } else {
            Err(JiraError::issue_not_found())
        }
    };
    let (inward, outward) = (end("inwardIssue")?, end("outwardIssue")?);
    let exists = db
        .links
        .iter()
        .any(|l| l.type_id == ty && l.inward == inward && l.outward == outward);
    if !exists {
        let lid = db.next_link_id;
        db.next_link_id += 1;
        db.links.push(Link {
            id: lid.to_string(),
            type_id: ty,
            inward,
            outward,
        });
        let now = j.clock.now();
        for id in [inward, outward] {
            if let Some(i) = db.issues.get_mut(&id) {
                i.updated = now;
            }
        }
    }
    if let Some(c) = body.get("comment").and_then(|c| c.get("body"))
        && let Ok(b) = body_of(req.version, c)
    {
        add_comment_to(j, &mut db, inward, &caller.account_id, b);
    }
    Ok(JResp::empty(StatusCode::CREATED))
}
