//! Webhook auto-setup end to end: an integration of a Jira administrator's account is created
//! with `register_webhook`, so the api registers the admin webhook with a generated secret; a
//! person's transition then arrives as a real delivery from the emulator, signed with that
//! secret, which ingest-webhook accepts and sync-applier applies; deleting the integration
//! removes the webhook from the site.

use lockstep_domain::{FindingStatus, IntegrationId, SyncChannel};
use lockstep_proto::v1 as pb;
use serde_json::Value;

use super::world::{JiraWorld, req};
use super::{DONE, last_channel, transition};

async fn admin_webhooks(world: &JiraWorld) -> Vec<Value> {
    reqwest::Client::new()
        .get(format!(
            "{}/rest/webhooks/1.0/webhook",
            world.sim.base_url()
        ))
        .basic_auth("admin@example.com", Some("admin-token"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_registered_webhook_delivers_signed_changes_and_goes_with_its_integration() {
    let world = JiraWorld::start().await.unwrap();
    let created = world
        .integrations()
        .create_integration(req(
            &world.admin,
            pb::CreateIntegrationRequest {
                vendor: "jira".into(),
                name: "jira-admin-OPS".into(),
                base_url: world.sim.base_url().into(),
                credentials: Some(pb::Credentials {
                    kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                        username: "admin@example.com".into(),
                        password: "admin-token".into(),
                    })),
                }),
                settings: Some(pb::IntegrationSettings {
                    default_table: "OPS".into(),
                    ..Default::default()
                }),
                register_webhook: true,
                webhook_base_url: format!("http://{}", world.ingest),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        !created.registered_webhook_id.is_empty(),
        "{}",
        created.webhook_setup_steps
    );
    let integration = IntegrationId::parse(&created.id).unwrap();
    assert_eq!(admin_webhooks(&world).await.len(), 1);

    let ids = world.import("AW", 1).await.unwrap();
    let key = world.ticket(ids[0], integration, "OPS").await.unwrap();
    transition(&world, &key, DONE).await;
    world.wait_for(ids[0], FindingStatus::ReTest).await.unwrap();
    assert_eq!(last_channel(&world, ids[0]).await, SyncChannel::Webhook);

    let deleted = world
        .integrations()
        .delete_integration(req(
            &world.admin,
            pb::DeleteIntegrationRequest { id: created.id },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.webhook_cleanup, "");
    assert!(admin_webhooks(&world).await.is_empty());
    world.stop().await;
}
