//! Evaluation against a seeded in-memory instance (the parser has its own tests in `parser.rs`).

use serde_json::{Map, Value, json};

use super::{bind, candidates, matches, parse, sort_records};
use crate::clock::SimClock;
use crate::servicenow::acl::Caller;
use crate::servicenow::db::{Db, Record};
use crate::servicenow::schema::{TableDef, table};
use crate::servicenow::seed::seed;
use crate::servicenow::write::{WriteCtx, insert};

const ABEL: &str = "62826bf03710200044e0bfc8bcbe5df1";

fn instance(rows: &[Value]) -> (Db, &'static TableDef) {
    let clock = SimClock::default();
    let mut db = Db::empty(1);
    seed(&mut db, clock.now());
    let def = table("incident").expect("incident");
    let caller = Caller::system();
    let ctx = WriteCtx {
        caller: &caller,
        now: clock.now(),
        input_display_value: false,
    };
    for r in rows {
        let m: Map<String, Value> = r.as_object().cloned().unwrap_or_default();
        insert(&mut db, def, &m, &ctx).expect("insert");
    }
    (db, def)
}

fn run(db: &Db, def: &'static TableDef, q: &str) -> Vec<String> {
    let caller = Caller::system();
    let b = bind(&parse(q), def, &caller.env(time::OffsetDateTime::now_utc()));
    let mut rows: Vec<&Record> = db
        .rows(def.name)
        .iter()
        .filter(|r| matches(&b, db, def, r))
        .collect();
    sort_records(db, def, &b.query.order, &mut rows, None);
    rows.iter()
        .map(|r| r.get(def, "short_description").to_string())
        .collect()
}

fn sample() -> (Db, &'static TableDef) {
    instance(&[
        json!({"short_description": "a", "impact": "1", "urgency": "1", "caller_id": ABEL, "correlation_id": "k1"}),
        json!({"short_description": "b", "impact": "3", "urgency": "3", "correlation_id": "k2"}),
        json!({"short_description": "c", "impact": "2", "urgency": "2", "caller_id": ABEL}),
        json!({"short_description": "d", "impact": "2", "urgency": "3", "correlation_id": "k1"}),
    ])
}

#[test]
fn unknown_fields_are_dropped_and_flagged() {
    let (_, def) = sample();
    let caller = Caller::system();
    let b = bind(
        &parse("bogus=1^priority=1^ORDERBYnope"),
        def,
        &caller.env(time::OffsetDateTime::now_utc()),
    );
    assert!(b.dropped);
    assert_eq!(b.query.groups.len(), 1);
    assert_eq!(b.query.groups[0].len(), 1);
    assert!(b.query.order.is_empty());
    assert!(
        !bind(
            &parse("priority=1"),
            def,
            &caller.env(time::OffsetDateTime::now_utc())
        )
        .dropped
    );
}

#[test]
fn numeric_choices_compare_as_numbers_and_empty_is_null() {
    let (db, def) = sample();
    assert_eq!(run(&db, def, "priority<4^ORDERBYpriority"), ["a", "c"]);
    assert_eq!(run(&db, def, "priority=01"), ["a"]);
    assert_eq!(run(&db, def, "caller_id!=nobody"), ["a", "c"]);
    assert_eq!(run(&db, def, "correlation_idNOT INk2"), ["a", "d"]);
    assert_eq!(
        run(
            &db,
            def,
            "ORDERBYcorrelation_id^ORDERBYDESCshort_description"
        ),
        ["c", "d", "a", "b"]
    );
}

#[test]
fn dot_walk_through_references() {
    let (db, def) = sample();
    assert_eq!(run(&db, def, "caller_id.user_name=abel.tuter"), ["a", "c"]);
    assert_eq!(
        run(&db, def, "caller_id.nameSTARTSWITHAbel^priority=3"),
        ["c"]
    );
    assert!(run(&db, def, "caller_id.no_such_field=x").len() == 4);
}

#[test]
fn index_candidates_agree_with_a_full_scan() {
    let (db, def) = sample();
    let caller = Caller::system();
    let t = db.table("incident").expect("table");
    for q in [
        "correlation_id=k1",
        "correlation_idINk2,k1",
        "number=INC0010003^priority=3",
        "correlation_id=none",
    ] {
        let b = bind(&parse(q), def, &caller.env(time::OffsetDateTime::now_utc()));
        let planned: Vec<&str> = candidates(&b, t)
            .expect("indexed")
            .into_iter()
            .filter(|r| matches(&b, &db, def, r))
            .map(|r| r.sys_id())
            .collect();
        let scanned: Vec<&str> = t
            .rows()
            .iter()
            .filter(|r| matches(&b, &db, def, r))
            .map(|r| r.sys_id())
            .collect();
        assert_eq!(planned, scanned, "{q}");
    }
    let or = bind(
        &parse("correlation_id=k1^NQpriority=1"),
        def,
        &caller.env(time::OffsetDateTime::now_utc()),
    );
    assert!(candidates(&or, t).is_none());
    let like = bind(
        &parse("correlation_idLIKEk"),
        def,
        &caller.env(time::OffsetDateTime::now_utc()),
    );
    assert!(candidates(&like, t).is_none());
}

#[test]
fn keeping_a_prefix_sorts_like_a_full_sort() {
    let rows: Vec<Value> =
        (0..50).map(|i| json!({"short_description": format!("r{:02}", (i * 37) % 50), "urgency": (1 + i % 3).to_string()})).collect();
    let (db, def) = instance(&rows);
    let caller = Caller::system();
    let b = bind(
        &parse("ORDERBYurgency^ORDERBYDESCshort_description"),
        def,
        &caller.env(time::OffsetDateTime::now_utc()),
    );
    let mut full: Vec<&Record> = db.rows(def.name).iter().collect();
    sort_records(&db, def, &b.query.order, &mut full, None);
    for keep in [0, 1, 7, 49, 50, 80] {
        let mut part: Vec<&Record> = db.rows(def.name).iter().collect();
        sort_records(&db, def, &b.query.order, &mut part, Some(keep));
        let n = keep.min(50);
        assert_eq!(part.len(), n);
        assert!(
            part.iter()
                .zip(&full)
                .all(|(a, b)| a.sys_id() == b.sys_id()),
            "keep {keep}"
        );
    }
}
