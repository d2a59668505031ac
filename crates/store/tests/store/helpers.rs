//! Fixtures shared by the test modules.

use lockstep_crypto::Sealed;
use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{
    Cve, ExternalId, FindingId, ScannerKey, Severity, SyncChannel, TenantId, TicketKey,
    TicketTarget, Vendor, VendorVersion,
};
use lockstep_store::{
    AuthKind, FindingRecord, IntegrationRecord, IntegrationSettings, LiveTicket, NewFinding,
    NewIntegration, Store, TicketLinkRecord,
};
use lockstep_testkit::TestDb;
use time::OffsetDateTime;
use time::macros::datetime;

/// A fresh database with two tenants: `tenant` (the one under test) and `other`.
pub struct Fixture {
    pub db: TestDb,
    pub tenant: TenantId,
    pub other: TenantId,
}

impl Fixture {
    pub fn store(&self) -> &Store {
        self.db.store()
    }
}

pub async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let tenant = db.store().tenants().create("Acme").await.unwrap().id;
    let other = db.store().tenants().create("Globex").await.unwrap().id;
    Fixture { db, tenant, other }
}

/// A sealed value of the stored format (the store never opens it).
pub fn sealed(tag: u8) -> Sealed {
    Sealed {
        key_id: format!("key-{tag}"),
        nonce: [tag; 12],
        ciphertext: vec![tag; 40],
    }
}

pub fn new_integration(name: &str) -> NewIntegration {
    NewIntegration {
        id: lockstep_domain::IntegrationId::new(),
        vendor: Vendor::ServiceNow,
        name: name.to_owned(),
        base_url: "https://acme.service-now.com".to_owned(),
        auth_kind: AuthKind::Basic,
        sealed_credentials: sealed(1),
        sealed_webhook_secret: Some(sealed(2)),
        settings: IntegrationSettings::default(),
    }
}

pub async fn integration(store: &Store, tenant: TenantId, name: &str) -> IntegrationRecord {
    store
        .integrations()
        .create(tenant, &new_integration(name))
        .await
        .unwrap()
}

pub fn new_finding(scanner_key: &str) -> NewFinding {
    NewFinding {
        scanner_key: ScannerKey::parse(scanner_key).unwrap(),
        title: format!("Finding {scanner_key}"),
        description: "OpenSSL is out of date".to_owned(),
        severity: Severity::High,
        asset: Some("web-01".to_owned()),
        cve: Some(Cve::parse("CVE-2026-0001").unwrap()),
        cwe: None,
        scanner: "nessus".to_owned(),
        seen_at: datetime!(2026-11-01 08:00 UTC),
    }
}

pub async fn finding(store: &Store, tenant: TenantId, scanner_key: &str) -> FindingRecord {
    let outcome = store
        .findings()
        .import(tenant, &[new_finding(scanner_key)])
        .await
        .unwrap();
    store
        .findings()
        .get(tenant, outcome.rows[0].id)
        .await
        .unwrap()
}

pub async fn findings(store: &Store, tenant: TenantId, count: usize) -> Vec<FindingId> {
    let batch: Vec<_> = (0..count)
        .map(|i| new_finding(&format!("key-{i}")))
        .collect();
    let outcome = store.findings().import(tenant, &batch).await.unwrap();
    outcome.rows.iter().map(|r| r.id).collect()
}

/// The ServiceNow incident table.
pub fn incident() -> TicketTarget {
    TicketTarget::parse(Vendor::ServiceNow, "incident").unwrap()
}

/// A finding with a live ServiceNow link, for tests that start from there.
pub async fn live_link(store: &Store, tenant: TenantId, external_id: &str) -> TicketLinkRecord {
    let finding = finding(store, tenant, &format!("live-{external_id}")).await;
    let integration = match store
        .integrations()
        .list(tenant)
        .await
        .unwrap()
        .into_iter()
        .next()
    {
        Some(existing) => existing,
        None => integration(store, tenant, "ServiceNow prod").await,
    };
    let pending = store
        .links()
        .insert_pending(tenant, finding.id, integration.id, &incident())
        .await
        .unwrap();
    store
        .links()
        .mark_live(tenant, pending.id, &live_ticket(external_id))
        .await
        .unwrap()
}

/// The write-back of INC0010001 with the given sys_id, in state 1 at version (0 s, 0).
pub fn live_ticket(external_id: &str) -> LiveTicket {
    LiveTicket {
        external_id: ExternalId::parse(external_id).unwrap(),
        ticket_key: TicketKey::parse(Vendor::ServiceNow, "INC0010001").unwrap(),
        url: Some(format!(
            "https://acme.service-now.com/incident.do?sys_id={external_id}"
        )),
        snapshot: Some(snapshot("1", 0, 0)),
        channel: SyncChannel::Api,
    }
}

/// A vendor version `secs` seconds after a fixed instant.
pub fn version(secs: i64, sequence: i64) -> VendorVersion {
    VendorVersion::new(at(secs), sequence)
}

pub fn snapshot(state: &str, secs: i64, sequence: i64) -> VendorSnapshot {
    VendorSnapshot {
        version: version(secs, sequence),
        state: state.to_owned(),
    }
}

pub fn at(secs: i64) -> OffsetDateTime {
    datetime!(2026-11-23 09:00 UTC) + time::Duration::seconds(secs)
}
