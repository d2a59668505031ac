//! Refusals cannot be told apart by their timing: every refusal path (unknown, malformed, inactive
//! and deleted ids, and a live integration with wrong credentials) runs the same verification
//! work for the same request. Checked structurally, by counting verifier runs per request.

use lockstep_bus::Bus;
use lockstep_domain::{IntegrationId, Vendor};
use lockstep_store::IntegrationSettings;
use lockstep_testkit::{TestDb, TestNats};

use crate::support::*;

#[tokio::test]
async fn every_refusal_path_runs_every_vendors_verifier_once() {
    let db = TestDb::new().await;
    let nats = TestNats::new().await;
    let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
    let store = db.store();
    let (_, live) = integration(store, Vendor::ServiceNow, IntegrationSettings::default()).await;
    let (_, jira) = integration(store, Vendor::Jira, IntegrationSettings::default()).await;
    let (tenant, inactive) =
        integration(store, Vendor::ServiceNow, IntegrationSettings::default()).await;
    store
        .integrations()
        .set_active(tenant, inactive, false)
        .await
        .unwrap();
    let (tenant, deleted) =
        integration(store, Vendor::ServiceNow, IntegrationSettings::default()).await;
    store.integrations().delete(tenant, deleted).await.unwrap();
    let app = start(config(&db, "production", &[]), store, &bus).await;

    let body = body(1);
    let ids = [
        ("unknown", IntegrationId::new().to_string()),
        ("malformed", "not-a-uuid".to_owned()),
        ("inactive", inactive.to_string()),
        ("deleted", deleted.to_string()),
        ("live ServiceNow", live.to_string()),
        ("live Jira", jira.to_string()),
    ];
    let c = http();
    // The same requests to every id: a forged signature, a wrong token, an expired signature, a
    // Jira-style forged signature and no credentials at all.
    let requests = |url: &str| {
        vec![
            signed(c.post(url), "not-the-secret", "m1", now(), &body),
            c.post(url)
                .header("x-lockstep-token", "guess")
                .body(body.clone()),
            signed(c.post(url), SECRET, "m2", now() - 3600, &body),
            c.post(url)
                .header("x-hub-signature", format!("sha256={}", "0".repeat(64)))
                .body(body.clone()),
            c.post(url).body(body.clone()),
        ]
    };
    let mut runs_per_request = Vec::new();
    for (what, id) in &ids {
        // Twice: the first request of an id may fill the integration cache, the second does not.
        for round in 0..2 {
            for (n, request) in requests(&app.url(id)).into_iter().enumerate() {
                let before = (app.verifier_runs)();
                let resp = request.send().await.unwrap();
                assert_eq!(resp.status(), 401, "{what}, request {n}");
                let runs = (app.verifier_runs)() - before;
                runs_per_request.push((*what, round, n, runs));
            }
        }
    }
    let expected = Vendor::ALL.len() as u64;
    let odd: Vec<_> = runs_per_request
        .iter()
        .filter(|(_, _, _, runs)| *runs != expected)
        .collect();
    assert!(
        odd.is_empty(),
        "every refusal must run each of the {expected} verifiers once: {odd:?}"
    );
    app.stop().await;
}
