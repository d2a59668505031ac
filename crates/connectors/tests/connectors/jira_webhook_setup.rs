//! Jira webhook auto-setup against the emulator: an administrator's account registers the admin
//! webhook (secret, JQL scoped to the project and Lockstep's label) and removes it; the
//! integration account, not an administrator, gets a permission error and the manual steps.

use base64::Engine as _;
use http::{HeaderValue, Method, header};
use lockstep_connectors::http::VendorRequest;
use lockstep_connectors::{Connector, ConnectorError, WebhookRequest};
use lockstep_domain::{IntegrationId, TicketTarget, Vendor};
use serde_json::Value;
use url::Url;

use crate::jira_support::{basic, jira, lockstep};
use crate::support::Env;

/// The site's admin webhooks as an administrator lists them.
async fn admin_webhooks(env: &Env) -> Vec<Value> {
    let url = Url::parse(env.sim.base_url())
        .and_then(|u| u.join("rest/webhooks/1.0/webhook"))
        .expect("url");
    let auth = base64::engine::general_purpose::STANDARD.encode("admin@example.com:admin-token");
    let req = VendorRequest::new(
        Vendor::Jira,
        "list webhooks",
        IntegrationId::new(),
        Method::GET,
        url,
    )
    .header(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Basic {auth}")).expect("header"),
    );
    let resp = env.exec.send(&req).await.expect("list answered");
    assert!(resp.status.is_success(), "{}", resp.status);
    resp.json().expect("a JSON list")
}

#[tokio::test]
async fn an_administrator_registers_the_scoped_webhook_and_removes_it() {
    let env = Env::start().await;
    let admin = jira(&env, &basic("admin"), Some("OPS"));
    let registrar = admin.webhooks().expect("Jira can register webhooks");
    let callback = Url::parse("https://lockstep.example/v1/webhooks/abc").expect("url");
    let scope = [TicketTarget::parse(Vendor::Jira, "OPS").expect("project")];
    let request = WebhookRequest {
        callback_url: &callback,
        secret: "whsec-generated",
        scope: &scope,
    };
    let registered = registrar.register(&request).await.expect("registered");

    let hooks = admin_webhooks(&env).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let hook = &hooks[0];
    assert_eq!(hook["url"], "https://lockstep.example/v1/webhooks/abc");
    assert_eq!(
        hook["filters"]["issue-related-events-section"],
        "project in (\"OPS\") AND labels = \"lockstep\""
    );
    assert!(
        hook["self"]
            .as_str()
            .is_some_and(|s| s.ends_with(&format!("/{}", registered.vendor_id))),
        "{hook:?}"
    );
    // The secret is write-only in Jira; the emulator's delivery target shows it is set.
    let targets = env.sim.control().webhook_targets().await.expect("targets");
    let target = targets
        .iter()
        .find(|t| t.spec.url == "https://lockstep.example/v1/webhooks/abc")
        .expect("a delivery target for the webhook");
    assert_eq!(target.spec.secret.as_deref(), Some("whsec-generated"));

    registrar
        .unregister(&registered.vendor_id)
        .await
        .expect("removed");
    assert!(admin_webhooks(&env).await.is_empty());
    // Removing it again (already gone) is not an error.
    registrar
        .unregister(&registered.vendor_id)
        .await
        .expect("already gone is fine");
}

#[tokio::test]
async fn an_account_that_is_no_administrator_gets_the_manual_steps() {
    let env = Env::start().await;
    let client = lockstep(&env, "OPS");
    let callback = Url::parse("https://lockstep.example/v1/webhooks/abc").expect("url");
    let scope = [TicketTarget::parse(Vendor::Jira, "OPS").expect("project")];
    let request = WebhookRequest {
        callback_url: &callback,
        secret: "whsec-generated",
        scope: &scope,
    };
    let err = client
        .webhooks()
        .expect("Jira can register webhooks")
        .register(&request)
        .await
        .expect_err("not an administrator");
    assert!(
        matches!(&err, ConnectorError::Permission { remedy, .. } if remedy.contains("administrator")),
        "{err:?}"
    );
    assert!(admin_webhooks(&env).await.is_empty());
    let steps = client.manual_webhook_steps(&request);
    for part in [
        "https://lockstep.example/v1/webhooks/abc",
        "jira:issue_updated",
        "project in (\"OPS\") AND labels = \"lockstep\"",
        "whsec-generated",
    ] {
        assert!(steps.contains(part), "{part} missing from {steps}");
    }
}
