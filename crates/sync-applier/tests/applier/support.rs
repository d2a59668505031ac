//! Fixtures: a tenant with a ServiceNow integration, findings with live links, events as
//! ingest-webhook and the poller publish them, and the applier running in-process.

use std::future::Future;
use std::time::Duration;

use lockstep_bus::{Bus, ConsumerSettings, Delivery};
use lockstep_connectors::Registry;
use lockstep_crypto::Sealed;
use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{
    ExternalId, FindingId, IntegrationId, ScannerKey, Severity, SyncChannel, TenantId, TicketKey,
    TicketTarget, Vendor, VendorVersion,
};
use lockstep_platform::Shutdown;
use lockstep_proto::v1;
use lockstep_store::{
    AuthKind, IntegrationSettings, LiveTicket, NewFinding, NewIntegration, Store,
};
use lockstep_sync_applier::decode::{Inbound, Part, decode};
use lockstep_sync_applier::{App, Config, Deps, config::DEFAULTS};
use lockstep_testkit::{TestDb, TestNats};
use prost::Message as _;
use time::OffsetDateTime;
use time::macros::format_description;

pub struct World {
    pub db: TestDb,
    pub nats: TestNats,
    pub bus: Bus,
    pub tenant: TenantId,
    pub integration: IntegrationId,
    /// Vendor times start here: after the findings were imported.
    pub t0: OffsetDateTime,
}

fn sealed(tag: u8) -> Sealed {
    Sealed {
        key_id: "k".into(),
        nonce: [tag; 12],
        ciphertext: vec![tag; 40],
    }
}

impl World {
    pub async fn new(auto_close: bool) -> Self {
        let db = TestDb::new().await;
        let nats = TestNats::new().await;
        let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
        bus.ensure_stream(&Default::default()).await.unwrap();
        let store = db.store();
        let tenant = store.tenants().create("Acme").await.unwrap().id;
        let integration = IntegrationId::new();
        store
            .integrations()
            .create(
                tenant,
                &NewIntegration {
                    id: integration,
                    vendor: Vendor::ServiceNow,
                    name: "SN".into(),
                    base_url: "https://acme.service-now.com".into(),
                    auth_kind: AuthKind::Basic,
                    sealed_credentials: sealed(1),
                    sealed_webhook_secret: Some(sealed(2)),
                    settings: IntegrationSettings {
                        auto_close_on_resolve: auto_close,
                        ..Default::default()
                    },
                },
            )
            .await
            .unwrap();
        let t0 = (OffsetDateTime::now_utc() + time::Duration::minutes(1))
            .replace_nanosecond(0)
            .unwrap();
        World {
            db,
            nats,
            bus,
            tenant,
            integration,
            t0,
        }
    }

    pub fn store(&self) -> &Store {
        self.db.store()
    }

    /// `n` findings, each with a live link to incident `n` (state 1, version t0-30s).
    pub async fn linked_findings(&self, n: usize) -> Vec<FindingId> {
        let batch: Vec<NewFinding> = (0..n)
            .map(|i| NewFinding {
                scanner_key: ScannerKey::parse(&format!("key-{i}")).unwrap(),
                title: format!("Finding {i}"),
                description: "OpenSSL is out of date".into(),
                severity: Severity::High,
                asset: Some("web-01".into()),
                cve: None,
                cwe: None,
                scanner: "nessus".into(),
                seen_at: OffsetDateTime::now_utc(),
            })
            .collect();
        let mut ids = Vec::new();
        for chunk in batch.chunks(500) {
            let out = self
                .store()
                .findings()
                .import(self.tenant, chunk)
                .await
                .unwrap();
            ids.extend(out.rows.iter().map(|r| r.id));
        }
        let target = TicketTarget::parse(Vendor::ServiceNow, "incident").unwrap();
        for (i, finding) in ids.iter().enumerate() {
            let link = self
                .store()
                .links()
                .insert_pending(self.tenant, *finding, self.integration, &target)
                .await
                .unwrap();
            self.store()
                .links()
                .mark_live(
                    self.tenant,
                    link.id,
                    &LiveTicket {
                        external_id: ExternalId::parse(&sys_id(i)).unwrap(),
                        ticket_key: TicketKey::parse(Vendor::ServiceNow, &number(i)).unwrap(),
                        url: None,
                        snapshot: Some(VendorSnapshot {
                            version: VendorVersion::new(self.t0 - time::Duration::seconds(30), 0),
                            state: "1".into(),
                        }),
                        channel: SyncChannel::Api,
                    },
                )
                .await
                .unwrap();
        }
        ids
    }

    /// A ServiceNow delivery for incident `i` as ingest-webhook publishes it.
    pub fn webhook(
        &self,
        i: usize,
        state: &str,
        seconds: i64,
        mod_count: u32,
        user: &str,
    ) -> v1::WebhookReceived {
        let at = (self.t0 + time::Duration::seconds(seconds))
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .unwrap();
        let body = format!(
            r#"{{"event_id":"{sys}-{mod_count}","event_type":"update","table":"incident","sys_id":"{sys}","number":"{num}","state":"{state}","close_code":"Solution provided","correlation_id":"","sys_updated_on":"{at}","sys_mod_count":"{mod_count}","sys_updated_by":"{user}","fields":{{"priority":"2"}}}}"#,
            sys = sys_id(i),
            num = number(i),
        );
        v1::WebhookReceived {
            event_id: format!("wh:{}:{}-{mod_count}", self.integration, sys_id(i)),
            tenant_id: self.tenant.to_string(),
            integration_id: self.integration.to_string(),
            vendor: "servicenow".into(),
            body: body.into_bytes(),
            content_type: "application/json".into(),
            delivery_id: format!("{}-{mod_count}", sys_id(i)),
            received_at: Some(lockstep_proto::to_timestamp(OffsetDateTime::now_utc())),
            traceparent: String::new(),
        }
    }

    /// Publishes `event` as ingest-webhook does when it arrives alone: a group of one.
    pub async fn publish_webhook(&self, event: &v1::WebhookReceived) {
        self.publish_group(vec![event.clone()]).await;
    }

    /// Publishes `events` as one group message, as ingest-webhook's group commit does.
    pub async fn publish_group(&self, events: Vec<v1::WebhookReceived>) {
        let subject = self.bus.subjects().webhook(self.tenant, self.integration);
        let group = lockstep_bus::webhook_batch(self.tenant, self.integration, events);
        self.bus.publish(&subject, &group).await.unwrap();
    }

    /// What `event` says about its ticket, published as the poller publishes a reading (channel
    /// poll) under `event_id`.
    pub async fn publish_poll(&self, event: &v1::WebhookReceived, event_id: &str) {
        let decoded = self.inbound(event);
        let observed = v1::TicketObserved {
            event_id: event_id.to_owned(),
            tenant_id: self.tenant.to_string(),
            integration_id: self.integration.to_string(),
            observation: Some(v1::TicketObservation::from(&decoded.observation)),
            channel: String::new(),
        };
        self.bus
            .publish(
                &self.bus.subjects().observed(self.tenant, self.integration),
                &observed,
            )
            .await
            .unwrap();
    }

    /// `event` decoded as the applier decodes a bare delivery.
    pub fn inbound(&self, event: &v1::WebhookReceived) -> Inbound {
        let subject = self.bus.subjects().webhook(self.tenant, self.integration);
        let parts = decode(
            &Registry::builtin(),
            self.bus.subjects(),
            &subject,
            None,
            &event.encode_to_vec(),
        )
        .unwrap();
        match <[Part; 1]>::try_from(parts) {
            Ok([Ok(inbound)]) => inbound,
            other => panic!("{event:?} decoded to {other:?}"),
        }
    }

    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let mut env = vec![
            (
                "LOCKSTEP_DATABASE__URL".to_owned(),
                self.db.url().to_owned(),
            ),
            ("LOCKSTEP_NATS__URL".to_owned(), self.nats.url().to_owned()),
            (
                "LOCKSTEP_NATS__SUBJECT_PREFIX".to_owned(),
                self.nats.prefix().to_owned(),
            ),
            (
                "LOCKSTEP_ADMIN__LISTEN".to_owned(),
                "127.0.0.1:0".to_owned(),
            ),
            (
                "LOCKSTEP_APPLIER__FETCH_WAIT".to_owned(),
                "200ms".to_owned(),
            ),
            (
                "LOCKSTEP_APPLIER__RETRY_DELAY".to_owned(),
                "200ms".to_owned(),
            ),
        ];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        lockstep_platform::config::load_with_env(DEFAULTS, None, env).unwrap()
    }

    /// The applier in-process; stops when the returned token fires.
    pub async fn start_applier(&self) -> Shutdown {
        self.start_applier_with(&[]).await
    }

    /// The applier with `extra` settings (`LOCKSTEP_APPLIER__…` environment overrides).
    pub async fn start_applier_with(&self, extra: &[(&str, &str)]) -> Shutdown {
        self.start_applier_for(extra, Registry::builtin()).await
    }

    /// The applier parsing webhook bodies with `registry`'s vendors.
    pub async fn start_applier_for(&self, extra: &[(&str, &str)], registry: Registry) -> Shutdown {
        self.bus.ensure_stream(&Default::default()).await.unwrap();
        let app = App::build_with(
            self.config(extra),
            Deps {
                store: self.store().clone(),
                bus: self.bus.clone(),
            },
            registry,
        )
        .await
        .unwrap();
        let shutdown = Shutdown::new();
        tokio::spawn(app.run(shutdown.clone()));
        shutdown
    }

    /// Every message on `filter` via a throwaway consumer.
    pub async fn messages(&self, name: &str, filter: String) -> Vec<Delivery> {
        let name = format!("{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let consumer = self
            .bus
            .consumer(&name, vec![filter], &ConsumerSettings::default())
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

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}

pub fn sys_id(i: usize) -> String {
    format!("{:032x}", i + 1)
}

pub fn number(i: usize) -> String {
    format!("INC{:07}", i + 1)
}

/// Polls `check` until it holds or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
