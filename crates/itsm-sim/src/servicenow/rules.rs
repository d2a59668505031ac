//! Business rules and data policies the base system runs on save (§3.2–§3.4, §4.2).

use std::collections::HashSet;

use super::db::{Db, Record};
use super::errors::SnError;
use super::schema::TableDef;
use super::write::WriteCtx;
use crate::clock::format_utc;

/// Priority lookup rules (`dl_u_priority`), impact × urgency → priority (§3.3).
pub fn incident_priority(impact: &str, urgency: &str) -> Option<&'static str> {
    let p = match (impact, urgency) {
        ("1", "1") => "1",
        ("1", "2") | ("2", "1") => "2",
        ("1", "3") | ("2", "2") | ("3", "1") => "3",
        ("2", "3") | ("3", "2") => "4",
        ("3", "3") => "5",
        _ => return None,
    };
    Some(p)
}

const RESOLVED: &str = "6";
const CLOSED: &str = "7";
const CANCELED: &str = "8";

pub fn apply(
    db: &Db,
    def: &TableDef,
    prev: Option<&Record>,
    rec: &mut Record,
    set: &HashSet<&'static str>,
    ctx: &WriteCtx<'_>,
) -> Result<(), SnError> {
    match def.name {
        "incident" => incident(db, def, prev, rec, set, ctx),
        "change_request" => {
            change_request(def, prev, rec, ctx);
            Ok(())
        }
        "sys_user" => {
            if (set.contains("first_name") || set.contains("last_name")) && !set.contains("name") {
                let name = format!(
                    "{} {}",
                    rec.get(def, "first_name"),
                    rec.get(def, "last_name")
                );
                rec.set(def, "name", name.trim());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn incident(
    db: &Db,
    def: &TableDef,
    prev: Option<&Record>,
    rec: &mut Record,
    set: &HashSet<&'static str>,
    ctx: &WriteCtx<'_>,
) -> Result<(), SnError> {
    // state and incident_state stay in sync (measured, §3.2).
    if set.contains("state") {
        let s = rec.get(def, "state").to_string();
        rec.set(def, "incident_state", s);
    } else if set.contains("incident_state") {
        let s = rec.get(def, "incident_state").to_string();
        rec.set(def, "state", s);
    }
    // Priority is computed; an explicitly sent priority is overwritten.
    if let Some(p) = incident_priority(rec.get(def, "impact"), rec.get(def, "urgency")) {
        rec.set(def, "priority", p);
    }

    let state = rec.get(def, "state").to_string();
    let before = prev
        .map(|p| p.get(def, "state").to_string())
        .unwrap_or_default();
    // Data policy "Make close info mandatory when resolved or closed". Whether close_notes is part
    // of the base policy is UNCONFIRMED (§3.4); only the resolution code is enforced, as measured.
    if (state == RESOLVED || state == CLOSED)
        && !db.is_choice("incident", "close_code", rec.get(def, "close_code"))
    {
        return Err(SnError::data_policy("Resolution code"));
    }

    let now = format_utc(ctx.now);
    let me = ctx.caller.user_id.clone();
    let finished = |s: &str| matches!(s, RESOLVED | CLOSED | CANCELED);
    if state == RESOLVED && before != RESOLVED {
        rec.set(def, "resolved_at", now.clone());
        rec.set(def, "resolved_by", me.clone());
    }
    if state == CLOSED && before != CLOSED {
        if rec.get(def, "resolved_at").is_empty() {
            rec.set(def, "resolved_at", now.clone());
            rec.set(def, "resolved_by", me.clone());
        }
        rec.set(def, "closed_at", now.clone());
        rec.set(def, "closed_by", me);
    }
    // Closed and canceled incidents are inactive; a resolved one stays active until auto-close.
    if state == CLOSED || state == CANCELED {
        rec.set(def, "active", "false");
    } else if finished(&before) && !finished(&state) {
        // Reopened: the close stamps go, the record is active again.
        rec.set(def, "active", "true");
        for f in ["resolved_at", "resolved_by", "closed_at", "closed_by"] {
            rec.set(def, f, "");
        }
        let n: u64 = rec.get(def, "reopen_count").parse().unwrap_or(0);
        rec.set(def, "reopen_count", (n + 1).to_string());
    }
    if state != "3" && !rec.get(def, "hold_reason").is_empty() && !set.contains("hold_reason") {
        rec.set(def, "hold_reason", "");
    }
    if let Some(p) = prev {
        let (old, new) = (
            p.get(def, "assignment_group"),
            rec.get(def, "assignment_group"),
        );
        if !old.is_empty() && old != new {
            let n: u64 = rec.get(def, "reassignment_count").parse().unwrap_or(0);
            rec.set(def, "reassignment_count", (n + 1).to_string());
        }
    }
    Ok(())
}

/// Change state transitions are not enforced through the Table API (UNCONFIRMED, §4.2); only the
/// close stamps and `active` follow the state.
fn change_request(def: &TableDef, prev: Option<&Record>, rec: &mut Record, ctx: &WriteCtx<'_>) {
    let state = rec.get(def, "state").to_string();
    let before = prev
        .map(|p| p.get(def, "state").to_string())
        .unwrap_or_default();
    if state == "3" && before != "3" {
        rec.set(def, "closed_at", format_utc(ctx.now));
        rec.set(def, "closed_by", ctx.caller.user_id.clone());
    }
    let active = if state == "3" || state == "4" {
        "false"
    } else {
        "true"
    };
    rec.set(def, "active", active);
}

#[cfg(test)]
mod tests {
    use super::incident_priority;

    #[test]
    fn priority_matrix() {
        let expect = [
            ("1", "1", "1"),
            ("1", "2", "2"),
            ("1", "3", "3"),
            ("2", "1", "2"),
            ("2", "2", "3"),
            ("2", "3", "4"),
            ("3", "1", "3"),
            ("3", "2", "4"),
            ("3", "3", "5"),
        ];
        for (i, u, p) in expect {
            assert_eq!(incident_priority(i, u), Some(p), "impact {i} urgency {u}");
        }
        assert_eq!(incident_priority("4", "1"), None);
    }
}
