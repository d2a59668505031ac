//! Outbound pushes against the emulator's workflows: one hop on the default workflow, two hops
//! with a required resolution on the Security workflow, a comment (and the reason) when no path
//! exists, and a transition conflict (409) retried.

use lockstep_connectors::{Connector, ConnectorError, OutboundChange};
use lockstep_domain::{Label, OutboundPush, Severity, TicketMode};
use lockstep_itsm_sim::control::{JiraTransition, JiraWorkflow};

use crate::jira_support::{basic, jira_with, lockstep, security_project, ticket};
use crate::support::Env;

fn close(code: Option<&str>) -> OutboundChange {
    OutboundChange {
        push: OutboundPush {
            state: Label::parse("Done").unwrap(),
            close_code: code.map(|c| Label::parse(c).unwrap()),
            close_notes: Some("Lockstep closed finding K-1: the issue is fixed.".into()),
        },
        note: Some("changed via api".into()),
        priority: None,
    }
}

async fn comments(env: &Env, key: &str) -> Vec<String> {
    let issue = env.sim.control().jira_issue(key).await.unwrap();
    issue
        .comments
        .iter()
        .map(|c| serde_json::to_string(&c.body).unwrap())
        .collect()
}

#[tokio::test]
async fn done_is_one_hop_on_the_default_workflow_and_the_note_rides_along() {
    let env = Env::start().await;
    let client = lockstep(&env, "OPS");
    let created = client
        .create(&ticket(
            "OPS",
            "K-1",
            Severity::High,
            TicketMode::Standalone,
        ))
        .await
        .unwrap();
    let obs = client
        .push_change(&created.ticket, &close(None))
        .await
        .unwrap();
    assert_eq!(obs.vendor_state_label.as_deref(), Some("Done"));
    assert_eq!(obs.vendor_state_category.as_deref(), Some("done"));
    let notes = comments(&env, "OPS-3").await;
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("the issue is fixed") && notes[0].contains("changed via api"));
}

#[tokio::test]
async fn done_two_transitions_away_is_reached_with_the_required_resolution() {
    let env = Env::start().await;
    security_project(&env, "VULN").await;
    let client = lockstep(&env, "VULN");
    let created = client
        .create(&ticket(
            "VULN",
            "K-1",
            Severity::High,
            TicketMode::Standalone,
        ))
        .await
        .unwrap();
    let obs = client
        .push_change(&created.ticket, &close(Some("Won't Do")))
        .await
        .unwrap();
    assert_eq!(obs.vendor_state_label.as_deref(), Some("Closed"));
    assert_eq!(obs.resolution.as_deref(), Some("Won't Do"));
    let posts: Vec<_> = env
        .requests("/rest/api/3/issue/VULN-1/transitions")
        .await
        .into_iter()
        .filter(|(m, _, _)| m == "POST")
        .collect();
    assert_eq!(posts.len(), 2, "Open → Triaged → Closed: {posts:?}");
    // Pushing again changes nothing and only comments.
    let again = client
        .push_change(&created.ticket, &close(None))
        .await
        .unwrap();
    assert_eq!(again.vendor_state, obs.vendor_state);
}

#[tokio::test]
async fn without_a_path_the_note_becomes_a_comment_and_the_push_says_why() {
    let env = Env::start().await;
    security_project(&env, "STUCK").await;
    let t = |id: &str, name: &str, from: &str, to: &str| JiraTransition {
        id: id.into(),
        name: name.into(),
        from: vec![from.into()],
        to: to.into(),
        ..JiraTransition::default()
    };
    env.sim
        .control()
        .put_jira_workflow(&JiraWorkflow {
            name: "Triage only".into(),
            initial: "1".into(),
            statuses: vec!["1".into(), "10002".into(), "6".into()],
            transitions: vec![
                t("11", "Start triage", "1", "10002"),
                t("41", "Back to open", "10002", "1"),
            ],
        })
        .await
        .unwrap();
    env.sim
        .control()
        .set_jira_project_workflow("STUCK", "Triage only")
        .await
        .unwrap();
    let client = lockstep(&env, "STUCK");
    let created = client
        .create(&ticket(
            "STUCK",
            "K-1",
            Severity::High,
            TicketMode::Standalone,
        ))
        .await
        .unwrap();
    let err = client
        .push_change(&created.ticket, &close(None))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::DataPolicy { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("no workflow transition path from \"Triaged\""),
        "{err}"
    );
    let notes = comments(&env, "STUCK-1").await;
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("could not move STUCK-1"), "{notes:?}");
    assert_eq!(
        env.sim
            .control()
            .jira_issue("STUCK-1")
            .await
            .unwrap()
            .status_id,
        "10002"
    );
}

#[tokio::test]
async fn a_transition_conflict_is_retried_and_reported_when_it_persists() {
    let env = Env::start().await;
    let created = lockstep(&env, "OPS")
        .create(&ticket(
            "OPS",
            "K-1",
            Severity::High,
            TicketMode::Standalone,
        ))
        .await
        .unwrap();
    let client = jira_with(&env, &basic("lockstep"), Some("OPS"), |c| {
        c.conflict_attempts = 3
    });
    env.sim
        .control()
        .hold_jira_transition("OPS-3")
        .await
        .unwrap();
    let err = client
        .push_change(&created.ticket, &close(None))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::Vendor { status: 409, .. }),
        "{err}"
    );
    let posts = env
        .requests("/rest/api/3/issue/OPS-3/transitions")
        .await
        .into_iter()
        .filter(|(m, _, s)| m == "POST" && *s == Some(409))
        .count();
    assert_eq!(posts, 3, "three attempts");
    env.sim
        .control()
        .release_jira_transition("OPS-3")
        .await
        .unwrap();
    let obs = client
        .push_change(&created.ticket, &close(None))
        .await
        .unwrap();
    assert_eq!(obs.vendor_state_category.as_deref(), Some("done"));
}
