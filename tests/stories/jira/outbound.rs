//! Our side moves first: a finding closed by an analyst reaches Done through the two-hop Security
//! workflow with the resolution its screen requires; a workflow without a path gets a comment and
//! the finding's activity says why; a create whose answer was lost (the writer killed between the
//! create and its write-back) ends with one issue; a bulk of 120 with 3 failures in Jira gives
//! 117 issues and 3 per-finding errors, and the retry creates only the 3.

use std::collections::{BTreeMap, BTreeSet};

use lockstep_domain::{ActivityKind, FindingId, TicketTarget, Vendor};
use lockstep_itsm_sim::control::{
    JiraAct, JiraPerm, JiraProject, JiraTransition, JiraWorkflow, jira_seed,
};
use lockstep_proto::v1 as pb;
use lockstep_store::PageRequest;
use serde_json::json;

use super::world::{JiraWorld, req};

/// Adds project `key` on `workflow`, every permission for the seeded lockstep account.
async fn project(world: &JiraWorld, key: &str, workflow: &str) {
    let all: BTreeSet<JiraPerm> = JiraPerm::ALL.into_iter().collect();
    let grants: BTreeMap<_, _> = [(jira_seed::LOCKSTEP.to_owned(), all)].into();
    world
        .sim
        .control()
        .add_jira_project(&JiraProject {
            key: key.into(),
            workflow: workflow.into(),
            grants,
            ..JiraProject::default()
        })
        .await
        .unwrap();
}

async fn activity(world: &JiraWorld, finding: FindingId, kind: ActivityKind) -> Option<String> {
    let feed = world
        .store()
        .activity()
        .list_for_finding(world.tenant, finding, PageRequest::first(20))
        .await
        .unwrap();
    feed.items
        .into_iter()
        .find(|a| a.kind == kind)
        .map(|a| a.message)
}

async fn wait_activity(world: &JiraWorld, finding: FindingId, kind: ActivityKind) -> String {
    world
        .eventually("the push recorded", || async {
            activity(world, finding, kind).await.is_some()
        })
        .await
        .unwrap();
    activity(world, finding, kind).await.unwrap()
}

#[tokio::test]
async fn a_finding_closed_here_reaches_done_two_transitions_away_with_its_resolution() {
    let world = JiraWorld::start().await.unwrap();
    project(&world, "VULN", jira_seed::SECURITY_WORKFLOW).await;
    let integration = world.integration("lockstep", "VULN", false).await.unwrap();
    let finding = world.import("OUT", 1).await.unwrap()[0];
    let key = world.ticket(finding, integration, "VULN").await.unwrap();
    world.set_status(finding, "closed").await.unwrap();
    let message = wait_activity(&world, finding, ActivityKind::TicketUpdated).await;
    assert!(message.contains("Closed"), "{message}");
    let issue = world.sim.control().jira_issue(&key).await.unwrap();
    assert_eq!(issue.status_id, "6", "Closed, through Triaged");
    assert_eq!(
        issue.resolution_id.as_deref(),
        Some("10000"),
        "resolution Done"
    );
    world.stop().await;
}

#[tokio::test]
async fn without_a_path_the_issue_gets_a_comment_and_the_finding_says_why() {
    let world = JiraWorld::start().await.unwrap();
    let t = |id: &str, from: &str, to: &str| JiraTransition {
        id: id.into(),
        name: format!("{from} to {to}"),
        from: vec![from.into()],
        to: to.into(),
        ..JiraTransition::default()
    };
    world
        .sim
        .control()
        .put_jira_workflow(&JiraWorkflow {
            name: "Triage only".into(),
            initial: "1".into(),
            statuses: vec!["1".into(), "10002".into(), "6".into()],
            transitions: vec![t("11", "1", "10002"), t("41", "10002", "1")],
        })
        .await
        .unwrap();
    project(&world, "STUCK", "Triage only").await;
    let integration = world.integration("lockstep", "STUCK", false).await.unwrap();
    let finding = world.import("NP", 1).await.unwrap()[0];
    let key = world.ticket(finding, integration, "STUCK").await.unwrap();
    world.set_status(finding, "closed").await.unwrap();
    let why = wait_activity(&world, finding, ActivityKind::TicketUpdateFailed).await;
    assert!(why.contains("no workflow transition path"), "{why}");
    let issue = world.sim.control().jira_issue(&key).await.unwrap();
    assert_eq!(issue.comments.len(), 1);
    assert!(
        serde_json::to_string(&issue.comments[0].body)
            .unwrap()
            .contains("could not move")
    );
    world.stop().await;
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_ends_with_one_issue() {
    let world = JiraWorld::start().await.unwrap();
    let integration = world.integration("lockstep", "OPS", false).await.unwrap();
    let finding = world.import("KILL", 1).await.unwrap()[0];
    // What a writer killed -9 after Jira's answer leaves: the pending link, and the issue in
    // Jira with the finding's correlation label.
    let target = TicketTarget::parse(Vendor::Jira, "OPS").unwrap();
    world
        .store()
        .links()
        .insert_pending(world.tenant, finding, integration, &target)
        .await
        .unwrap();
    let created = world
        .sim
        .control()
        .jira_act(&JiraAct {
            account_id: jira_seed::LOCKSTEP.into(),
            method: "POST".into(),
            path: "issue".into(),
            body: Some(json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"},
                "summary": "[LOCKSTEP] KILL-000", "labels": ["lockstep", format!("lockstep-{finding}")]}})),
            ..JiraAct::default()
        })
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{created:?}");
    let key = created.body.unwrap()["key"].as_str().unwrap().to_owned();
    world.sim.control().clear_requests().await.unwrap();

    let again = world.ticket(finding, integration, "OPS").await.unwrap();
    assert_eq!(again, key, "the retry links the issue that exists");
    let creates = world
        .sim
        .control()
        .requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/rest/api/3/issue")
        .count();
    assert_eq!(creates, 0, "no second create reached Jira");
    world.stop().await;
}

#[tokio::test]
async fn a_bulk_of_120_with_3_failures_gives_117_issues_3_errors_and_a_retry_of_only_3() {
    let world = JiraWorld::start().await.unwrap();
    let integration = world.integration("lockstep", "OPS", false).await.unwrap();
    let ids: Vec<String> = world
        .import("BULK", 120)
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    world.sim.control().fail_jira_bulk(3, 40).await.unwrap();
    let bulk = |request_id: &str| pb::BulkCreateTicketsRequest {
        request_id: request_id.into(),
        finding_ids: ids.clone(),
        spec: Some(world.spec(integration, "OPS")),
    };
    let first = world
        .tickets()
        .bulk_create_tickets(req(&world.analyst, bulk("")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((first.created, first.failed), (117, 3), "{first:?}");
    let failed: Vec<&pb::TicketResult> = first
        .results
        .iter()
        .filter(|r| r.outcome == pb::TicketOutcome::Failed as i32)
        .collect();
    assert!(
        failed.iter().all(|r| !r.error_message.is_empty()),
        "{failed:?}"
    );

    let retry = world
        .tickets()
        .bulk_create_tickets(req(&world.analyst, bulk("")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (retry.created, retry.already_linked, retry.failed),
        (3, 117, 0),
        "{retry:?}"
    );
    let issues = world
        .sim
        .control()
        .requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/rest/api/3/issue/bulk")
        .count();
    assert_eq!(issues, 4, "3 chunks, then one for the 3 retried");
    world.stop().await;
}
