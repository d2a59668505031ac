//! Request operations (reference B3/B4): create (template-mandatory fields → 4012 with
//! `fields[]`), read, update, trash, `_close` with closure info, resolutions, notes and
//! `link_requests`. Every write stamps `last_updated_time` and fires the portal's webhooks.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::db::Portal;
use super::errors::{SResult, SdpError};
use super::hooks::{self, Event};
use super::input::{self, object};
use super::model::{Closure, Link, Note, Request, Resolution, Technician};
use super::render::{self, ok};
use super::{SReq, Sdp};

fn one(key: &str, v: Value) -> Value {
    json!({key: v, "response_status": ok()})
}

/// Stamps the request after a change, sets resolved/completed times when the status became a
/// completed one, and fires webhooks.
fn touched(sdp: &Sdp, p: &mut Portal, id: &str, status_changed: bool, ev: Event) {
    let now = sdp.now_ms();
    let Some(r) = p.request(id).cloned() else {
        return;
    };
    let completed = p.status(&r.status).is_some_and(|s| !s.in_progress);
    let closed = p
        .status(&r.status)
        .and_then(|s| s.internal_name.clone())
        .as_deref()
        == Some("Closed");
    if let Some(r) = p.request_mut(id) {
        r.last_updated_ms = now;
        if status_changed {
            if completed {
                r.resolved_ms.get_or_insert(now);
            } else {
                r.resolved_ms = None;
                r.completed_ms = None;
            }
            if closed {
                r.completed_ms = Some(now);
            }
        }
    }
    hooks::emit(sdp, p, id, ev);
}

fn live<'a>(p: &'a Portal, id: &str) -> SResult<&'a Request> {
    p.request(id)
        .filter(|r| !r.is_trashed)
        .ok_or_else(SdpError::not_found)
}

pub fn create(sdp: &Sdp, who: &Technician, req: &SReq) -> SResult<Value> {
    let fields = object(req.input.as_ref(), "request")?;
    let mut db = sdp.db.write();
    let p = db.portal_mut(&req.portal).ok_or_else(SdpError::not_found)?;
    let open = p
        .status_named("Open")
        .or(p.statuses.first())
        .map(|s| s.id.clone());
    let default_template = p.templates.first().map(|t| t.id.clone());
    let now = sdp.now_ms();
    let mut r = Request {
        id: String::new(),
        display_id: String::new(),
        subject: String::new(),
        description: String::new(),
        requester: Some(who.id.clone()),
        technician: None,
        status: open.unwrap_or_default(),
        lookups: BTreeMap::new(),
        udf_fields: Map::new(),
        created_ms: now,
        last_updated_ms: now,
        resolved_ms: None,
        completed_ms: None,
        due_by_ms: None,
        is_trashed: false,
        closure: None,
        resolution: None,
        notes: Vec::new(),
        links: Vec::new(),
    };
    if let Some(t) = default_template {
        r.lookups.insert("template".into(), t);
    }
    // Only `subject` is mandatory unless the template says more (reference B3).
    let mut missing = Vec::new();
    if fields
        .get("subject")
        .and_then(Value::as_str)
        .is_none_or(|s| s.trim().is_empty())
    {
        missing.push("subject".to_string());
    }
    // An empty subject counts as missing (4012), not as an invalid value.
    let mut fields = fields.clone();
    if missing.iter().any(|m| m == "subject") {
        fields.remove("subject");
    }
    input::apply(p, &mut r, &fields)?;
    if let Some(t) = r
        .lookups
        .get("template")
        .and_then(|t| p.templates.iter().find(|x| &x.id == t))
    {
        for f in &t.mandatory {
            let given = if f.starts_with("udf_") {
                r.udf_fields.get(f).is_some_and(|v| !v.is_null() && v != "")
            } else {
                r.lookups.contains_key(f)
                    || (f == "technician" && r.technician.is_some())
                    || (f == "due_by_time" && r.due_by_ms.is_some())
            };
            if !given && !missing.contains(f) {
                missing.push(f.clone());
            }
        }
    }
    if !missing.is_empty() {
        return Err(SdpError::mandatory(missing));
    }
    r.id = p.alloc_id();
    r.display_id = match p.flavour {
        super::model::Flavour::OnPrem => r.id.clone(),
        super::model::Flavour::Cloud => p.alloc_display(),
    };
    let key = Portal::request_key(&r.id).unwrap_or_default();
    let id = r.id.clone();
    p.requests.insert(key, r);
    hooks::emit(sdp, p, &id, Event::Create);
    let r = live(p, &id)?;
    Ok(one("request", render::request(p, r)))
}

pub fn get(sdp: &Sdp, req: &SReq, id: &str) -> SResult<Value> {
    let db = sdp.db.read();
    let p = db.portal(&req.portal).ok_or_else(SdpError::not_found)?;
    // A trashed request is still readable by id, flagged `is_trashed` (UNCONFIRMED).
    let r = p.request(id).ok_or_else(SdpError::not_found)?;
    Ok(one("request", render::request(p, r)))
}

pub fn update(sdp: &Sdp, _who: &Technician, req: &SReq, id: &str) -> SResult<Value> {
    let fields = object(req.input.as_ref(), "request")?;
    let mut db = sdp.db.write();
    let p = db.portal_mut(&req.portal).ok_or_else(SdpError::not_found)?;
    let mut r = live(p, id)?.clone();
    let changed = input::apply(p, &mut r, fields)?;
    if let Some(slot) = p.request_mut(id) {
        *slot = r;
    }
    touched(sdp, p, id, changed, Event::Update);
    Ok(one("request", render::request(p, live(p, id)?)))
}

pub fn trash(sdp: &Sdp, _who: &Technician, req: &SReq, id: &str) -> SResult<Value> {
    let mut db = sdp.db.write();
    let p = db.portal_mut(&req.portal).ok_or_else(SdpError::not_found)?;
    live(p, id)?;
    if let Some(r) = p.request_mut(id) {
        r.is_trashed = true;
    }
    touched(sdp, p, id, false, Event::Update);
    Ok(json!({"response_status": ok()}))
}

pub fn close(sdp: &Sdp, _who: &Technician, req: &SReq, id: &str) -> SResult<Value> {
    let info = req
        .input
        .as_ref()
        .and_then(|v| v.pointer("/request/closure_info"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut db = sdp.db.write();
    let p = db.portal_mut(&req.portal).ok_or_else(SdpError::not_found)?;
    live(p, id)?;
    let code = match info.get("closure_code") {
        Some(v) => input::lookup(p, "closure_code", v)?,
        None => None,
    };
    let s = |k: &str| {
        info.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let closure = Closure {
        closure_code: code,
        closure_comments: s("closure_comments"),
        requester_ack_resolution: info
            .get("requester_ack_resolution")
            .is_some_and(|v| v == true || v == "true"),
        requester_ack_comments: s("requester_ack_comments"),
    };
    let closed = p
        .statuses
        .iter()
        .find(|s| s.internal_name.as_deref() == Some("Closed"))
        .map(|s| s.id.clone())
        .ok_or_else(|| SdpError::new(4004, "The portal has no Closed status"))?;
    let mut changed = false;
    if let Some(r) = p.request_mut(id) {
        changed = r.status != closed;
        r.status = closed;
        r.closure = Some(closure);
    }
    touched(sdp, p, id, changed, Event::Update);
    // What `_close` answers besides `response_status` is UNCONFIRMED; the closed request here.
    Ok(one("request", render::request(p, live(p, id)?)))
}

pub fn resolution(sdp: &Sdp, req: &SReq, id: &str) -> SResult<Value> {
    let db = sdp.db.read();
    let p = db.portal(&req.portal).ok_or_else(SdpError::not_found)?;
    let r = live(p, id)?;
    let v = render::request(p, r)["resolution"].clone();
    Ok(one("resolution", v))
}

pub fn resolve(sdp: &Sdp, who: &Technician, req: &SReq, id: &str) -> SResult<Value> {
    let fields = object(req.input.as_ref(), "resolution")?;
    let content = fields
        .get("content")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| SdpError::mandatory(vec!["content".into()]))?;
    let now = sdp.now_ms();
    let mut db = sdp.db.write();
    let p = db.portal_mut(&req.portal).ok_or_else(SdpError::not_found)?;
    live(p, id)?;
    if let Some(r) = p.request_mut(id) {
        r.resolution = Some(Resolution {
            content: content.into(),
            submitted_by: who.id.clone(),
            submitted_ms: now,
        });
    }
    touched(sdp, p, id, false, Event::Update);
    let v = render::request(p, live(p, id)?)["resolution"].clone();
    Ok(one("resolution", v))
}

fn note_json(p: &Portal, n: &Note) -> Value {
    json!({"id": n.id, "description": n.description, "show_to_requester": n.show_to_requester,
           "created_by": render::user(p, Some(&n.created_by)),
           "created_time": render::time(Some(n.created_ms))})
}

pub fn notes(sdp: &Sdp, req: &SReq, id: &str) -> SResult<Value> {
    let db = sdp.db.read();
    let p = db.portal(&req.portal).ok_or_else(SdpError::not_found)?;
    let r = live(p, id)?;
    let notes: Vec<Value> = r.notes.iter().map(|n| note_json(p, n)).collect();
    let count = notes.len();
    Ok(json!({"notes": notes, "response_status": [ok()],
              "list_info": {"has_more_rows": false, "start_index": 1, "row_count": count}}))
}

/// The note object's key (`note` vs `request_note`) is not in the reference (UNCONFIRMED):
/// both are accepted, `note` is answered.
pub fn add_note(sdp: &Sdp, who: &Technician, req: &SReq, id: &str) -> SResult<Value> {
    let fields = object(req.input.as_ref(), "note")
        .or_else(|_| object(req.input.as_ref(), "request_note"))?;
    let description = fields
        .get("description")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| SdpError::mandatory(vec!["description".into()]))?;
    let now = sdp.now_ms();
    let mut db = sdp.db.write();
    let p = db.portal_mut(&req.portal).ok_or_else(SdpError::not_found)?;
    live(p, id)?;
    let note = Note {
        id: p.alloc_id(),
        description: description.into(),
        show_to_requester: fields
            .get("show_to_requester")
            .is_some_and(|v| v == true || v == "true"),
        created_by: who.id.clone(),
        created_ms: now,
    };
    if let Some(r) = p.request_mut(id) {
        r.notes.push(note.clone());
    }
    touched(sdp, p, id, false, Event::Update);
    Ok(one("note", note_json(p, &note)))
}

fn links_json(p: &Portal, r: &Request) -> Vec<Value> {
    r.links
        .iter()
        .filter_map(|l| {
            let o = p.request(&l.request_id)?;
            Some(
                json!({"linked_request": {"id": o.id, "display_id": o.display_id,
                        "subject": o.subject}, "comments": l.comments}),
            )
        })
        .collect()
}

pub fn links(sdp: &Sdp, req: &SReq, id: &str) -> SResult<Value> {
    let db = sdp.db.read();
    let p = db.portal(&req.portal).ok_or_else(SdpError::not_found)?;
    let r = live(p, id)?;
    Ok(json!({"link_requests": links_json(p, r), "response_status": ok()}))
}

/// POST adds, DELETE removes; a link shows on both requests (UNCONFIRMED symmetry).
pub fn link(sdp: &Sdp, _who: &Technician, req: &SReq, id: &str, add: bool) -> SResult<Value> {
    let items = req
        .input
        .as_ref()
        .and_then(|v| v.get("link_requests"))
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| {
            SdpError::field(
                4001,
                "link_requests",
                "input_data must hold a \"link_requests\" array",
            )
        })?;
    let mut db = sdp.db.write();
    let p = db.portal_mut(&req.portal).ok_or_else(SdpError::not_found)?;
    live(p, id)?;
    let mut pairs = Vec::new();
    for item in &items {
        let other = item
            .pointer("/linked_request/id")
            .and_then(|v| {
                v.as_str()
                    .map(String::from)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            })
            .filter(|o| o != id && p.request(o).is_some_and(|r| !r.is_trashed))
            .ok_or_else(|| {
                SdpError::field(4001, "linked_request", "linked_request is not valid")
            })?;
        let comments = item
            .get("comments")
            .and_then(Value::as_str)
            .unwrap_or_default();
        pairs.push((other, comments.to_string()));
    }
    for (other, comments) in &pairs {
        for (a, b) in [(id, other.as_str()), (other.as_str(), id)] {
            if let Some(r) = p.request_mut(a) {
                r.links.retain(|l| l.request_id != b);
                if add {
                    r.links.push(Link {
                        request_id: b.into(),
                        comments: comments.clone(),
                    });
                }
            }
        }
    }
    touched(sdp, p, id, false, Event::Update);
    let r = live(p, id)?;
    Ok(json!({"link_requests": links_json(p, r), "response_status": ok()}))
}
