//! Writes that belong together commit together: a failure between them leaves neither. The
//! failure is injected with a trigger in the test's own database, so the second write of each
//! pair fails for real, after the first has run.

use lockstep_proto::v1 as pb;
use tonic::Code;

use crate::support::{Env, req};

/// Makes every statement matching `when` on `table` fail.
async fn fail_writes(env: &Env, table: &str, timing: &str, when: &str) {
    sqlx::query(
        "CREATE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'injected failure'; END $$",
    )
    .execute(env.db.pool())
    .await
    .unwrap();
    sqlx::query(&format!(
        "CREATE TRIGGER injected_failure {timing} ON {table} FOR EACH ROW {when}
         EXECUTE FUNCTION injected_failure()"
    ))
    .execute(env.db.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_status_change_whose_activity_row_fails_changes_nothing() {
    let env = Env::start().await;
    let finding = env.import(&env.a.analyst, "TX", 1).await.remove(0);
    fail_writes(&env, "activity", "BEFORE INSERT", "").await;
    let err = env
        .findings()
        .set_finding_status(req(
            &env.a.analyst,
            pb::SetFindingStatusRequest {
                id: finding.id.clone(),
                status: "risk_accepted".into(),
                note: "accepted by the CISO".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{}", err.message());
    let got = env
        .findings()
        .get_finding(req(
            &env.a.viewer,
            pb::GetFindingRequest {
                id: finding.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got.status, "open",
        "the status rolled back with the activity row"
    );
}

#[tokio::test]
async fn settings_and_active_change_together_or_not_at_all() {
    let env = Env::start().await;
    let integration = env.integration(&env.a.admin, "sn").await;
    fail_writes(
        &env,
        "integrations",
        "BEFORE UPDATE",
        "WHEN (OLD.active IS DISTINCT FROM NEW.active)",
    )
    .await;
    let err = env
        .integrations()
        .update_integration(req(
            &env.a.admin,
            pb::UpdateIntegrationRequest {
                id: integration.id.clone(),
                settings: Some(pb::IntegrationSettings {
                    default_table: "change_request".into(),
                    poll_interval_secs: 600,
                    ..Default::default()
                }),
                active: false,
                update_mask: vec!["settings".into(), "active".into()],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{}", err.message());
    let got = env
        .integrations()
        .get_integration(req(
            &env.a.viewer,
            pb::GetIntegrationRequest {
                id: integration.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(got.active);
    assert_eq!(
        got.settings, integration.settings,
        "the settings rolled back with `active`"
    );
}

/// Streams a Lockstep JSON document of `n` findings in pieces of 1 MiB.
async fn stream_import(
    env: &Env,
    n: usize,
    bad_key: Option<usize>,
) -> Result<Vec<pb::ImportProgress>, tonic::Status> {
    let items: Vec<_> = (0..n)
        .map(|i| {
            let title = if Some(i) == bad_key {
                "bad\u{0}"
            } else {
                "fine"
            };
            serde_json::json!({"key": format!("S-{i:05}"), "title": title, "severity": "low"})
        })
        .collect();
    let doc =
        serde_json::to_vec(&serde_json::json!({"scanner": "zap", "findings": items})).unwrap();
    let pieces: Vec<_> = doc
        .chunks(1 << 20)
        .map(|c| pb::ImportFindingsPiece {
            format: pb::ImportFormat::Json as i32,
            scanner: String::new(),
            content: c.to_vec(),
        })
        .collect();
    let mut progress = env
        .findings()
        .import_findings_stream(req(&env.a.analyst, tokio_stream::iter(pieces)))
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(message) = progress.message().await? {
        out.push(message);
    }
    Ok(out)
}

async fn stored_findings(env: &Env) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM findings")
        .fetch_one(env.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_streamed_import_commits_every_chunk_or_none() {
    let env = Env::start().await;
    // A bad finding at the very end: found before anything is written.
    let err = stream_import(&env, 2_500, Some(2_499)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    assert!(
        err.message().contains("findings[2499]"),
        "{}",
        err.message()
    );
    assert_eq!(stored_findings(&env).await, 0);

    // A write failing in the third chunk, after two chunks were written: all roll back.
    sqlx::query(
        "CREATE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'injected failure'; END $$",
    )
    .execute(env.db.pool())
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER injected_failure BEFORE INSERT ON findings FOR EACH ROW
         WHEN (NEW.scanner_key = 'S-02100') EXECUTE FUNCTION injected_failure()",
    )
    .execute(env.db.pool())
    .await
    .unwrap();
    let err = stream_import(&env, 2_500, None).await.unwrap_err();
    assert!(
        err.message()
            .starts_with("nothing was imported (the import's transaction rolled back)"),
        "{}",
        err.message()
    );
    assert_eq!(
        stored_findings(&env).await,
        0,
        "chunks 1 and 2 rolled back too"
    );

    sqlx::query("DROP TRIGGER injected_failure ON findings")
        .execute(env.db.pool())
        .await
        .unwrap();
    let progress = stream_import(&env, 2_500, None).await.unwrap();
    let chunks: Vec<_> = progress
        .iter()
        .filter_map(|p| match &p.event {
            Some(pb::import_progress::Event::Chunk(c)) => {
                Some((c.chunk, c.chunks, c.first_index, c.count))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        chunks,
        vec![(1, 3, 0, 1000), (2, 3, 1000, 1000), (3, 3, 2000, 500)]
    );
    match &progress.last().unwrap().event {
        Some(pb::import_progress::Event::Committed(totals)) => {
            assert_eq!((totals.created, totals.updated), (2_500, 0));
        }
        other => panic!("the last message confirms the commit: {other:?}"),
    }
    assert_eq!(stored_findings(&env).await, 2_500);
}
