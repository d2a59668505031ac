//! Findings: JSON and SARIF import, paging, activity, analyst status changes published.

use lockstep_proto::v1 as pb;
use prost::Message;
use tonic::Code;

use crate::support::{Env, code, req};

#[tokio::test]
async fn json_and_sarif_imports_upsert_by_scanner_key() {
    let env = Env::start().await;
    let first = env.import(&env.a.analyst, "NES", 3).await;
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|f| f.created));
    let again = env.import(&env.a.analyst, "NES", 3).await;
    assert!(again.iter().all(|f| !f.created), "re-import updates");
    assert_eq!(first[0].id, again[0].id);

    let sarif = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "semgrep",
        "rules": [{"id": "xss", "shortDescription": {"text": "Reflected XSS"},
                   "properties": {"security-severity": "9.3", "tags": ["external/cwe/cwe-79"]}}]}},
        "results": [{"ruleId": "xss", "message": {"text": "tainted"},
                     "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}, "region": {"startLine": 3}}}]}]}]});
    let out = env
        .findings()
        .import_findings(req(
            &env.a.analyst,
            pb::ImportFindingsRequest {
                format: pb::ImportFormat::Sarif as i32,
                content: sarif.to_string().into_bytes(),
                scanner: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.created, 1);
    let got = env
        .findings()
        .get_finding(req(
            &env.a.viewer,
            pb::GetFindingRequest {
                id: out.findings[0].id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (got.severity.as_str(), got.cwe, got.scanner.as_str()),
        ("critical", 79, "semgrep")
    );
    assert_eq!(got.asset, "a.py:3");

    let err = env
        .findings()
        .import_findings(req(
            &env.a.analyst,
            pb::ImportFindingsRequest {
                format: pb::ImportFormat::Json as i32,
                content: br#"[{"key": "x", "title": "t", "severity": "urgent"}]"#.to_vec(),
                scanner: "s".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("findings[0] (key \"x\"): severity"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn findings_page_with_tokens_bound_to_their_filters() {
    let env = Env::start().await;
    env.import(&env.a.analyst, "P", 12).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = env
            .findings()
            .list_findings(req(
                &env.a.viewer,
                pb::ListFindingsRequest {
                    page_size: 5,
                    page_token: token.clone(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.findings.into_iter().map(|f| f.scanner_key));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
        let other = pb::ListFindingsRequest {
            page_size: 5,
            page_token: token.clone(),
            severity: "high".into(),
            ..Default::default()
        };
        assert_eq!(
            code(
                env.findings()
                    .list_findings(req(&env.a.viewer, other))
                    .await
            ),
            Code::InvalidArgument
        );
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 12);
    let highs = env
        .findings()
        .list_findings(req(
            &env.a.viewer,
            pb::ListFindingsRequest {
                severity: "high".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(highs.findings.iter().all(|f| f.severity == "high") && !highs.findings.is_empty());
}

#[tokio::test]
async fn an_analyst_status_change_is_recorded_and_published() {
    let env = Env::start().await;
    let finding = env.import(&env.a.analyst, "S", 1).await.remove(0);
    let mut sub = env
        .nats
        .client()
        .subscribe(env.bus.subjects().finding_changed(env.a.id))
        .await
        .unwrap();
    let set = pb::SetFindingStatusRequest {
        id: finding.id.clone(),
        status: "risk_accepted".into(),
        expected_status: "open".into(),
        note: "compensating control".into(),
    };
    assert_eq!(
        code(
            env.findings()
                .set_finding_status(req(&env.a.viewer, set.clone()))
                .await
        ),
        Code::PermissionDenied
    );
    let updated = env
        .findings()
        .set_finding_status(req(&env.a.analyst, set.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.status, "risk_accepted");
    let msg = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        futures::StreamExt::next(&mut sub),
    )
    .await
    .expect("a finding change is published")
    .unwrap();
    let mut message = pb::FindingChanges::decode(msg.payload).unwrap();
    assert_eq!(message.tenant_id, env.a.id.to_string());
    assert_eq!(message.changes.len(), 1, "one message per analyst change");
    let event = message.changes.remove(0);
    assert_eq!(
        (event.from_status.as_str(), event.to_status.as_str()),
        ("open", "risk_accepted")
    );
    assert_eq!(event.origin, pb::ChangeOrigin::Analyst as i32);
    // The expectation no longer holds.
    assert_eq!(
        code(
            env.findings()
                .set_finding_status(req(&env.a.analyst, set))
                .await
        ),
        Code::FailedPrecondition
    );

    let feed = env
        .findings()
        .list_finding_activity(req(
            &env.a.viewer,
            pb::ListFindingActivityRequest {
                finding_id: finding.id,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(feed.entries[0].kind, "status_changed");
    assert!(feed.entries[0].message.contains("compensating control"));
}
