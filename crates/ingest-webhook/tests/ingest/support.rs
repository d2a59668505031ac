//! A running ingest-webhook on port 0 against a fresh database and this test's NATS prefix.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lockstep_bus::{Bus, ConsumerSettings, Delivery};
use lockstep_crypto::webhook::{WebhookSecret, sign};
use lockstep_crypto::{Aad, Keyring, Purpose};
use lockstep_domain::{IntegrationId, TenantId, Vendor};
use lockstep_ingest_webhook::{App, Config, Deps, config::DEFAULTS};
use lockstep_platform::Shutdown;
use lockstep_proto::v1;
use lockstep_store::{AuthKind, IntegrationSettings, NewIntegration, Store};
use lockstep_testkit::TestDb;
use prost::Message as _;
use tokio::task::JoinHandle;

pub const SECRET: &str = "s3cr3t-for-tests";

pub fn keyring() -> Arc<Keyring> {
    Arc::new(Keyring::new("test-1", &[7u8; 32]).unwrap())
}

/// A tenant with one active integration of `vendor` whose webhook secret is [`SECRET`].
pub async fn integration(
    store: &Store,
    vendor: Vendor,
    settings: IntegrationSettings,
) -> (TenantId, IntegrationId) {
    let keys = keyring();
    let tenant = store.tenants().create("Acme").await.unwrap().id;
    let id = IntegrationId::new();
    let seal = |purpose, bytes: &[u8]| keys.seal(bytes, &Aad::new(tenant, id, purpose)).unwrap();
    store
        .integrations()
        .create(
            tenant,
            &NewIntegration {
                id,
                vendor,
                name: format!("{vendor} prod"),
                base_url: "https://acme.example.com".to_owned(),
                auth_kind: AuthKind::Basic,
                sealed_credentials: seal(Purpose::Credentials, b"{}"),
                sealed_webhook_secret: Some(seal(Purpose::WebhookSecret, SECRET.as_bytes())),
                settings,
            },
        )
        .await
        .unwrap();
    (tenant, id)
}

pub fn config(db: &TestDb, mode: &str, extra: &[(&str, &str)]) -> Config {
    let mut env = vec![
        ("LOCKSTEP_DATABASE__URL".to_owned(), db.url().to_owned()),
        ("LOCKSTEP_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "LOCKSTEP_ADMIN__LISTEN".to_owned(),
            "127.0.0.1:0".to_owned(),
        ),
        ("LOCKSTEP_MODE".to_owned(), mode.to_owned()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    lockstep_platform::config::load_with_env(DEFAULTS, None, env).unwrap()
}

pub struct Running {
    pub base: String,
    pub admin: SocketAddr,
    pub shutdown: Shutdown,
    pub task: JoinHandle<Result<(), lockstep_ingest_webhook::IngestError>>,
    /// Vendor verifier runs since start (`App::verifier_runs`).
    pub verifier_runs: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl Running {
    pub fn url(&self, integration: impl std::fmt::Display) -> String {
        format!("{}/v1/webhooks/{integration}", self.base)
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("stops")
            .unwrap()
            .unwrap();
    }
}

pub async fn start(config: Config, store: &Store, bus: &Bus) -> Running {
    let app = App::build(
        config,
        Deps {
            store: store.clone(),
            bus: bus.clone(),
            keyring: keyring(),
        },
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.local_addr());
    let admin = app.admin_addr();
    let verifier_runs = Box::new(app.verifier_runs());
    let shutdown = Shutdown::new();
    let task = tokio::spawn(app.run(shutdown.clone()));
    Running {
        base,
        admin,
        shutdown,
        task,
        verifier_runs,
    }
}

pub fn http() -> reqwest::Client {
    lockstep_platform::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub fn now() -> i64 {
    lockstep_crypto::webhook::now_unix()
}

/// A ServiceNow-style body for ticket `n`.
pub fn body(n: usize) -> Vec<u8> {
    format!(
        r#"{{"event_id":"sys{n}-1","table":"incident","sys_id":"{:032x}","number":"INC{:07}","state":"6","close_code":"Solution provided","sys_updated_on":"2026-03-01 10:00:00","sys_mod_count":"1","sys_updated_by":"beth.anglin","fields":{{}}}}"#,
        n, n
    )
    .into_bytes()
}

/// Standard Webhooks headers signed with `secret` at `ts`.
pub fn signed(
    req: reqwest::RequestBuilder,
    secret: &str,
    id: &str,
    ts: i64,
    body: &[u8],
) -> reqwest::RequestBuilder {
    let sig = sign(&WebhookSecret::parse(secret).unwrap(), id, ts, body).unwrap();
    req.header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .header("content-type", "application/json")
        .body(body.to_vec())
}

/// One delivery as the stream holds it, with the message that carried it.
pub struct Stored {
    pub subject: String,
    /// The carrying message's `Nats-Msg-Id`.
    pub message_id: Option<String>,
    /// How many deliveries that message carried.
    pub group: usize,
    pub delivery: v1::WebhookReceived,
}

/// Every delivery this test's stream holds, in order, unpacked from the group messages.
pub async fn stored_deliveries(bus: &Bus, name: &str) -> Vec<Stored> {
    let mut out = Vec::new();
    for message in webhook_messages(bus, name).await {
        assert_eq!(message.kind(), Some("webhook_batch"));
        let group = v1::WebhookBatch::decode(message.payload()).unwrap();
        let size = group.deliveries.len();
        out.extend(group.deliveries.into_iter().map(|delivery| Stored {
            subject: message.subject().to_owned(),
            message_id: message.message_id().map(str::to_owned),
            group: size,
            delivery,
        }));
    }
    out
}

/// Every webhook message this test's stream holds, via a throwaway consumer.
pub async fn webhook_messages(bus: &Bus, name: &str) -> Vec<Delivery> {
    let consumer = bus
        .consumer(
            name,
            vec![bus.subjects().all_webhooks()],
            &ConsumerSettings::default(),
        )
        .await
        .unwrap();
    let mut all = Vec::new();
    loop {
        let batch = consumer
            .fetch(1000, Duration::from_millis(300))
            .await
            .unwrap();
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}
