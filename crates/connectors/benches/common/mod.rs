//! What the vendor benches share: the `i`-th bench finding's standalone ticket for `target`, with
//! the vendor's default mapping rules.

use lockstep_connectors::TicketCreate;
use lockstep_domain::{
    FieldValues, Finding, FindingId, FindingStatus, MappingRules, ScannerKey, Severity, TenantId,
    TicketDraft, TicketMode, TicketTarget,
};
use time::OffsetDateTime;

pub fn create(i: usize, target: &TicketTarget) -> TicketCreate {
    let now = OffsetDateTime::now_utc();
    let finding = Finding {
        id: FindingId::new(),
        tenant_id: TenantId::new(),
        scanner_key: ScannerKey::parse(&format!("BENCH-{i:04}")).expect("key"),
        title: format!("Finding {i}"),
        description: "Upgrade the package.".into(),
        severity: Severity::ALL[i % Severity::ALL.len()],
        status: FindingStatus::Open,
        asset: Some("web-01".into()),
        cve: None,
        cwe: None,
        scanner: "nessus".into(),
        created_at: now,
        updated_at: now,
    };
    let draft = TicketDraft::build(
        &finding,
        target,
        &MappingRules::defaults(target.vendor()),
        &FieldValues::default(),
        &FieldValues::default(),
    )
    .expect("draft");
    TicketCreate {
        finding_id: finding.id,
        draft,
        reference_label: format!("Lockstep BENCH-{i:04}"),
        reporter: None,
        mode: TicketMode::Standalone,
        labels: Vec::new(),
    }
}
