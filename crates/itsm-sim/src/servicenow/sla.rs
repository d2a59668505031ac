//! A small SLA engine (§6): `contract_sla` definitions whose start and stop conditions are encoded
//! queries attach `task_sla` rows to tasks. Timings (`percentage`, `time_left`, `has_breached`)
//! lag like the platform's: they move only when the SLA job runs (`recalculate`, driven by a timer
//! and by `POST /_sim/servicenow/sla/recalculate`) or when an SLA stops.

use time::{Duration, OffsetDateTime};

use super::acl::Caller;
use super::db::{Db, Record};
use super::query::{bind, matches, parse};
use super::schema::{TableDef, table};
use super::seed::raw_insert;
use crate::clock::{format_duration_value, format_utc, parse_duration_value, parse_utc};

fn condition_holds(
    db: &Db,
    def: &'static TableDef,
    rec: &Record,
    encoded: &str,
    now: OffsetDateTime,
) -> bool {
    let system = Caller::system();
    let bound = bind(&parse(encoded), def, &system.env(now));
    !bound.query.is_unconditional() && matches(&bound, db, def, rec)
}

/// Starts, stops or cancels SLAs of one task after it was written.
pub fn on_task_write(db: &mut Db, def: &'static TableDef, task_id: &str, now: OffsetDateTime) {
    let (Some(sd), Some(cd)) = (table("task_sla"), table("contract_sla")) else {
        return;
    };
    let Some(task) = db.table(def.name).and_then(|t| t.get(task_id)).cloned() else {
        return;
    };
    let definitions: Vec<Record> = db
        .rows("contract_sla")
        .iter()
        .filter(|d| d.get(cd, "collection") == def.name && d.get(cd, "active") == "true")
        .cloned()
        .collect();
    for d in definitions {
        let start = condition_holds(db, def, &task, d.get(cd, "start_condition"), now);
        let stop = condition_holds(db, def, &task, d.get(cd, "stop_condition"), now);
        let running = db
            .slas_of(task_id)
            .into_iter()
            .find(|s| s.get(sd, "sla") == d.sys_id() && s.get(sd, "active") == "true")
            .map(|s| s.sys_id().to_string());
        match running {
            Some(id) if stop => finish(db, &id, "completed", now),
            Some(id) if !start => finish(db, &id, "cancelled", now),
            Some(_) => {}
            None if start && !stop => {
                let secs = parse_duration_value(d.get(cd, "duration")).unwrap_or(0);
                let breach = format_utc(now + Duration::seconds(secs));
                let left = format_duration_value(secs);
                let zero = format_duration_value(0);
                let started = format_utc(now);
                let sla_id = raw_insert(
                    db,
                    "task_sla",
                    None,
                    &[
                        ("task", task_id),
                        ("sla", d.sys_id()),
                        ("stage", "in_progress"),
                        ("start_time", &started),
                        ("planned_end_time", &breach),
                        ("original_breach_time", &breach),
                        ("duration", &zero),
                        ("business_duration", &zero),
                        ("time_left", &left),
                        ("business_time_left", &left),
                        ("pause_duration", &zero),
                        ("business_pause_duration", &zero),
                    ],
                    now,
                );
                db.index_sla(task_id, &sla_id);
            }
            None => {}
        }
    }
    refresh_task_summary(db, def, task_id);
}

fn finish(db: &mut Db, sla_id: &str, stage: &str, now: OffsetDateTime) {
    let Some(sd) = table("task_sla") else { return };
    if let Some(t) = db.table_mut("task_sla") {
        t.update_with(sla_id, |row| {
            compute_timings(sd, row, now);
            row.set(sd, "stage", stage);
            row.set(sd, "active", "false");
            row.set(sd, "end_time", format_utc(now));
            row.set(sd, "sys_updated_on", format_utc(now));
        });
    }
}

fn compute_timings(sd: &TableDef, row: &mut Record, now: OffsetDateTime) {
    let (Some(start), Some(breach)) = (
        parse_utc(row.get(sd, "start_time")),
        parse_utc(row.get(sd, "planned_end_time")),
    ) else {
        return;
    };
    let total = (breach - start).whole_seconds().max(1);
    let elapsed = (now - start).whole_seconds().max(0);
    let left = (breach - now).whole_seconds().max(0);
    let pct = format!("{:.2}", elapsed as f64 * 100.0 / total as f64);
    for (f, v) in [
        ("duration", format_duration_value(elapsed)),
        ("business_duration", format_duration_value(elapsed)),
        ("time_left", format_duration_value(left)),
        ("business_time_left", format_duration_value(left)),
        ("percentage", pct.clone()),
        ("business_percentage", pct),
        // No schedule: has_breached = time_left <= 0 (the engine's rule, §6).
        ("has_breached", (now >= breach).to_string()),
    ] {
        row.set(sd, f, v);
    }
}

/// The SLA job: refreshes every running SLA's timings. Returns how many rows it touched.
pub fn recalculate(db: &mut Db, now: OffsetDateTime) -> usize {
    let Some(sd) = table("task_sla") else {
        return 0;
    };
    let mut tasks = Vec::new();
    let mut n = 0;
    if let Some(t) = db.table_mut("task_sla") {
        let ids: Vec<String> = t
            .rows()
            .iter()
            .filter(|r| r.get(sd, "active") == "true")
            .map(|r| r.sys_id().to_string())
            .collect();
        for id in ids {
            let task = t.update_with(&id, |row| {
                compute_timings(sd, row, now);
                row.set(sd, "sys_updated_on", format_utc(now));
                row.get(sd, "task").to_string()
            });
            if let Some(task) = task {
                tasks.push(task);
                n += 1;
            }
        }
    }
    for task in tasks {
        if let Some((def, _)) = db.resolve_ref("task", &task) {
            refresh_task_summary(db, def, &task);
        }
    }
    n
}

/// `sla_due` is the earliest breach time of the running SLAs; `made_sla` turns false once any SLA of
/// the task has breached.
fn refresh_task_summary(db: &mut Db, def: &'static TableDef, task_id: &str) {
    let Some(sd) = table("task_sla") else { return };
    let slas = db.slas_of(task_id);
    let due = slas
        .iter()
        .filter(|s| s.get(sd, "active") == "true")
        .map(|s| s.get(sd, "planned_end_time").to_string())
        .min()
        .unwrap_or_default();
    let breached = slas.iter().any(|s| s.get(sd, "has_breached") == "true");
    if let Some(t) = db.table_mut(def.name) {
        t.update_with(task_id, |rec| {
            rec.set(def, "sla_due", due);
            if breached {
                rec.set(def, "made_sla", "false");
            }
        });
    }
}
