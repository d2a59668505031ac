//! Reading `input_data` (reference B2/B3): lookups by `{"name"}` or `{"id"}` (a bare string is
//! taken as a name), people by `{"email_id"}`, `{"id"}` or `{"name"}`, times as `{"value": ms}`,
//! UDFs under `udf_fields` checked against the portal's definitions.

use serde_json::{Map, Value};

use super::db::{LOOKUP_KINDS, Portal};
use super::errors::{SResult, SdpError};
use super::model::{Request, UdfType};

fn invalid(field: &str) -> SdpError {
    SdpError::field(4001, field, format!("{field} is not valid"))
}

fn key_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(|x| match x {
        Value::String(s) => Some(s.as_str()),
        _ => None,
    })
}

fn id_of(v: &Value) -> Option<String> {
    match v.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `{"name": …}` / `{"id": …}` / `"name"` → the lookup id of `kind`; `null` clears.
pub fn lookup(p: &Portal, kind: &str, v: &Value) -> SResult<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    let items: Vec<(String, String)> = if kind == "template" {
        p.templates
            .iter()
            .map(|t| (t.id.clone(), t.name.clone()))
            .collect()
    } else {
        p.lookups
            .get(kind)
            .map(|l| l.iter().map(|l| (l.id.clone(), l.name.clone())).collect())
            .unwrap_or_default()
    };
    let found = if let Some(id) = id_of(v) {
        items.iter().find(|(i, _)| *i == id)
    } else if let Some(name) = key_of(v, "name").or(v.as_str()) {
        items.iter().find(|(_, n)| n.eq_ignore_ascii_case(name))
    } else {
        None
    };
    found
        .map(|(id, _)| Some(id.clone()))
        .ok_or_else(|| invalid(kind))
}

pub fn status(p: &Portal, v: &Value) -> SResult<String> {
    let found = if let Some(id) = id_of(v) {
        p.status(&id)
    } else {
        key_of(v, "name")
            .or(v.as_str())
            .and_then(|n| p.status_named(n))
    };
    found.map(|s| s.id.clone()).ok_or_else(|| invalid("status"))
}

/// A person by `email_id`, `id` or `name`; `null` clears.
pub fn person(p: &Portal, field: &str, v: &Value) -> SResult<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    let found = if let Some(e) = key_of(v, "email_id") {
        p.technicians
            .iter()
            .find(|t| t.email_id.eq_ignore_ascii_case(e))
    } else if let Some(id) = id_of(v) {
        p.technician(&id)
    } else if let Some(n) = key_of(v, "name") {
        p.technicians
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(n))
    } else {
        None
    };
    let found = found.ok_or_else(|| invalid(field))?;
    if field == "technician" && !found.is_technician {
        return Err(invalid(field));
    }
    Ok(Some(found.id.clone()))
}

/// `{"value": "<ms>"}` or a bare number; anything else is 4001 "Unable to parse JSON".
pub fn time(field: &str, v: &Value) -> SResult<Option<i64>> {
    if v.is_null() {
        return Ok(None);
    }
    let raw = v.get("value").unwrap_or(v);
    let ms = match raw {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    ms.map(Some)
        .ok_or_else(|| SdpError::field(4001, field, format!("Unable to parse JSON for : {field}")))
}

fn udfs(p: &Portal, into: &mut Map<String, Value>, v: &Value) -> SResult<()> {
    let Some(obj) = v.as_object() else {
        return Err(invalid("udf_fields"));
    };
    for (k, val) in obj {
        let def = p
            .udfs
            .iter()
            .find(|d| &d.key == k)
            .ok_or_else(|| invalid(k))?;
        let ok = match def.kind {
            UdfType::SingleLine => val.is_string() || val.is_null(),
            UdfType::Numeric => {
                val.is_i64()
                    || val.is_null()
                    || val.as_str().is_some_and(|s| s.parse::<i64>().is_ok())
            }
        };
        if !ok {
            return Err(SdpError::field(
                4021,
                k,
                format!("Data type mismatch for {k}"),
            ));
        }
        into.insert(k.clone(), val.clone());
    }
    Ok(())
}

/// Applies the fields of `{"request": {…}}` to `r`. Returns whether the status changed.
pub fn apply(p: &Portal, r: &mut Request, fields: &Map<String, Value>) -> SResult<bool> {
    let mut status_changed = false;
    for (k, v) in fields {
        match k.as_str() {
            "subject" => {
                let s = v.as_str().ok_or_else(|| invalid("subject"))?;
                // 250 characters at most (Cloud doc, reference B3).
                if s.trim().is_empty() || s.chars().count() > 250 {
                    return Err(invalid("subject"));
                }
                r.subject = s.into();
            }
            "description" => r.description = v.as_str().unwrap_or_default().into(),
            "status" => {
                let s = status(p, v)?;
                status_changed = s != r.status;
                r.status = s;
            }
            "requester" => r.requester = person(p, k, v)?,
            "technician" => r.technician = person(p, k, v)?,
            "due_by_time" => r.due_by_ms = time(k, v)?,
            "udf_fields" => udfs(p, &mut r.udf_fields, v)?,
            "template" => set(r, k, lookup(p, k, v)?),
            kind if LOOKUP_KINDS.contains(&kind) && kind != "closure_code" => {
                set(r, kind, lookup(p, kind, v)?)
            }
            // Accepted and not modelled: reasons, read-only fields echoed back by clients.
            "update_reason" | "id" | "display_id" | "created_time" | "last_updated_time" => {}
            other => {
                return Err(SdpError::field(
                    4001,
                    other,
                    format!("{other} is not a field the emulator models"),
                ));
            }
        }
    }
    Ok(status_changed)
}

fn set(r: &mut Request, kind: &str, id: Option<String>) {
    match id {
        Some(id) => r.lookups.insert(kind.into(), id),
        None => r.lookups.remove(kind),
    };
}

/// `input_data`'s `key` object, or 4001 naming what is missing.
pub fn object<'a>(input: Option<&'a Value>, key: &str) -> SResult<&'a Map<String, Value>> {
    input
        .and_then(|v| v.get(key))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            SdpError::field(
                4001,
                key,
                format!("input_data must hold a \"{key}\" object"),
            )
        })
}
