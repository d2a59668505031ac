use lockstep_domain::{
    Finding, FindingStatus, MappingRules, ScannerKey, Severity, TenantId, TicketDraft, TicketKey,
    Vendor,
};

use super::*;
use crate::jira::meta::{Allowed, FieldMeta, IssueTypeMeta};

fn finding() -> Finding {
    let now = OffsetDateTime::now_utc();
    Finding {
        id: FindingId::new(),
        tenant_id: TenantId::new(),
        scanner_key: ScannerKey::parse("NES-1").unwrap(),
        title: "OpenSSL out of date".into(),
        description: "Upgrade the package.".into(),
        severity: Severity::High,
        status: FindingStatus::Open,
        asset: Some("web-01".into()),
        cve: None,
        cwe: None,
        scanner: "nessus".into(),
        created_at: now,
        updated_at: now,
    }
}

fn create(mode: TicketMode) -> TicketCreate {
    let f = finding();
    let target = TicketTarget::parse(Vendor::Jira, "OPS").unwrap();
    let draft = TicketDraft::build(
        &f,
        &target,
        &MappingRules::defaults(Vendor::Jira),
        &Default::default(),
        &Default::default(),
    )
    .unwrap();
    TicketCreate {
        draft,
        finding_id: f.id,
        reference_label: "Lockstep NES-1".into(),
        reporter: Some("712020:abc".into()),
        mode,
        labels: vec!["team a".into()],
    }
}

fn field(id: &str, required: bool, allowed: &[&str]) -> FieldMeta {
    FieldMeta {
        id: id.into(),
        name: id.into(),
        required,
        has_default: false,
        allowed: allowed
            .iter()
            .map(|n| Allowed {
                id: String::new(),
                name: (*n).into(),
            })
            .collect(),
    }
}

fn meta(priorities: &[&str], extra: Vec<FieldMeta>) -> CreateMeta {
    let mut fields = vec![
        field("summary", true, &[]),
        field("priority", false, priorities),
    ];
    fields.extend(extra);
    CreateMeta {
        project: "OPS".into(),
        issue_type: IssueTypeMeta {
            id: "10001".into(),
            name: "Task".into(),
            subtask: false,
        },
        fields,
    }
}

#[test]
fn the_body_carries_adf_labels_priority_people_and_the_parent() {
    let c = create(TicketMode::Subtask {
        parent: TicketKey::parse(Vendor::Jira, "OPS-3").unwrap(),
    });
    let body = create_fields(&c, &meta(&["High", "Medium", "Low"], vec![])).unwrap();
    let f = &body["fields"];
    assert_eq!(f["project"]["key"], "OPS");
    assert_eq!(f["issuetype"]["id"], "10001");
    assert_eq!(f["description"]["type"], "doc");
    assert_eq!(f["priority"]["name"], "High");
    assert_eq!(f["reporter"]["accountId"], "712020:abc");
    assert_eq!(f["parent"]["key"], "OPS-3");
    let labels: Vec<&str> = f["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        labels,
        ["lockstep", &correlation_label(c.finding_id), "team-a"]
    );
    let text = f["description"].to_string();
    assert!(
        text.contains("Lockstep NES-1") && text.contains("lockstep:"),
        "{text}"
    );
}

#[test]
fn a_priority_outside_the_scheme_and_an_unfillable_required_field_are_refused() {
    let c = create(TicketMode::Standalone);
    let err = create_fields(&c, &meta(&["Medium", "Low"], vec![])).unwrap_err();
    assert!(
        err.to_string()
            .contains("not in project OPS's priority scheme (allowed: Medium, Low)"),
        "{err}"
    );
    let err = create_fields(
        &c,
        &meta(&["High"], vec![field("customfield_10050", true, &[])]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("customfield_10050"), "{err}");
    // Without priority on the screen, none is sent.
    let mut m = meta(&[], vec![]);
    m.fields.retain(|f| f.id != "priority");
    let body = create_fields(&c, &m).unwrap();
    assert!(body["fields"].get("priority").is_none());
}
