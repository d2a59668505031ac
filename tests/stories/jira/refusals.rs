//! Deliveries that must not count: forged (signed with another secret), unsigned, carrying the
//! token of a retired secret, and a replay of a delivery already taken (same
//! `X-Atlassian-Webhook-Identifier`). The first three are refused with 401 and nothing is
//! published; the replay is answered like the original but publishes nothing new.

use lockstep_crypto::webhook::{WebhookSecret, hub_signature};
use lockstep_proto::v1 as pb;
use serde_json::json;

use super::world::{HOOK_SECRET, JiraWorld, req};

fn body() -> Vec<u8> {
    json!({"timestamp": 1, "webhookEvent": "jira:issue_updated",
           "issue": {"id": "10099", "key": "OPS-99", "fields": {
               "project": {"key": "OPS"}, "updated": "2026-01-05T12:00:00.000+0000",
               "status": {"id": "10001", "name": "Done", "statusCategory": {"key": "done"}}}}})
    .to_string()
    .into_bytes()
}

async fn post(url: &str, signature: Option<String>, id: &str) -> u16 {
    let mut r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-atlassian-webhook-identifier", id)
        .body(body());
    if let Some(s) = signature {
        r = r.header("x-hub-signature", s);
    }
    r.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn forged_unsigned_retired_token_and_replayed_deliveries_publish_nothing() {
    let world = JiraWorld::start().await.unwrap();
    let integration = world.integration("lockstep", "OPS", false).await.unwrap();
    let url = world.webhook_url(integration);
    // The secret is rotated, then the old one retired (before any delivery, so no receiver
    // holds it in its 30 s cache): its URL token no longer passes.
    let new_secret = "jira-admin-webhook-secret-rotated-1";
    let mut admin = world.integrations();
    let id = integration.to_string();
    admin
        .rotate_webhook_secret(req(
            &world.admin,
            pb::RotateWebhookSecretRequest {
                id: id.clone(),
                webhook_secret: new_secret.into(),
                generate: false,
            },
        ))
        .await
        .unwrap();
    admin
        .retire_webhook_secrets(req(&world.admin, pb::RetireWebhookSecretsRequest { id }))
        .await
        .unwrap();
    let forged = WebhookSecret::parse("not-the-secret-at-all").unwrap();
    assert_eq!(
        post(&url, Some(hub_signature(&forged, &body())), "d-1").await,
        401
    );
    assert_eq!(post(&url, None, "d-2").await, 401);
    assert_eq!(post(&url, Some("sha256=zz".into()), "d-3").await, 401);

    assert_eq!(
        post(&format!("{url}?token={HOOK_SECRET}"), None, "d-4").await,
        401
    );
    assert_eq!(world.published().await.unwrap(), 0, "nothing was published");

    // A genuine delivery is taken once; its replay publishes nothing new.
    let key = WebhookSecret::parse(new_secret).unwrap();
    assert_eq!(
        post(&url, Some(hub_signature(&key, &body())), "d-5").await,
        202
    );
    assert_eq!(world.published().await.unwrap(), 1);
    let replay = post(&url, Some(hub_signature(&key, &body())), "d-5").await;
    assert!(replay == 202 || replay == 200, "{replay}");
    assert_eq!(
        world.published().await.unwrap(),
        1,
        "the replay published nothing"
    );
    world.stop().await;
}
