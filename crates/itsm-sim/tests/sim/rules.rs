use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn priority_follows_impact_and_urgency_on_insert_and_update() {
    let sim = start().await;
    let rec = incident(&sim, json!({"short_description": "p"})).await;
    assert_eq!(
        (
            rec["impact"].as_str(),
            rec["urgency"].as_str(),
            rec["priority"].as_str()
        ),
        (Some("3"), Some("3"), Some("5"))
    );
    let id = rec["sys_id"].as_str().expect("id");
    let path = format!("/api/now/table/incident/{id}");
    for (impact, urgency, priority) in [
        ("1", "1", "1"),
        ("1", "3", "3"),
        ("2", "3", "4"),
        ("3", "1", "3"),
    ] {
        let r = patch(
            &sim,
            "admin",
            &path,
            json!({"impact": impact, "urgency": urgency, "priority": "5"}),
        )
        .await;
        assert_eq!(
            r.body["result"]["priority"], priority,
            "impact {impact} urgency {urgency}"
        );
    }
}

#[tokio::test]
async fn resolving_or_closing_needs_a_valid_close_code() {
    let sim = start().await;
    let id = incident(&sim, json!({"short_description": "dp"})).await["sys_id"]
        .as_str()
        .expect("id")
        .to_string();
    let path = format!("/api/now/table/incident/{id}");
    for body in [
        json!({"state": "6"}),
        json!({"state": "7"}),
        json!({"state": "6", "close_code": "Solved (Permanently)"}),
    ] {
        let r = patch(&sim, "admin", &path, body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            r.body,
            json!({"error": {"message": "Operation Failed", "detail": "Data Policy Exception: The following fields are mandatory: Resolution code"}, "status": "failure"})
        );
    }
    let unchanged = get(&sim, "admin", &path).await;
    assert_eq!(unchanged.body["result"]["sys_mod_count"], "0");
    let r = post(
        &sim,
        "admin",
        "/api/now/table/incident",
        json!({"short_description": "born resolved", "state": "6"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // New → Resolved in one PATCH works when close info is present (measured).
    let ok = patch(
        &sim,
        "beth.anglin",
        &path,
        json!({"state": "6", "close_code": "Solution provided", "close_notes": "done"}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    let rec = &ok.body["result"];
    assert_eq!(rec["incident_state"], "6");
    assert_eq!(
        rec["resolved_by"]["value"],
        "46d44a23a9fe19810012d100cca80666"
    );
    assert!(!rec["resolved_at"].as_str().unwrap_or("").is_empty());
    assert_eq!(rec["active"], "true");
    let closed = patch(&sim, "admin", &path, json!({"state": "7"})).await;
    assert_eq!(closed.body["result"]["active"], "false");
    assert_eq!(closed.body["result"]["closed_by"]["value"], ADMIN);
    // A number never burns on a refused insert.
    assert_eq!(
        incident(&sim, json!({"short_description": "next"})).await["number"],
        "INC0010002"
    );
}

#[tokio::test]
async fn updates_move_mod_count_and_updated_fields_but_no_op_updates_do_not() {
    let sim = start().await;
    let id = incident(&sim, json!({"short_description": "m"})).await["sys_id"]
        .as_str()
        .expect("id")
        .to_string();
    let path = format!("/api/now/table/incident/{id}");
    sim.control().advance_clock(65).await.expect("clock");
    let r = patch(&sim, "abel.tuter", &path, json!({"state": "2"})).await;
    let rec = &r.body["result"];
    assert_eq!(rec["sys_mod_count"], "1");
    assert_eq!(rec["sys_updated_by"], "abel.tuter");
    assert_ne!(rec["sys_updated_on"], rec["sys_created_on"]);
    assert_eq!(rec["sys_updated_on"].as_str().map(str::len), Some(19));
    let same = patch(&sim, "abel.tuter", &path, json!({"state": "2"})).await;
    assert_eq!(same.body["result"]["sys_mod_count"], "1");
    let noted = patch(
        &sim,
        "abel.tuter",
        &path,
        json!({"work_notes": "journal only"}),
    )
    .await;
    assert_eq!(noted.body["result"]["sys_mod_count"], "2");
}

#[tokio::test]
async fn numbers_are_sequential_per_table_even_under_concurrency() {
    let sim = std::sync::Arc::new(start().await);
    let mut tasks = Vec::new();
    for t in 0..8 {
        let sim = sim.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..25 {
                let rec = incident(&sim, json!({"short_description": format!("{t}-{i}")})).await;
                got.push(rec["number"].as_str().expect("number").to_string());
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort();
    let expected: Vec<String> = (10_001..=10_200).map(|n| format!("INC{n:07}")).collect();
    assert_eq!(all, expected);
    let chg = post(
        &sim,
        "admin",
        "/api/now/table/change_request",
        json!({"short_description": "c"}),
    )
    .await;
    assert_eq!(chg.body["result"]["number"], "CHG0030001");
}

#[tokio::test]
async fn change_request_defaults_and_close() {
    let sim = start().await;
    let r = post(
        &sim,
        "change.manager",
        "/api/now/table/change_request",
        json!({"short_description": "patch", "type": "emergency"}),
    )
    .await;
    let rec = &r.body["result"];
    assert_eq!(
        (
            rec["state"].as_str(),
            rec["type"].as_str(),
            rec["risk"].as_str(),
            rec["priority"].as_str()
        ),
        (Some("-5"), Some("emergency"), Some("3"), Some("4"))
    );
    let id = rec["sys_id"].as_str().expect("id");
    let closed = patch(
        &sim,
        "change.manager",
        &format!("/api/now/table/change_request/{id}?sysparm_display_value=true"),
        json!({"state": "3", "close_code": "successful", "close_notes": "ok"}),
    )
    .await;
    assert_eq!(closed.body["result"]["state"], "Closed");
    assert_eq!(closed.body["result"]["close_code"], "Successful");
    assert_eq!(closed.body["result"]["active"], "false");
}

#[tokio::test]
async fn task_sla_rows_follow_priority_and_breach_lags_until_the_job_runs() {
    let sim = start().await;
    sim.control()
        .patch_settings(json!({"sla_job_interval_secs": 0}))
        .await
        .expect("settings");
    let rec = incident(
        &sim,
        json!({"short_description": "sla", "impact": "1", "urgency": "1"}),
    )
    .await;
    let id = rec["sys_id"].as_str().expect("id").to_string();
    let q = format!(
        "/api/now/table/task_sla?sysparm_query=task={id}%5EORDERBYDESCsys_created_on&sysparm_fields=sys_id,sla,stage,has_breached,planned_end_time,start_time,active&sysparm_display_value=all"
    );
    let slas = get(&sim, "admin", &q).await;
    assert_eq!(slas.body["result"].as_array().map(Vec::len), Some(1));
    let sla = &slas.body["result"][0];
    assert_eq!(
        sla["sla"]["display_value"],
        "Priority 1 resolution (8 hour)"
    );
    assert_eq!(sla["stage"]["value"], "in_progress");
    let start = time::PrimitiveDateTime::parse(
        sla["start_time"]["value"].as_str().expect("s"),
        lockstep_itsm_sim::clock::SN_DATETIME,
    )
    .expect("t");
    let end = time::PrimitiveDateTime::parse(
        sla["planned_end_time"]["value"].as_str().expect("e"),
        lockstep_itsm_sim::clock::SN_DATETIME,
    )
    .expect("t");
    assert_eq!((end - start).whole_hours(), 8);
    assert_eq!(rec["sla_due"], sla["planned_end_time"]["value"]);

    sim.control().advance_clock(9 * 3600).await.expect("clock");
    let lagging = get(&sim, "admin", &q).await;
    assert_eq!(lagging.body["result"][0]["has_breached"]["value"], "false");
    assert_eq!(sim.control().recalculate_slas().await.expect("job"), 1);
    let breached = get(&sim, "admin", &q).await;
    assert_eq!(breached.body["result"][0]["has_breached"]["value"], "true");
    assert_eq!(
        sim.control().record("incident", &id).await.expect("rec")["made_sla"],
        "false"
    );

    // Lowering the priority cancels the P1 SLA and attaches the P4 one; resolving completes it.
    patch(
        &sim,
        "admin",
        &format!("/api/now/table/incident/{id}"),
        json!({"impact": "2", "urgency": "3"}),
    )
    .await;
    sim.control()
        .resolve_incident("INC0010001", "beth.anglin", "Solution provided", "ok")
        .await
        .expect("resolved");
    let all = get(&sim, "admin", &q).await;
    let stages: Vec<&str> = all.body["result"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["stage"]["value"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(stages.len(), 2);
    assert!(
        stages.contains(&"cancelled") && stages.contains(&"completed"),
        "{stages:?}"
    );
    assert!(
        all.body["result"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["active"]["value"] == "false")
    );
}
