//! JSON shapes of SDP objects (reference B3): times as `{"value": "<epoch ms string>",
//! "display_value"}`, ids as strings, statuses with `in_progress`/`stop_timer`, the full request on
//! single-record calls and a reduced one in lists.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use super::db::{LOOKUP_KINDS, Portal};
use super::model::{Request, Status};

/// `{"value": "1593000300533", "display_value": "Jun 24, 2020 03:05 PM"}` (UTC display).
pub fn time(ms: Option<i64>) -> Value {
    let Some(ms) = ms else { return Value::Null };
    let fmt =
        format_description!("[month repr:short] [day], [year] [hour repr:12]:[minute] [period]");
    let display = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_default();
    json!({"value": ms.to_string(), "display_value": display})
}

pub fn user(p: &Portal, id: Option<&str>) -> Value {
    match id.and_then(|id| p.technician(id)) {
        Some(t) => json!({"id": t.id, "name": t.name, "email_id": t.email_id,
                          "is_technician": t.is_technician, "is_vipuser": false}),
        None => Value::Null,
    }
}

pub fn status(s: &Status) -> Value {
    json!({"id": s.id, "name": s.name, "internal_name": s.internal_name,
           "in_progress": s.in_progress, "stop_timer": s.stop_timer, "color": s.color})
}

fn lookup(p: &Portal, r: &Request, kind: &str) -> Value {
    r.lookups
        .get(kind)
        .and_then(|id| p.lookup(kind, id))
        .map_or(Value::Null, |l| json!({"id": l.id, "name": l.name}))
}

fn template(p: &Portal, r: &Request) -> Value {
    r.lookups
        .get("template")
        .and_then(|id| p.templates.iter().find(|t| &t.id == id))
        .map_or(Value::Null, |t| json!({"id": t.id, "name": t.name}))
}

fn request_status(p: &Portal, r: &Request) -> Value {
    p.status(&r.status).map_or(Value::Null, status)
}

/// The full request (`GET /requests/{id}`).
pub fn request(p: &Portal, r: &Request) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(r.id));
    o.insert("display_id".into(), json!(r.display_id));
    o.insert("subject".into(), json!(r.subject));
    o.insert("description".into(), json!(r.description));
    o.insert("status".into(), request_status(p, r));
    o.insert("requester".into(), user(p, r.requester.as_deref()));
    o.insert("technician".into(), user(p, r.technician.as_deref()));
    for kind in LOOKUP_KINDS.iter().filter(|k| **k != "closure_code") {
        o.insert((*kind).into(), lookup(p, r, kind));
    }
    o.insert("template".into(), template(p, r));
    o.insert("created_time".into(), time(Some(r.created_ms)));
    o.insert("last_updated_time".into(), time(Some(r.last_updated_ms)));
    o.insert("resolved_time".into(), time(r.resolved_ms));
    o.insert("completed_time".into(), time(r.completed_ms));
    o.insert("due_by_time".into(), time(r.due_by_ms));
    o.insert("udf_fields".into(), Value::Object(r.udf_fields.clone()));
    o.insert("is_trashed".into(), json!(r.is_trashed));
    o.insert("is_reopened".into(), json!(false));
    o.insert("cancellation_requested".into(), json!(false));
    o.insert("has_notes".into(), json!(!r.notes.is_empty()));
    o.insert("has_linked_requests".into(), json!(!r.links.is_empty()));
    let closure = r.closure.as_ref().map_or(Value::Null, |c| {
        let code = c
            .closure_code
            .as_deref()
            .and_then(|id| p.lookup("closure_code", id))
            .map_or(Value::Null, |l| json!({"id": l.id, "name": l.name}));
        json!({"closure_code": code, "closure_comments": c.closure_comments,
               "requester_ack_resolution": c.requester_ack_resolution,
               "requester_ack_comments": c.requester_ack_comments})
    });
    o.insert("closure_info".into(), closure);
    let resolution = r.resolution.as_ref().map_or(Value::Null, |res| {
        json!({"content": res.content, "submitted_by": user(p, Some(&res.submitted_by)),
               "submitted_on": time(Some(res.submitted_ms))})
    });
    o.insert("resolution".into(), resolution);
    Value::Object(o)
}

/// The fields a list keeps (reference B4: a reduced set; which ones exactly is UNCONFIRMED, so
/// this picks what a poller needs and leaves out description, UDFs, closure and resolution).
pub const LIST_FIELDS: &[&str] = &[
    "id",
    "display_id",
    "subject",
    "status",
    "priority",
    "requester",
    "technician",
    "group",
    "template",
    "created_time",
    "last_updated_time",
    "due_by_time",
    "is_trashed",
];

pub fn request_in_list(p: &Portal, r: &Request) -> Value {
    let full = request(p, r);
    let mut o = Map::new();
    for f in LIST_FIELDS {
        o.insert((*f).into(), full.get(*f).cloned().unwrap_or(Value::Null));
    }
    Value::Object(o)
}

pub fn ok() -> Value {
    json!({"status_code": 2000, "status": "success"})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_epoch_ms_strings_with_a_display_value() {
        let t = time(Some(1_593_000_300_533));
        assert_eq!(t["value"], "1593000300533");
        assert_eq!(t["display_value"], "Jun 24, 2020 12:05 PM");
        assert_eq!(time(None), Value::Null);
    }
}
