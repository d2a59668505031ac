//! JSON representations: users, statuses, priorities, issue types, projects and issues, in v3 (ADF
//! bodies) or v2 (plain strings; also what webhooks carry). Date-times are rendered like
//! `2024-10-08T16:38:03.000+0800`: milliseconds and a colon-less offset, in the zone of the user
//! the representation is for.

use serde_json::{Map, Value, json};
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use super::Version;
use super::adf;
use super::db::JiraDb;
use super::model::{Issue, Status};
use crate::clock::zone_offset;

pub fn datetime(t: OffsetDateTime, offset: UtcOffset) -> String {
    t.to_offset(offset)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3][offset_hour sign:mandatory][offset_minute]"
        ))
        .unwrap_or_default()
}

/// The zone a user's representations and JQL literals use.
pub fn user_offset(db: &JiraDb, account_id: &str) -> UtcOffset {
    db.user(account_id)
        .map(|u| zone_offset(&u.time_zone))
        .unwrap_or(UtcOffset::UTC)
}

pub fn api(base: &str, v: Version) -> String {
    let n = if v == Version::V2 { 2 } else { 3 };
    format!("{base}/rest/api/{n}")
}

pub fn user(db: &JiraDb, base: &str, v: Version, account_id: &str) -> Value {
    let Some(u) = db.user(account_id) else {
        return Value::Null;
    };
    let api = api(base, v);
    json!({
        "self": format!("{api}/user?accountId={}", u.account_id.replace(':', "%3A")),
        "accountId": u.account_id,
        "emailAddress": u.email,
        "avatarUrls": {"48x48": format!("{base}/avatar/{}", u.account_id)},
        "displayName": u.display_name,
        "active": u.active,
        "timeZone": u.time_zone,
        "accountType": "atlassian",
    })
}

pub fn status(base: &str, v: Version, s: &Status) -> Value {
    let api = api(base, v);
    let c = s.category;
    json!({
        "self": format!("{api}/status/{}", s.id),
        "description": "",
        "iconUrl": format!("{base}/images/icons/statuses/generic.png"),
        "name": s.name,
        "id": s.id,
        "statusCategory": {
            "self": format!("{api}/statuscategory/{}", c.id()),
            "id": c.id(), "key": c.key(), "colorName": c.color(), "name": c.name(),
        },
    })
}

pub fn priority(db: &JiraDb, base: &str, v: Version, id: &str) -> Value {
    db.priority(id).map_or(Value::Null, |p| {
        json!({
            "self": format!("{}/priority/{}", api(base, v), p.id),
            "iconUrl": format!("{base}/images/icons/priorities/{}.svg", p.name.to_lowercase()),
            "name": p.name, "id": p.id,
        })
    })
}

pub fn issue_type(db: &JiraDb, base: &str, v: Version, id: &str) -> Value {
    db.issue_type(id).map_or(Value::Null, |t| {
        json!({
            "self": format!("{}/issuetype/{}", api(base, v), t.id),
            "id": t.id, "description": "", "name": t.name,
            "iconUrl": format!("{base}/images/icons/issuetypes/{}.svg", t.id),
            "subtask": t.subtask, "hierarchyLevel": t.hierarchy_level,
        })
    })
}

pub fn project_short(db: &JiraDb, base: &str, v: Version, id: &str) -> Value {
    db.project_by_id(id).map_or(Value::Null, |p| {
        json!({
            "self": format!("{}/project/{}", api(base, v), p.id),
            "id": p.id, "key": p.key, "name": p.name,
            "projectTypeKey": "software", "simplified": false,
        })
    })
}

/// Which fields a caller asked for (`fields=` on GET issue and search).
#[derive(Clone, Debug)]
pub struct FieldSel {
    all: bool,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl FieldSel {
    pub fn parse(list: &[String], default_all: bool) -> Self {
        let mut sel = FieldSel {
            all: list.is_empty() && default_all,
            include: Vec::new(),
            exclude: Vec::new(),
        };
        for f in list {
            match f.as_str() {
                "*all" | "*navigable" => sel.all = true,
                other => match other.strip_prefix('-') {
                    Some(x) => sel.exclude.push(x.to_string()),
                    None => sel.include.push(other.to_string()),
                },
            }
        }
        sel
    }

    pub fn wants(&self, field: &str) -> bool {
        !self.exclude.iter().any(|f| f == field)
            && (self.all || self.include.iter().any(|f| f == field))
    }

    /// Only `id`/`key` asked for: search may answer bigger pages.
    pub fn ids_only(&self) -> bool {
        !self.all && self.include.iter().all(|f| f == "id" || f == "key")
    }
}

fn text_or_adf(v: Version, doc: &Value) -> Value {
    match v {
        Version::V3 => doc.clone(),
        Version::V2 => Value::String(adf::to_text(doc)),
    }
}

pub fn comment(
    db: &JiraDb,
    base: &str,
    v: Version,
    issue: &Issue,
    c: &super::model::Comment,
    tz: UtcOffset,
) -> Value {
    json!({
        "self": format!("{}/issue/{}/comment/{}", api(base, v), issue.id, c.id),
        "id": c.id,
        "author": user(db, base, v, &c.author),
        "body": text_or_adf(v, &c.body),
        "updateAuthor": user(db, base, v, &c.author),
        "created": datetime(c.created, tz),
        "updated": datetime(c.updated, tz),
        "jsdPublic": true,
    })
}

fn links(db: &JiraDb, base: &str, v: Version, issue: &Issue) -> Value {
    let short = |id: u64| {
        db.issues.get(&id).map_or(Value::Null, |i| {
            json!({"id": i.id.to_string(), "key": i.key, "self": format!("{}/issue/{}", api(base, v), i.id),
                   "fields": {"summary": i.summary, "status": db.status(&i.status_id).map_or(Value::Null, |s| status(base, v, s))}})
        })
    };
    let mut out = Vec::new();
    for l in db
        .links
        .iter()
        .filter(|l| l.inward == issue.id || l.outward == issue.id)
    {
        let Some(t) = db.link_types.iter().find(|t| t.id == l.type_id) else {
            continue;
        };
        let mut j = json!({
            "id": l.id, "self": format!("{}/issueLink/{}", api(base, v), l.id),
            "type": {"id": t.id, "name": t.name, "inward": t.inward, "outward": t.outward},
        });
        // Seen from this issue: the other end is the inward or the outward issue.
        if l.outward == issue.id {
            j["inwardIssue"] = short(l.inward);
        } else {
            j["outwardIssue"] = short(l.outward);
        }
        out.push(j);
    }
    Value::Array(out)
}

/// Every field of an issue, before selection.
fn all_fields(db: &JiraDb, base: &str, v: Version, i: &Issue, tz: UtcOffset) -> Map<String, Value> {
    let mut f = Map::new();
    let user_or_null =
        |a: &Option<String>| a.as_deref().map_or(Value::Null, |a| user(db, base, v, a));
    f.insert("summary".into(), json!(i.summary));
    f.insert(
        "description".into(),
        i.description
            .as_ref()
            .map_or(Value::Null, |d| text_or_adf(v, d)),
    );
    f.insert("issuetype".into(), issue_type(db, base, v, &i.issuetype_id));
    f.insert("project".into(), project_short(db, base, v, &i.project_id));
    f.insert("priority".into(), priority(db, base, v, &i.priority_id));
    f.insert("labels".into(), json!(i.labels));
    f.insert(
        "components".into(),
        json!(
            i.components
                .iter()
                .map(|c| json!({"name": c}))
                .collect::<Vec<_>>()
        ),
    );
    f.insert("assignee".into(), user_or_null(&i.assignee));
    f.insert("reporter".into(), user_or_null(&i.reporter));
    f.insert("creator".into(), user(db, base, v, &i.creator));
    f.insert(
        "status".into(),
        db.status(&i.status_id)
            .map_or(Value::Null, |s| status(base, v, s)),
    );
    f.insert("resolution".into(), i.resolution_id.as_deref().and_then(|r| db.resolution(r)).map_or(Value::Null, |r| {
        json!({"self": format!("{}/resolution/{}", api(base, v), r.id), "id": r.id, "name": r.name, "description": ""})
    }));
    f.insert(
        "resolutiondate".into(),
        i.resolution_date
            .map_or(Value::Null, |t| json!(datetime(t, tz))),
    );
    f.insert("created".into(), json!(datetime(i.created, tz)));
    f.insert("updated".into(), json!(datetime(i.updated, tz)));
    f.insert(
        "statuscategorychangedate".into(),
        json!(datetime(i.status_category_changed, tz)),
    );
    f.insert(
        "duedate".into(),
        i.duedate.as_ref().map_or(Value::Null, |d| json!(d)),
    );
    if let Some(p) = i.parent.and_then(|p| db.issues.get(&p)) {
        f.insert("parent".into(), json!({"id": p.id.to_string(), "key": p.key, "self": format!("{}/issue/{}", api(base, v), p.id),
            "fields": {"summary": p.summary}}));
    }
    let subtasks: Vec<Value> = db.issues.values().filter(|c| c.parent == Some(i.id))
        .map(|c| json!({"id": c.id.to_string(), "key": c.key, "self": format!("{}/issue/{}", api(base, v), c.id)}))
        .collect();
    f.insert("subtasks".into(), Value::Array(subtasks));
    f.insert("issuelinks".into(), links(db, base, v, i));
    let comments: Vec<Value> = i
        .comments
        .iter()
        .map(|c| comment(db, base, v, i, c, tz))
        .collect();
    let n = comments.len();
    f.insert(
        "comment".into(),
        json!({"comments": comments, "maxResults": n, "total": n, "startAt": 0}),
    );
    if let Some(p) = db.project_by_id(&i.project_id) {
        for cf in &p.custom_fields {
            f.insert(cf.clone(), i.custom.get(cf).cloned().unwrap_or(Value::Null));
        }
    }
    f
}

pub struct IssueView<'a> {
    pub version: Version,
    pub fields: &'a FieldSel,
    pub tz: UtcOffset,
    pub changelog: bool,
}

pub fn issue(db: &JiraDb, base: &str, i: &Issue, view: &IssueView<'_>) -> Value {
    let v = view.version;
    let mut out = json!({
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": i.id.to_string(),
        "self": format!("{}/issue/{}", api(base, v), i.id),
        "key": i.key,
    });
    let selected: Map<String, Value> = all_fields(db, base, v, i, view.tz)
        .into_iter()
        .filter(|(k, _)| view.fields.wants(k))
        .collect();
    if !selected.is_empty() || !view.fields.ids_only() {
        out["fields"] = Value::Object(selected);
    }
    if view.changelog {
        out["changelog"] = changelog(db, base, v, i, view.tz);
    }
    out
}

fn changelog(db: &JiraDb, base: &str, v: Version, i: &Issue, tz: UtcOffset) -> Value {
    // Most recent first, like `expand=changelog` on an issue.
    let histories: Vec<Value> = i
        .histories
        .iter()
        .rev()
        .map(|h| {
            json!({
                "id": h.id,
                "author": user(db, base, v, &h.author),
                "created": datetime(h.created, tz),
                "items": h.items.iter().map(change_item).collect::<Vec<_>>(),
            })
        })
        .collect();
    let n = histories.len();
    json!({"startAt": 0, "maxResults": n, "total": n, "histories": histories})
}

pub fn change_item(c: &super::model::ChangeItem) -> Value {
    json!({
        "field": c.field, "fieldtype": "jira", "fieldId": c.field_id,
        "from": c.from, "fromString": c.from_string, "to": c.to, "toString": c.to_string,
    })
}
