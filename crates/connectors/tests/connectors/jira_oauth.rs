//! OAuth 2.0 (3LO) against the emulator: the connector refreshes through the token endpoint,
//! calls through the `/ex/jira/{cloudid}` gateway, stores every rotated refresh token through its
//! credentials sink, and a connector holding a rotated-away token recovers with the stored one.

use std::sync::Arc;

use lockstep_connectors::jira::JiraSpec;
use lockstep_connectors::{
    Connector, ConnectorSetup, Credentials, CredentialsSink, Result, VendorSpec,
};
use lockstep_crypto::SecretString;
use lockstep_domain::{IntegrationId, Severity, TicketMode};
use lockstep_itsm_sim::control::jira_seed;
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::jira_support::ticket;
use crate::support::Env;

#[derive(Debug)]
struct MemorySink(Mutex<Credentials>);

#[async_trait::async_trait]
impl CredentialsSink for MemorySink {
    async fn load(&self) -> Result<Credentials> {
        Ok(self.0.lock().clone())
    }
    async fn save(&self, credentials: &Credentials) -> Result<()> {
        *self.0.lock() = credentials.clone();
        Ok(())
    }
}

fn refresh_of(c: &Credentials) -> String {
    match c {
        Credentials::OAuthRefreshToken { refresh_token, .. } => refresh_token.expose().to_owned(),
        _ => panic!("not OAuth"),
    }
}

/// An admin's consent: an authorization code exchanged for a refresh token.
async fn consent(env: &Env) -> Credentials {
    let code = env
        .sim
        .control()
        .jira_oauth_code(
            "lockstep-jira",
            jira_seed::LOCKSTEP,
            &["read:jira-work", "write:jira-work", "offline_access"],
        )
        .await
        .unwrap();
    let token_url = format!("{}/oauth/token", env.sim.base_url().trim_end_matches('/'));
    let answer: Value = env
        .sim
        .http_client()
        .post(&token_url)
        .json(
            &json!({"grant_type": "authorization_code", "client_id": "lockstep-jira",
            "client_secret": "lockstep-jira-secret", "code": code,
            "redirect_uri": "https://lockstep.example/callback"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Credentials::OAuthRefreshToken {
        client_id: "lockstep-jira".into(),
        client_secret: SecretString::new("lockstep-jira-secret"),
        refresh_token: SecretString::new(answer["refresh_token"].as_str().expect("refresh token")),
        token_url: Some(token_url),
    }
}

fn connect(env: &Env, credentials: Credentials, sink: Arc<MemorySink>) -> Arc<dyn Connector> {
    JiraSpec
        .connect(ConnectorSetup {
            integration: IntegrationId::new(),
            base_url: env.sim.base_url().to_owned(),
            credentials,
            exec: env.exec.clone(),
            default_container: Some("OPS".into()),
            credentials_sink: Some(sink),
        })
        .unwrap()
}

#[tokio::test]
async fn oauth_refreshes_through_the_gateway_and_stores_each_rotated_refresh_token() {
    let env = Env::start().await;
    let consented = consent(&env).await;
    let sink = Arc::new(MemorySink(Mutex::new(consented.clone())));
    let client = connect(&env, consented.clone(), sink.clone());
    let report = client.test_connection().await;
    assert!(report.ok(), "{report:?}");
    assert_ne!(
        refresh_of(&sink.0.lock()),
        refresh_of(&consented),
        "rotated and stored"
    );
    let created = client
        .create(&ticket(
            "OPS",
            "O-1",
            Severity::High,
            TicketMode::Standalone,
        ))
        .await
        .unwrap();
    assert_eq!(created.ticket.key().as_str(), "OPS-3");
    let via_gateway = env
        .requests("/ex/jira/")
        .await
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p.ends_with("/rest/api/3/issue"))
        .count();
    assert_eq!(via_gateway, 1, "the create went through the gateway");

    // A second connector (another service) still holds the consent's first token, which the
    // rotation killed: it recovers with the stored one and stores its own rotation.
    let stored_before = refresh_of(&sink.0.lock());
    let other = connect(&env, consented, sink.clone());
    assert!(other.test_connection().await.ok());
    assert_ne!(refresh_of(&sink.0.lock()), stored_before);
}
