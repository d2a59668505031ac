//! The write pipeline shared by the Table API, the Batch API and the control API's "act as a
//! human": input filtering (§1.7), system fields, journal entries, business rules and the SLA
//! engine, in the order the platform runs them.

use std::collections::HashSet;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::acl::Caller;
use super::db::{Db, Record};
use super::errors::SnError;
use super::schema::{Kind, TableDef};
use super::seed::raw_insert;
use super::{rules, sla};
use crate::clock::{format_utc, parse_in, parse_utc};

pub struct WriteCtx<'a> {
    pub caller: &'a Caller,
    pub now: OffsetDateTime,
    /// `sysparm_input_display_value=true`: choice labels, reference display values and dates in the
    /// user's zone are accepted as input.
    pub input_display_value: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Inserted,
    Updated,
    /// Nothing differed: like the platform, no save happens and nothing moves.
    Unchanged,
}

pub struct Written {
    pub sys_id: String,
    pub change: Change,
}

fn json_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        // `{"value": …}` (the display_value=all shape) is accepted for its value.
        Value::Object(o) => o.get("value").and_then(json_to_string),
        Value::Array(_) => None,
    }
}

/// Applies client input to `rec`. Unknown, `sys_*`, read-only and password columns are ignored
/// silently; journal text is returned for appending. Returns the journal entries and the columns
/// the input set.
fn apply_input(
    db: &Db,
    def: &'static TableDef,
    rec: &mut Record,
    input: &Map<String, Value>,
    ctx: &WriteCtx<'_>,
) -> (Vec<(&'static str, String)>, HashSet<&'static str>) {
    let mut journal = Vec::new();
    let mut set = HashSet::new();
    for (key, raw) in input {
        let Some(field) = def.field(key) else {
            continue;
        };
        if key.starts_with("sys_") || field.read_only || field.kind == Kind::Password {
            continue;
        }
        let Some(value) = json_to_string(raw) else {
            continue;
        };
        let stored = match field.kind {
            Kind::Journal => {
                if !value.trim().is_empty() {
                    journal.push((field.name, value));
                }
                continue;
            }
            // "" clears a field, except a choice field (§1.7).
            Kind::Choice if value.is_empty() => continue,
            Kind::Choice => {
                let value = if ctx.input_display_value {
                    db.choice_value_for_label(def.name, field.name, &value)
                        .unwrap_or(value)
                } else {
                    value
                };
                // An unknown close_code is dropped, measured on Australia (§1.7).
                if field.strict_choice && !db.is_choice(def.name, field.name, &value) {
                    continue;
                }
                value
            }
            Kind::Ref(t)
                if !value.is_empty()
                    && db.resolve_ref(t, &value).is_none()
                    && ctx.input_display_value =>
            {
                match db.find_by_display(t, &value) {
                    Some(id) => id,
                    None => continue,
                }
            }
            Kind::DateTime if !value.is_empty() => {
                let parsed = if ctx.input_display_value {
                    parse_in(&value, ctx.caller.tz)
                } else {
                    parse_utc(&value)
                };
                // An unparseable date is not stored.
                match parsed {
                    Some(t) => format_utc(t),
                    None => continue,
                }
            }
            Kind::Bool => match value.as_str() {
                "true" | "1" => "true".to_string(),
                "false" | "0" | "" => "false".to_string(),
                _ => continue,
            },
            Kind::Int if !value.is_empty() && value.parse::<i64>().is_err() => continue,
            _ => value,
        };
        rec.set(def, field.name, stored);
        set.insert(field.name);
    }
    (journal, set)
}

fn is_sys_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_task(def: &TableDef) -> bool {
    matches!(def.name, "incident" | "change_request")
}

pub fn insert(
    db: &mut Db,
    def: &'static TableDef,
    input: &Map<String, Value>,
    ctx: &WriteCtx<'_>,
) -> Result<Written, SnError> {
    let mut rec = Record::new(def);
    // A client may choose the sys_id of a new record (GlideRecord.setNewGuidValue, pysnc sends it).
    let requested = input
        .get("sys_id")
        .and_then(Value::as_str)
        .filter(|id| is_sys_id(id));
    let sys_id = match requested {
        Some(id) if db.table(def.name).is_some_and(|t| t.get(id).is_none()) => id.to_string(),
        _ => db.new_sys_id(),
    };
    let (journal, set) = apply_input(db, def, &mut rec, input, ctx);
    let ts = format_utc(ctx.now);
    rec.set(def, "sys_id", sys_id.clone());
    rec.set(def, "sys_created_on", ts.clone());
    rec.set(def, "sys_updated_on", ts.clone());
    rec.set(def, "sys_created_by", ctx.caller.user_name.clone());
    rec.set(def, "sys_updated_by", ctx.caller.user_name.clone());
    rec.set(def, "sys_mod_count", "0");
    if is_task(def) {
        rec.set(def, "sys_class_name", def.name);
        if rec.get(def, "opened_at").is_empty() {
            rec.set(def, "opened_at", ts);
        }
        if rec.get(def, "opened_by").is_empty() {
            rec.set(def, "opened_by", ctx.caller.user_id.clone());
        }
    }
    rules::apply(db, def, None, &mut rec, &set, ctx)?;
    if let Some(number) = db.next_number(def) {
        rec.set(def, "number", number);
    }
    db.table_mut(def.name).expect("known table").insert(rec);
    finish(db, def, &sys_id, journal, ctx);
    Ok(Written {
        sys_id,
        change: Change::Inserted,
    })
}

pub fn update(
    db: &mut Db,
    def: &'static TableDef,
    sys_id: &str,
    input: &Map<String, Value>,
    ctx: &WriteCtx<'_>,
) -> Result<Written, SnError> {
    let prev = db
        .table(def.name)
        .and_then(|t| t.get(sys_id))
        .cloned()
        .ok_or_else(SnError::not_found)?;
    let mut rec = prev.clone();
    let (journal, set) = apply_input(db, def, &mut rec, input, ctx);
    rules::apply(db, def, Some(&prev), &mut rec, &set, ctx)?;
    if rec == prev && journal.is_empty() {
        return Ok(Written {
            sys_id: sys_id.to_string(),
            change: Change::Unchanged,
        });
    }
    let mods: u64 = prev.get(def, "sys_mod_count").parse().unwrap_or(0);
    rec.set(def, "sys_mod_count", (mods + 1).to_string());
    rec.set(def, "sys_updated_on", format_utc(ctx.now));
    rec.set(def, "sys_updated_by", ctx.caller.user_name.clone());
    db.table_mut(def.name)
        .and_then(|t| t.update_with(sys_id, |r| *r = rec))
        .expect("record exists");
    finish(db, def, sys_id, journal, ctx);
    Ok(Written {
        sys_id: sys_id.to_string(),
        change: Change::Updated,
    })
}

pub fn delete(db: &mut Db, def: &'static TableDef, sys_id: &str) -> Result<(), SnError> {
    db.table_mut(def.name)
        .and_then(|t| t.remove(sys_id))
        .ok_or_else(SnError::not_found)?;
    if is_task(def) {
        // task_sla rows go with their task (cascade delete).
        db.drop_slas(sys_id);
    }
    db.reindex(def.name);
    Ok(())
}

fn finish(
    db: &mut Db,
    def: &'static TableDef,
    sys_id: &str,
    journal: Vec<(&'static str, String)>,
    ctx: &WriteCtx<'_>,
) {
    for (element, text) in journal {
        raw_insert(
            db,
            "sys_journal_field",
            None,
            &[
                ("element_id", sys_id),
                ("name", def.name),
                ("element", element),
                ("value", &text),
                ("sys_created_by", &ctx.caller.user_name),
                ("sys_updated_by", &ctx.caller.user_name),
            ],
            ctx.now,
        );
    }
    db.reindex(def.name);
    if is_task(def) {
        sla::on_task_write(db, def, sys_id, ctx.now);
    }
}
