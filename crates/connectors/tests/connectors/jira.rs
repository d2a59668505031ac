//! The Jira connector against the emulator: connection test remedies, creation in the three
//! modes, correlation lookup after a lost answer, bulk with partial failure, and the change feed
//! for API users on both sides of UTC.

use lockstep_connectors::{CheckStatus, Connector, Credentials};
use lockstep_crypto::SecretString;
use lockstep_domain::{Severity, TicketKey, TicketMode, Vendor};
use lockstep_itsm_sim::control::{FaultRule, InjectedError};
use std::time::Duration;

use crate::jira_support::{basic, jira, lockstep, security_project, ticket};
use crate::support::Env;

fn status_of(
    report: &lockstep_connectors::ConnectionReport,
    id: &str,
) -> (CheckStatus, Option<&'static str>) {
    let c = report.checks.iter().find(|c| c.id == id).expect(id);
    (c.status, c.problem)
}

#[tokio::test]
async fn the_connection_test_names_each_failure_and_its_remedy() {
    let env = Env::start().await;
    let ok = lockstep(&env, "OPS").test_connection().await;
    assert!(ok.ok(), "{ok:?}");
    assert_eq!(ok.user_name.as_deref(), Some("Lockstep Integration"));
    // OPS allows High, Medium, Low only: the default mapping's Highest/Lowest are flagged.
    assert_eq!(
        status_of(&ok, "priorities"),
        (CheckStatus::Warn, Some("priority_scheme_mismatch"))
    );

    let bad = jira(
        &env,
        &Credentials::Basic {
            username: "lockstep@example.com".into(),
            password: SecretString::new("wrong"),
        },
        Some("OPS"),
    )
    .test_connection()
    .await;
    assert_eq!(
        status_of(&bad, "authentication"),
        (CheckStatus::Fail, Some("authentication_failed"))
    );
    assert_eq!(status_of(&bad, "project").0, CheckStatus::Skipped);

    let missing = lockstep(&env, "NOPE").test_connection().await;
    assert_eq!(
        status_of(&missing, "project"),
        (CheckStatus::Fail, Some("project_not_found"))
    );
    let reader = jira(&env, &basic("reader"), Some("OPS"))
        .test_connection()
        .await;
    let perms = reader
        .checks
        .iter()
        .find(|c| c.id == "permissions")
        .unwrap();
    assert_eq!(perms.problem, Some("missing_permission"));
    assert!(
        perms.detail.contains("Create Issues") && perms.detail.contains("Transition Issues"),
        "{}",
        perms.detail
    );
    // SEC requires the custom field "Affected asset", which Lockstep does not fill.
    let sec = lockstep(&env, "SEC").test_connection().await;
    assert_eq!(
        status_of(&sec, "issue_type"),
        (CheckStatus::Fail, Some("required_field"))
    );

    let pat = jira(
        &env,
        &Credentials::ApiKey {
            key: SecretString::new("lockstep-pat"),
        },
        Some("OPS"),
    );
    assert!(pat.test_connection().await.ok());
    let wrong_site = {
        let mut c = lockstep_connectors::jira::JiraConfig::new(
            lockstep_domain::IntegrationId::new(),
            lockstep_connectors::jira::SiteUrl::parse("http://127.0.0.1:9").unwrap(),
        );
        c.default_project = Some("OPS".into());
        lockstep_connectors::jira::JiraClient::new(
            env.exec.clone(),
            c,
            lockstep_connectors::jira::JiraAuth::from_credentials(&basic("lockstep")).unwrap(),
        )
    };
    let report = wrong_site.test_connection().await;
    assert_eq!(
        status_of(&report, "authentication"),
        (CheckStatus::Fail, Some("wrong_url"))
    );
}

#[tokio::test]
async fn issues_are_created_in_the_three_modes_with_labels_and_a_correlation_label() {
    let env = Env::start().await;
    let client = lockstep(&env, "OPS");
    let parent = client
        .create(&ticket(
            "OPS",
            "K-1",
            Severity::High,
            TicketMode::Standalone,
        ))
        .await
        .unwrap();
    assert_eq!(parent.ticket.key().as_str(), "OPS-3");
    assert_eq!(
        parent.url.as_str(),
        format!("{}/browse/OPS-3", env.sim.base_url().trim_end_matches('/'))
    );
    assert_eq!(
        parent.observation.vendor_state_category.as_deref(),
        Some("new")
    );
    let stored = env.sim.control().jira_issue("OPS-3").await.unwrap();
    assert!(stored.labels.contains(&"lockstep".to_owned()));
    assert!(stored.labels.contains(&"scanner-nessus".to_owned()));
    assert_eq!(stored.priority_id, "2", "High");

    let key = TicketKey::parse(Vendor::Jira, "OPS-3").unwrap();
    let sub = client
        .create(&ticket(
            "OPS",
            "K-2",
            Severity::Medium,
            TicketMode::Subtask {
                parent: key.clone(),
            },
        ))
        .await
        .unwrap();
    let stored = env
        .sim
        .control()
        .jira_issue(sub.ticket.key().as_str())
        .await
        .unwrap();
    assert_eq!(
        stored.parent,
        Some(parent.ticket.external_id().as_str().parse().unwrap())
    );

    let linked = client
        .create(&ticket(
            "OPS",
            "K-3",
            Severity::Low,
            TicketMode::Link { related: key },
        ))
        .await
        .unwrap();
    let links = env.requests("/rest/api/3/issueLink").await;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0].2, Some(201));
    let found = client
        .find_by_correlation(
            linked.ticket.target(),
            ticket_finding(&client, &linked).await,
        )
        .await
        .unwrap();
    assert!(found.is_some());
}

/// The finding id a created issue carries in its correlation label.
async fn ticket_finding(
    client: &lockstep_connectors::jira::JiraClient,
    created: &lockstep_connectors::CreatedTicket,
) -> lockstep_domain::FindingId {
    let page = client
        .search(&format!("key = {}", created.ticket.key()), 1, None, &[])
        .await
        .unwrap();
    let labels = lockstep_connectors::jira::issue::labels(&page.issues[0]);
    lockstep_connectors::jira::issue::correlation_from_labels(&labels)
        .unwrap()
        .finding_id()
}

#[tokio::test]
async fn a_lost_create_answer_is_repaired_by_lookup_not_by_a_second_issue() {
    let env = Env::start().await;
    let client = lockstep(&env, "OPS");
    let t = ticket("OPS", "K-9", Severity::High, TicketMode::Standalone);
    let first = client.create(&t).await.unwrap();
    // The retry of that create (after a crash before the write-back) meets a 502.
    env.sim
        .control()
        .set_faults(&[FaultRule {
            method: Some("POST".into()),
            path_prefix: "/rest/api/3/issue".into(),
            error_rate: 1.0,
            error: InjectedError::Status { status: 502 },
            ..FaultRule::default()
        }])
        .await
        .unwrap();
    let again = client.create(&t).await.unwrap();
    assert!(again.recovered);
    assert_eq!(again.ticket, first.ticket);
    env.sim.control().clear_faults().await.unwrap();
    let found = client.find_or_create(&t).await.unwrap();
    assert!(found.recovered && found.ticket == first.ticket);
    let page = client
        .search(
            &format!("project = OPS AND labels = \"lockstep-{}\"", t.finding_id),
            10,
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(page.issues.len(), 1);
}

#[tokio::test]
async fn a_bulk_of_120_with_3_failures_gives_117_issues_and_3_errors_and_the_retry_sends_only_3() {
    let env = Env::start().await;
    security_project(&env, "VULN").await;
    let client = lockstep(&env, "VULN");
    let tickets: Vec<_> = (0..120)
        .map(|i| {
            ticket(
                "VULN",
                &format!("B-{i}"),
                Severity::High,
                TicketMode::Standalone,
            )
        })
        .collect();
    env.sim.control().fail_jira_bulk(3, 40).await.unwrap();
    let results = client.create_many(&tickets).await;
    let failed: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 117);
    let bulk_calls = env.requests("/rest/api/3/issue/bulk").await;
    assert_eq!(bulk_calls.len(), 3, "chunks of 50: {bulk_calls:?}");
    // Every success is its own issue, with its finding's label.
    let mut keys: Vec<String> = results
        .iter()
        .flatten()
        .map(|c| c.ticket.key().to_string())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 117);

    let retry: Vec<_> = failed.iter().map(|i| tickets[*i].clone()).collect();
    let again = client.create_many(&retry).await;
    assert!(again.iter().all(Result::is_ok), "{again:?}");
    let (mut total, mut token) = (0, None::<String>);
    loop {
        let page = client
            .search(
                "project = VULN AND labels = lockstep",
                100,
                token.as_deref(),
                &[],
            )
            .await
            .unwrap();
        total += page.issues.len();
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(total, 120);
}

#[tokio::test]
async fn the_feed_misses_nothing_at_the_watermark_for_users_west_and_east_of_utc() {
    let env = Env::start().await;
    let creator = lockstep(&env, "OPS");
    let created = creator
        .create(&ticket(
            "OPS",
            "F-1",
            Severity::High,
            TicketMode::Standalone,
        ))
        .await
        .unwrap();
    let updated = created.observation.version.updated_at();
    // lockstep is UTC−5, priya UTC+5:30: a watermark exactly at the update is read by both.
    for user in ["lockstep", "priya"] {
        let client = jira(&env, &basic(user), Some("OPS"));
        let batch = client
            .changes_since(updated, Duration::ZERO, &[created.ticket.target().clone()])
            .await
            .unwrap();
        let keys: Vec<&str> = batch
            .observations
            .iter()
            .map(|o| o.ticket.key().as_str())
            .collect();
        assert_eq!(keys, ["OPS-3"], "{user}");
        assert_eq!(batch.next_watermark, updated);
        assert!(batch.complete);
    }
}
