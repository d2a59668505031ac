use lockstep_itsm_sim::control::{GroupSeed, UserSeed};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn act_as_a_human_moves_and_resolves_incidents() {
    let sim = start().await;
    incident(
        &sim,
        json!({"short_description": "human", "correlation_id": "lockstep:f-1"}),
    )
    .await;
    let c = sim.control();
    let started = c
        .start_incident("INC0010001", "beth.anglin")
        .await
        .expect("started");
    assert_eq!(started["state"], "2");
    assert_eq!(started["assigned_to"], "46d44a23a9fe19810012d100cca80666");
    assert_eq!(started["sys_updated_by"], "beth.anglin");
    let refused = c
        .resolve_incident("INC0010001", "beth.anglin", "", "no code")
        .await;
    match refused {
        Err(lockstep_itsm_sim::SimClientError::Status { status, body }) => {
            assert_eq!(status, 403);
            assert!(body.contains("Data Policy Exception"), "{body}");
        }
        other => panic!("expected a 403, got {other:?}"),
    }
    let resolved = c
        .resolve_incident(
            "INC0010001",
            "beth.anglin",
            "Workaround provided",
            "rebooted",
        )
        .await
        .expect("resolved");
    assert_eq!(
        (resolved["state"].as_str(), resolved["close_code"].as_str()),
        (Some("6"), Some("Workaround provided"))
    );
    let closed = c
        .close_incident("INC0010001", "admin", "Workaround provided", "rebooted")
        .await
        .expect("closed");
    assert_eq!(closed["active"], "false");
    let reopened = c
        .reopen_incident("INC0010001", "abel.tuter")
        .await
        .expect("reopened");
    assert_eq!(
        (
            reopened["active"].as_str(),
            reopened["reopen_count"].as_str(),
            reopened["closed_at"].as_str()
        ),
        (Some("true"), Some("1"), Some(""))
    );
    let found = c
        .records("incident", "correlation_id=lockstep:f-1")
        .await
        .expect("records");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["sys_mod_count"], "4");
}

#[tokio::test]
async fn seeded_users_groups_and_reset() {
    let sim = start().await;
    let c = sim.control();
    let seeded = c
        .seed_users(&[UserSeed {
            user_name: "svc.sec".into(),
            password: Some("pw".into()),
            first_name: "Sec".into(),
            last_name: "Ops".into(),
            roles: vec!["sn_incident_write".into(), "custom_role".into()],
            ..Default::default()
        }])
        .await
        .expect("users");
    assert_eq!(seeded[0].name, "svc.sec");
    let groups = c
        .seed_groups(&[GroupSeed {
            name: "AppSec".into(),
            ..Default::default()
        }])
        .await
        .expect("groups");
    let created = sim
        .http_client()
        .post(format!("{}/api/now/table/incident", sim.base_url()))
        .basic_auth("svc.sec", Some("pw"))
        .json(&json!({"short_description": "by svc", "assignment_group": groups[0].sys_id}))
        .send()
        .await
        .expect("sent");
    let created = into_resp(created).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(
        created.body["result"]["assignment_group"]["value"],
        groups[0].sys_id.as_str()
    );
    let roles = c
        .records("sys_user_has_role", &format!("user={}", seeded[0].sys_id))
        .await
        .expect("roles");
    assert_eq!(roles.len(), 2);
    c.reset().await.expect("reset");
    assert_eq!(
        get(&sim, "admin", "/api/now/table/incident")
            .await
            .header("x-total-count"),
        Some("0")
    );
    let gone = sim
        .http_client()
        .get(format!("{}/api/now/table/incident", sim.base_url()))
        .basic_auth("svc.sec", Some("pw"))
        .send()
        .await
        .expect("sent");
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        incident(&sim, json!({"short_description": "after reset"})).await["number"],
        "INC0010001"
    );
}

#[tokio::test]
async fn request_log_records_what_reached_the_instance() {
    let sim = start().await;
    get(&sim, "admin", "/api/now/table/incident?sysparm_limit=1").await;
    get(&sim, "nobody", "/api/now/table/incident").await;
    let log = sim.control().requests().await.expect("log");
    let seen: Vec<(String, Option<u16>)> =
        log.iter().map(|e| (e.query.clone(), e.status)).collect();
    assert_eq!(
        seen,
        vec![
            ("sysparm_limit=1".to_string(), Some(200)),
            (String::new(), Some(401))
        ]
    );
}
