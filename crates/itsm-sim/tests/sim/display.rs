use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// The six shapes of §1.4, for a plain field and a reference field.
#[tokio::test]
async fn six_value_and_display_shapes() {
    let sim = start().await;
    let rec = incident(
        &sim,
        json!({"short_description": "shapes", "caller_id": ABEL}),
    )
    .await;
    let id = rec["sys_id"].as_str().expect("id");
    let link = format!("{}/api/now/table/sys_user/{ABEL}", sim.base_url());
    let cases = [
        (
            "false",
            "false",
            json!("1"),
            json!({"link": link, "value": ABEL}),
        ),
        ("false", "true", json!("1"), json!(ABEL)),
        (
            "true",
            "false",
            json!("New"),
            json!({"display_value": "Abel Tuter", "link": link}),
        ),
        ("true", "true", json!("New"), json!("Abel Tuter")),
        (
            "all",
            "true",
            json!({"display_value": "New", "value": "1"}),
            json!({"display_value": "Abel Tuter", "value": ABEL}),
        ),
        (
            "all",
            "false",
            json!({"display_value": "New", "value": "1"}),
            json!({"display_value": "Abel Tuter", "link": link, "value": ABEL}),
        ),
    ];
    for (dv, excl, state, caller) in cases {
        let path = format!(
            "/api/now/table/incident/{id}?sysparm_display_value={dv}&sysparm_exclude_reference_link={excl}&sysparm_fields=state,caller_id"
        );
        let r = get(&sim, "admin", &path).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.body["result"],
            json!({"state": state, "caller_id": caller}),
            "display_value={dv} exclude={excl}"
        );
    }
}

#[tokio::test]
async fn empty_references_and_dates_in_the_users_zone() {
    let sim = start().await;
    sim.control()
        .seed_users(&[lockstep_itsm_sim::control::UserSeed {
            user_name: "berlin.agent".into(),
            roles: vec!["itil".into()],
            time_zone: "Europe/Berlin".into(),
            ..Default::default()
        }])
        .await
        .expect("seeded");
    let rec = incident(&sim, json!({"short_description": "tz"})).await;
    let id = rec["sys_id"].as_str().expect("id");
    let r = get(
        &sim,
        "berlin.agent",
        &format!("/api/now/table/incident/{id}?sysparm_display_value=all&sysparm_fields=assigned_to,sys_created_on"),
    )
    .await;
    assert_eq!(
        r.body["result"]["assigned_to"],
        json!({"display_value": "", "value": ""})
    );
    let created = &r.body["result"]["sys_created_on"];
    let value = time::PrimitiveDateTime::parse(
        created["value"].as_str().expect("value"),
        lockstep_itsm_sim::clock::SN_DATETIME,
    )
    .expect("UTC value");
    let shown = (value.assume_utc() + time::Duration::hours(1))
        .format(lockstep_itsm_sim::clock::SN_DATETIME)
        .expect("format");
    assert_eq!(created["display_value"], shown);
    let plain = get(
        &sim,
        "admin",
        &format!("/api/now/table/incident/{id}?sysparm_fields=assigned_to"),
    )
    .await;
    assert_eq!(plain.body["result"]["assigned_to"], "");
}

#[tokio::test]
async fn journal_fields_are_write_only_with_history_in_display_values() {
    let sim = start().await;
    let id = incident(&sim, json!({"short_description": "j", "work_notes": "one"})).await["sys_id"]
        .as_str()
        .expect("id")
        .to_string();
    patch(
        &sim,
        "beth.anglin",
        &format!("/api/now/table/incident/{id}"),
        json!({"work_notes": "two", "comments": "to caller"}),
    )
    .await;
    let raw = get(
        &sim,
        "admin",
        &format!("/api/now/table/incident/{id}?sysparm_fields=work_notes,comments"),
    )
    .await;
    assert_eq!(
        raw.body["result"],
        json!({"work_notes": "", "comments": ""})
    );
    let shown = get(
        &sim,
        "admin",
        &format!(
            "/api/now/table/incident/{id}?sysparm_display_value=true&sysparm_fields=work_notes"
        ),
    )
    .await;
    let notes = shown.body["result"]["work_notes"].as_str().expect("string");
    let two = notes
        .find("Beth Anglin (Work notes)\ntwo\n\n")
        .expect("newest entry");
    let one = notes
        .find("System Administrator (Work notes)\none\n\n")
        .expect("oldest entry");
    assert!(two < one, "newest first: {notes}");
    let journal = get(&sim, "admin", &format!("/api/now/table/sys_journal_field?sysparm_query=element_id={id}^element=comments^ORelement=work_notes")).await;
    assert_eq!(journal.header("x-total-count"), Some("3"));
}
