//! Webhook auto-setup through CreateIntegration and DeleteIntegration against the Jira emulator:
//! a Jira administrator's integration registers the admin webhook (a generated secret, sealed
//! like any webhook secret; JQL scoped to the project) and deleting it removes the webhook; an
//! account that may not manage webhooks still gets its integration, with the manual steps.

use lockstep_crypto::{Aad, Purpose};
use lockstep_domain::IntegrationId;
use lockstep_proto::v1 as pb;
use serde_json::Value;
use tonic::Code;

use crate::support::{Env, basic, code, keyring, req};

const BASE: &str = "https://lockstep.example/";

fn jira(env: &Env, user: &str, register: bool) -> pb::CreateIntegrationRequest {
    pb::CreateIntegrationRequest {
        vendor: "jira".into(),
        name: format!("jira-{user}"),
        base_url: env.sim.base_url().into(),
        credentials: Some(basic(
            &format!("{user}@example.com"),
            &format!("{user}-token"),
        )),
        settings: Some(pb::IntegrationSettings {
            default_table: "OPS".into(),
            ..Default::default()
        }),
        register_webhook: register,
        webhook_base_url: BASE.into(),
        ..Default::default()
    }
}

/// The site's admin webhooks, as a Jira administrator lists them.
async fn admin_webhooks(env: &Env) -> Vec<Value> {
    let ca =
        reqwest::Certificate::from_pem(env.sim.ca_cert_pem().expect("CA").as_bytes()).expect("CA");
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .expect("client")
        .get(format!(
            "{}/rest/webhooks/1.0/webhook",
            env.sim.base_url().trim_end_matches('/')
        ))
        .basic_auth("admin@example.com", Some("admin-token"))
        .send()
        .await
        .expect("answered")
        .error_for_status()
        .expect("listed")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn an_administrators_integration_registers_the_webhook_and_its_delete_removes_it() {
    let env = Env::start().await;
    let admin = &env.a.admin;
    let created = env
        .integrations()
        .create_integration(req(admin, jira(&env, "admin", true)))
        .await
        .expect("created")
        .into_inner();
    assert!(!created.registered_webhook_id.is_empty(), "{created:?}");
    assert_eq!(created.webhook_setup_steps, "");
    assert!(created.webhook_secret_set);

    let url = format!("https://lockstep.example/v1/webhooks/{}", created.id);
    let hooks = admin_webhooks(&env).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["url"], url.as_str());
    assert_eq!(
        hooks[0]["filters"]["issue-related-events-section"],
        "project in (\"OPS\") AND labels = \"lockstep\""
    );
    // Jira's secret is write-only; the emulator's delivery target signs with what it was given,
    // which is the secret Lockstep sealed for the integration.
    let id: IntegrationId = created.id.parse().expect("id");
    let record = env
        .store()
        .integrations()
        .get(env.a.id, id)
        .await
        .expect("stored");
    let sealed = record.sealed_webhook_secret.expect("a generated secret");
    let opened = keyring()
        .open(&sealed, &Aad::new(env.a.id, id, Purpose::WebhookSecret))
        .expect("opens");
    let targets = env.sim.control().webhook_targets().await.expect("targets");
    let target = targets.iter().find(|t| t.spec.url == url).expect("target");
    assert_eq!(
        target.spec.secret.as_deref().map(str::as_bytes),
        Some(opened.expose())
    );
    assert_eq!(opened.len(), 64, "32 random bytes, hex");

    let deleted = env
        .integrations()
        .delete_integration(req(admin, pb::DeleteIntegrationRequest { id: created.id }))
        .await
        .expect("deleted")
        .into_inner();
    assert_eq!(deleted.webhook_cleanup, "");
    assert!(admin_webhooks(&env).await.is_empty());
}

#[tokio::test]
async fn without_the_permission_the_create_answers_the_manual_steps() {
    let env = Env::start().await;
    let created = env
        .integrations()
        .create_integration(req(&env.a.admin, jira(&env, "lockstep", true)))
        .await
        .expect("created all the same")
        .into_inner();
    assert_eq!(created.registered_webhook_id, "");
    let steps = &created.webhook_setup_steps;
    for part in [
        "may not manage webhooks",
        "administrator",
        &format!("https://lockstep.example/v1/webhooks/{}", created.id),
        "project in (\"OPS\") AND labels = \"lockstep\"",
        "jira:issue_updated",
    ] {
        assert!(steps.contains(part), "{part:?} missing from {steps}");
    }
    assert!(admin_webhooks(&env).await.is_empty());
    // The generated secret the steps name is the one stored.
    let id: IntegrationId = created.id.parse().expect("id");
    let record = env
        .store()
        .integrations()
        .get(env.a.id, id)
        .await
        .expect("stored");
    let opened = keyring()
        .open(
            &record.sealed_webhook_secret.expect("generated"),
            &Aad::new(env.a.id, id, Purpose::WebhookSecret),
        )
        .expect("opens");
    let secret = String::from_utf8(opened.expose().to_vec()).expect("hex");
    assert!(steps.contains(&secret), "{steps}");
    // Nothing registered: the delete has nothing to clean up.
    let deleted = env
        .integrations()
        .delete_integration(req(
            &env.a.admin,
            pb::DeleteIntegrationRequest { id: created.id },
        ))
        .await
        .expect("deleted")
        .into_inner();
    assert_eq!(deleted.webhook_cleanup, "");
}

#[tokio::test]
async fn registering_needs_a_public_base_url() {
    let env = Env::start().await;
    let mut request = jira(&env, "admin", true);
    request.webhook_base_url.clear();
    let answer = env
        .integrations()
        .create_integration(req(&env.a.admin, request))
        .await;
    assert_eq!(code(answer), Code::InvalidArgument);
    assert!(admin_webhooks(&env).await.is_empty());
}

#[tokio::test]
async fn the_configured_base_url_serves_a_servicenow_integration_its_manual_steps() {
    let env = Env::start_with(|c| {
        c.webhooks.public_base_url = Some("https://hooks.lockstep.example".into());
    })
    .await;
    let mut request = crate::support::create_integration(env.sim.base_url(), "sn");
    request.register_webhook = true;
    let created = env
        .integrations()
        .create_integration(req(&env.a.admin, request))
        .await
        .expect("created")
        .into_inner();
    assert_eq!(created.registered_webhook_id, "");
    let steps = &created.webhook_setup_steps;
    assert!(
        steps.contains("cannot register servicenow webhooks"),
        "{steps}"
    );
    assert!(
        steps.contains(&format!(
            "https://hooks.lockstep.example/v1/webhooks/{}",
            created.id
        )),
        "{steps}"
    );
}
