//! Jira setup through the control API: users, workflows, projects, and the shared delivery
//! misbehaviour (drop, duplicate) applied to Jira webhooks.

use std::collections::BTreeMap;
use std::time::Duration;

use lockstep_itsm_sim::control::{
    DeliveryBehaviour, DeliveryOutcome, JiraPerm, JiraProject, JiraTransition, JiraUser,
    JiraWorkflow, jira_seed,
};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;
use crate::jira::{ADMIN, jira};

const WAIT: Duration = Duration::from_secs(10);
const DANA: &str = "712020:00000000-0000-4000-8000-0000000000aa";

#[tokio::test]
async fn users_workflows_and_projects_from_the_control_api() {
    let sim = start().await;
    let c = sim.control();
    c.add_jira_users(&[JiraUser {
        account_id: DANA.into(),
        email: "dana@example.com".into(),
        display_name: "Dana".into(),
        time_zone: "Etc/GMT+3".into(),
        api_token: "dana-token".into(),
        ..JiraUser::default()
    }])
    .await
    .expect("user");
    let mut fix = JiraTransition {
        id: "5".into(),
        name: "Fix".into(),
        from: vec!["10000".into()],
        to: "10001".into(),
        ..JiraTransition::default()
    };
    fix.requires_resolution = true;
    c.put_jira_workflow(&JiraWorkflow {
        name: "One step".into(),
        initial: "10000".into(),
        statuses: vec!["10000".into(), "10001".into()],
        transitions: vec![fix],
    })
    .await
    .expect("workflow");
    let grants = BTreeMap::from([(DANA.to_string(), JiraPerm::ALL.into_iter().collect())]);
    let p = c
        .add_jira_project(&JiraProject {
            key: "VULN".into(),
            workflow: "One step".into(),
            grants,
            ..JiraProject::default()
        })
        .await
        .expect("project");
    assert_eq!(p.id, "10003");

    let dana = ("dana@example.com", "dana-token");
    assert_eq!(
        jira(&sim, dana, Method::GET, "myself", None).await.body["timeZone"],
        "Etc/GMT+3"
    );
    let r = jira(
        &sim,
        dana,
        Method::POST,
        "issue",
        Some(json!({"fields": {
        "project": {"key": "VULN"}, "issuetype": {"name": "Task"}, "summary": "v"}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["key"], "VULN-1");
    let t = jira(&sim, dana, Method::GET, "issue/VULN-1/transitions", None).await;
    assert_eq!(t.body["transitions"][0]["name"], "Fix");
    assert_eq!(t.body["transitions"][0]["hasScreen"], true);
    let done = jira(
        &sim,
        dana,
        Method::POST,
        "issue/VULN-1/transitions",
        Some(json!({"transition": {"id": "5"}, "fields": {"resolution": {"name": "Duplicate"}}})),
    )
    .await;
    assert_eq!(done.status, 204, "{}", done.text);
    let issue = c.jira_issue("VULN-1").await.expect("issue");
    assert_eq!(
        (issue.status_id.as_str(), issue.resolution_id.as_deref()),
        ("10001", Some("10002"))
    );
    // The seeded integration user has no grant on the new project: 404, not 403.
    let hidden = jira(
        &sim,
        crate::jira::LOCKSTEP,
        Method::GET,
        "issue/VULN-1",
        None,
    )
    .await;
    assert_eq!(hidden.status, 404);

    // Reset brings back the seeded site.
    c.reset().await.expect("reset");
    assert_eq!(
        jira(&sim, dana, Method::GET, "myself", None).await.status,
        401
    );
}

#[tokio::test]
async fn drop_and_duplicate_apply_to_jira_deliveries() {
    let sim = start().await;
    let c = sim.control();
    let (url, rx) = receiver().await;
    let r = sim
        .http_client()
        .post(format!("{}/rest/webhooks/1.0/webhook", sim.base_url()))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .json(&json!({"name": "all", "url": url, "events": ["jira:issue_updated"]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 201);

    c.set_delivery_behaviour(&DeliveryBehaviour {
        drop_rate: 1.0,
        ..DeliveryBehaviour::default()
    })
    .await
    .expect("drop");
    let act = c
        .jira_transition(jira_seed::PRIYA, "OPS-1", "21", json!({}))
        .await
        .expect("act");
    assert_eq!(act.status, 204);
    let d = c.deliveries().await.expect("deliveries");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].outcome, DeliveryOutcome::Dropped);

    c.set_delivery_behaviour(&DeliveryBehaviour {
        duplicate_rate: 1.0,
        ..DeliveryBehaviour::default()
    })
    .await
    .expect("dup");
    c.jira_transition(jira_seed::PRIYA, "OPS-1", "31", json!({}))
        .await
        .expect("act");
    let d = c.wait_for_deliveries(3, WAIT).await.expect("delivered");
    let sent: Vec<_> = d
        .iter()
        .filter(|x| x.outcome == DeliveryOutcome::Delivered)
        .collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].event_id, sent[1].event_id);
    let got = rx.got.lock().clone();
    let ids: Vec<_> = got
        .iter()
        .map(|g| g.headers.get("x-atlassian-webhook-identifier").cloned())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "a duplicate carries the same identifier");
}

fn bulk_body(from: usize, to: usize) -> serde_json::Value {
    let updates: Vec<_> = (from..to)
        .map(|n| json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": format!("finding {n}")}}))
        .collect();
    json!({"issueUpdates": updates})
}

#[tokio::test]
async fn injected_bulk_failures_hit_exactly_the_requested_elements() {
    let sim = start().await;
    sim.control().fail_jira_bulk(3, 40).await.expect("settings");
    let (mut created, mut failed) = (0, Vec::new());
    for chunk in 0..3 {
        let r = jira(
            &sim,
            crate::jira::LOCKSTEP,
            Method::POST,
            "issue/bulk",
            Some(bulk_body(chunk * 40, chunk * 40 + 40)),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        created += r.body["issues"].as_array().expect("issues").len();
        for e in r.body["errors"].as_array().expect("errors") {
            failed.push(chunk * 40 + e["failedElementNumber"].as_u64().expect("index") as usize);
        }
    }
    assert_eq!((created, failed.clone()), (117, vec![39, 79, 119]));
    // The budget is spent: retrying only the failed three creates three.
    let retry: Vec<_> = failed.iter().map(|n| json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": format!("finding {n}")}})).collect();
    let r = jira(
        &sim,
        crate::jira::LOCKSTEP,
        Method::POST,
        "issue/bulk",
        Some(json!({"issueUpdates": retry})),
    )
    .await;
    assert_eq!(r.body["issues"].as_array().map(Vec::len), Some(3));
    assert_eq!(r.body["errors"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn shared_faults_apply_to_jira_paths() {
    let sim = start().await;
    sim.control()
        .set_faults(&[lockstep_itsm_sim::control::FaultRule {
            path_prefix: "/rest/api/3/issue/bulk".into(),
            error_rate: 1.0,
            error: lockstep_itsm_sim::control::InjectedError::TooManyRequests {
                retry_after_secs: 3,
            },
            times: Some(1),
            ..Default::default()
        }])
        .await
        .expect("faults");
    let first = jira(
        &sim,
        crate::jira::LOCKSTEP,
        Method::POST,
        "issue/bulk",
        Some(bulk_body(0, 1)),
    )
    .await;
    assert_eq!(
        (first.status.as_u16(), first.header("retry-after")),
        (429, Some("3"))
    );
    let second = jira(
        &sim,
        crate::jira::LOCKSTEP,
        Method::POST,
        "issue/bulk",
        Some(bulk_body(0, 1)),
    )
    .await;
    assert_eq!(second.status, 201);
}
