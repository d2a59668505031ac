use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn count(
    sim: &lockstep_itsm_sim::SimHandle,
    user: &str,
    table: &str,
    query: &str,
) -> (usize, String) {
    let q = query
        .replace('^', "%5E")
        .replace(' ', "%20")
        .replace('@', "%40");
    let r = get(
        sim,
        user,
        &format!("/api/now/table/{table}?sysparm_query={q}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    (
        r.body["result"].as_array().map(Vec::len).unwrap_or(0),
        r.header("x-total-count").unwrap_or("").to_string(),
    )
}

async fn numbers(sim: &lockstep_itsm_sim::SimHandle, query: &str) -> Vec<String> {
    let q = query.replace('^', "%5E").replace(' ', "%20");
    let r = get(
        sim,
        "admin",
        &format!("/api/now/table/incident?sysparm_fields=number&sysparm_query={q}"),
    )
    .await;
    r.body["result"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|x| x["number"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn seed(sim: &lockstep_itsm_sim::SimHandle) {
    for (sd, impact, urgency, caller, group_state) in [
        ("Email down", "1", "1", ABEL, "2"),
        ("VPN flaps", "2", "3", "", "1"),
        ("Printer jam", "3", "3", ABEL, "1"),
    ] {
        let r = incident(sim, json!({"short_description": sd, "impact": impact, "urgency": urgency, "caller_id": caller})).await;
        if group_state != "1" {
            let id = r["sys_id"].as_str().expect("id");
            patch(
                sim,
                "admin",
                &format!("/api/now/table/incident/{id}"),
                json!({"state": group_state}),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn operators_conjunctions_and_ordering() {
    let sim = start().await;
    seed(&sim).await;
    let cases: &[(&str, &[&str])] = &[
        (
            "state=1^ORstate=2^ORDERBYnumber",
            &["INC0010001", "INC0010002", "INC0010003"],
        ),
        (
            "state=1^priority>=4^ORDERBYDESCnumber",
            &["INC0010003", "INC0010002"],
        ),
        (
            "priority=1^NQpriority=5^ORDERBYnumber",
            &["INC0010001", "INC0010003"],
        ),
        ("short_descriptionLIKEjam", &["INC0010003"]),
        (
            "short_descriptionNOT LIKEjam^ORDERBYnumber",
            &["INC0010001", "INC0010002"],
        ),
        (
            "numberININC0010001,INC0010003^ORDERBYnumber",
            &["INC0010001", "INC0010003"],
        ),
        ("caller_idISEMPTY", &["INC0010002"]),
        ("caller_id!=62826bf03710200044e0bfc8bcbe5df1", &[]),
        ("priorityBETWEEN2@4", &["INC0010002"]),
        (
            "stateSAMEASincident_state^ORDERBYnumber",
            &["INC0010001", "INC0010002", "INC0010003"],
        ),
        (
            "caller_id.first_name=Abel^ORDERBYDESCnumber",
            &["INC0010003", "INC0010001"],
        ),
        ("caller_idDYNAMIC90d1921e5f510100a9ad2572f2b477fe", &[]),
        ("short_description=email down", &[]),
        (
            "ORDERBYpriority^ORDERBYnumber",
            &["INC0010001", "INC0010002", "INC0010003"],
        ),
        ("state=1^EQ^ORDERBYnumber", &["INC0010002", "INC0010003"]),
        (
            "sys_created_onONToday@javascript:gs.daysAgoStart(0)@javascript:gs.daysAgoEnd(0)^ORDERBYnumber",
            &["INC0010001", "INC0010002", "INC0010003"],
        ),
        (
            "sys_created_onRELATIVEGT@hour@ago@1^ORDERBYnumber",
            &["INC0010001", "INC0010002", "INC0010003"],
        ),
        ("sys_updated_on<javascript:gs.hoursAgo(1)", &[]),
        (
            "opened_by=javascript:gs.getUserID()^ORDERBYnumber",
            &["INC0010001", "INC0010002", "INC0010003"],
        ),
    ];
    for (q, expected) in cases {
        assert_eq!(numbers(&sim, q).await, *expected, "{q}");
    }
}

#[tokio::test]
async fn platform_quirks_unknown_fields_bad_values_malformed_operators() {
    let sim = start().await;
    seed(&sim).await;
    assert_eq!(
        count(&sim, "admin", "incident", "not_a_real_field=x")
            .await
            .0,
        3
    );
    assert_eq!(count(&sim, "admin", "incident", "^^^").await.0, 3);
    assert_eq!(
        count(&sim, "admin", "incident", "Correlation ID=X").await.0,
        3
    );
    assert_eq!(count(&sim, "admin", "incident", "state=99999").await.0, 0);
    assert_eq!(
        count(&sim, "admin", "incident", "state=NOT_A_NUMBER")
            .await
            .0,
        0
    );
    assert_eq!(count(&sim, "admin", "incident", "state==1").await.0, 0);
    sim.control()
        .patch_settings(json!({"invalid_query_returns_no_rows": true}))
        .await
        .expect("settings");
    assert_eq!(
        count(&sim, "admin", "incident", "not_a_real_field=x")
            .await
            .0,
        0
    );
    assert_eq!(count(&sim, "admin", "incident", "state=1").await.0, 2);
}

#[tokio::test]
async fn related_list_and_join_queries() {
    let sim = start().await;
    seed(&sim).await;
    let rl = "RLQUERYsys_user_has_role.user,>0^role.name=change_manager^ENDRLQUERY";
    let r = get(
        &sim,
        "admin",
        &format!(
            "/api/now/table/sys_user?sysparm_fields=user_name&sysparm_query={}",
            rl.replace('^', "%5E")
        ),
    )
    .await;
    assert_eq!(r.body["result"], json!([{"user_name": "change.manager"}]));
    let join = "JOINincident.caller_id=sys_user.sys_id!first_name=Abel";
    assert_eq!(count(&sim, "admin", "incident", join).await.0, 2);
}

#[tokio::test]
async fn sys_choice_is_label_only_for_non_admins() {
    let sim = start().await;
    let admin = get(&sim, "admin", "/api/now/table/sys_choice?sysparm_query=name=incident%5Eelement=close_code%5Einactive=false%5Elanguage=en&sysparm_fields=value,label").await;
    assert_eq!(admin.body["result"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        admin.body["result"][0],
        json!({"value": "Solution provided", "label": "Solution provided"})
    );
    let denied = get(
        &sim,
        "beth.anglin",
        "/api/now/table/sys_choice?sysparm_query=element=close_code",
    )
    .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        denied.body,
        json!({"error": {"message": "Insufficient rights to query records", "detail": "Field(s) present in the query do not have permission to be read."}, "status": "failure"})
    );
    let labels = get(
        &sim,
        "beth.anglin",
        "/api/now/table/sys_choice?sysparm_limit=1",
    )
    .await;
    let row = labels.body["result"][0].as_object().expect("row").clone();
    assert!(
        row.contains_key("label") && !row.contains_key("value") && !row.contains_key("element")
    );
    sim.control()
        .patch_settings(json!({"field_acls": false}))
        .await
        .expect("settings");
    assert_eq!(
        get(
            &sim,
            "beth.anglin",
            "/api/now/table/sys_choice?sysparm_query=element=close_code"
        )
        .await
        .status,
        StatusCode::OK
    );
}
