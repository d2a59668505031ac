use super::*;
use crate::finding::fixtures::finding;
use crate::vocab::{Severity, Vendor};

fn incident() -> TicketTarget {
    TicketTarget::parse(Vendor::ServiceNow, "incident").unwrap()
}

fn jira() -> TicketTarget {
    TicketTarget::parse(Vendor::Jira, "SEC").unwrap()
}

fn label(s: &str) -> Label {
    Label::parse(s).unwrap()
}

fn servicenow_parts(
    draft: &TicketDraft,
) -> (&Sourced<Impact>, &Sourced<Urgency>, Option<Priority>) {
    match &draft.priority {
        DraftPriority::ServiceNow {
            impact,
            urgency,
            predicted,
        } => (impact, urgency, *predicted),
        other => panic!("expected ServiceNow priority fields, got {other:?}"),
    }
}

#[test]
fn an_incident_draft_uses_the_mapping_and_the_default_summary() {
    let finding = finding();
    let rules = MappingRules::defaults(Vendor::ServiceNow);
    let none = FieldValues::default();
    let draft = TicketDraft::build(&finding, &incident(), &rules, &none, &none).unwrap();
    let (impact, urgency, predicted) = servicenow_parts(&draft);
    assert_eq!(
        (impact.value, impact.source),
        (Impact::High, FieldSource::Mapping)
    );
    assert_eq!(urgency.value, Urgency::Medium);
    assert_eq!(predicted, Some(Priority::High));
    assert_eq!(draft.category, None);
    assert_eq!(
        draft.summary.value,
        "[LOCKSTEP] NES-19506 - OpenSSL 3.0 < 3.0.7 buffer overflow"
    );
    assert_eq!(draft.summary.source, FieldSource::Default);
    assert_eq!(
        draft.correlation_id.to_string(),
        format!("lockstep:{}", finding.id)
    );
    assert_eq!(
        draft.description,
        format!(
            "Finding NES-19506: OpenSSL 3.0 < 3.0.7 buffer overflow\nSeverity: high\n\
             Asset: host-17.example.com\nCVE: CVE-2022-3602\nCWE: CWE-787\nScanner: nessus\n\
             Lockstep finding id: {}\n\nThe remote host runs a vulnerable OpenSSL.",
            finding.id
        )
    );
}

#[test]
fn the_request_beats_the_preset_which_beats_the_mapping() {
    let mut finding = finding();
    finding.severity = Severity::Critical;
    let preset = FieldValues {
        impact: Some(Impact::Low),
        urgency: Some(Urgency::Low),
        category: Some(label("software")),
        assignee: Some(label("abel.tuter")),
        summary_template: Some(Template::parse("Fix {key}").unwrap()),
        ..FieldValues::default()
    };
    let request = FieldValues {
        urgency: Some(Urgency::High),
        assignment_group: Some(label("Network")),
        ..FieldValues::default()
    };
    let rules = MappingRules::defaults(Vendor::ServiceNow);
    let draft = TicketDraft::build(&finding, &incident(), &rules, &preset, &request).unwrap();
    let (impact, urgency, predicted) = servicenow_parts(&draft);
    assert_eq!(
        (impact.value, impact.source),
        (Impact::Low, FieldSource::Preset)
    );
    assert_eq!(
        (urgency.value, urgency.source),
        (Urgency::High, FieldSource::Request)
    );
    assert_eq!(predicted, Some(Priority::Moderate));
    assert_eq!(draft.category.unwrap().source, FieldSource::Preset);
    assert_eq!(draft.assignment_group.unwrap().source, FieldSource::Request);
    assert_eq!(draft.assignee.unwrap().value.as_str(), "abel.tuter");
    assert_eq!(
        (draft.summary.value.as_str(), draft.summary.source),
        ("Fix NES-19506", FieldSource::Preset)
    );
}

#[test]
fn a_mapped_category_is_used_when_nobody_overrides_it() {
    let mut rules = MappingRules::defaults(Vendor::ServiceNow);
    if let MappingRules::ServiceNow { incident, .. } = &mut rules {
        incident.severity.high.category = Some(label("security"));
    }
    let none = FieldValues::default();
    let draft = TicketDraft::build(&finding(), &incident(), &rules, &none, &none).unwrap();
    let category = draft.category.unwrap();
    assert_eq!(
        (category.value.as_str(), category.source),
        ("security", FieldSource::Mapping)
    );
}

#[test]
fn change_requests_do_not_predict_priority() {
    let target = TicketTarget::parse(Vendor::ServiceNow, "change_request").unwrap();
    let rules = MappingRules::defaults(Vendor::ServiceNow);
    let none = FieldValues::default();
    let draft = TicketDraft::build(&finding(), &target, &rules, &none, &none).unwrap();
    assert_eq!(servicenow_parts(&draft).2, None);
    let rows = draft.preview_rows();
    let priority = rows.iter().find(|r| r.field == "priority").unwrap();
    assert_eq!(priority.value, "computed by ServiceNow");
}

#[test]
fn jira_drafts_use_names_and_skip_preset_fields_jira_lacks() {
    let rules = MappingRules::defaults(Vendor::Jira);
    let preset = FieldValues {
        impact: Some(Impact::High),
        category: Some(label("software")),
        assignment_group: Some(label("Network")),
        ..FieldValues::default()
    };
    let draft = TicketDraft::build(
        &finding(),
        &jira(),
        &rules,
        &preset,
        &FieldValues::default(),
    )
    .unwrap();
    assert_eq!(
        draft.priority,
        DraftPriority::Named(Sourced {
            value: label("High"),
            source: FieldSource::Mapping
        })
    );
    assert_eq!((draft.category, draft.assignment_group), (None, None));

    let request = FieldValues {
        priority: Some(label("Highest")),
        ..FieldValues::default()
    };
    let draft = TicketDraft::build(&finding(), &jira(), &rules, &preset, &request).unwrap();
    assert_eq!(
        draft.priority,
        DraftPriority::Named(Sourced {
            value: label("Highest"),
            source: FieldSource::Request
        })
    );
}

#[test]
fn servicedesk_drafts_carry_urgency_and_impact_from_the_mapping() {
    let target = TicketTarget::parse(Vendor::ManageEngine, "request").unwrap();
    let mut rules = MappingRules::defaults(Vendor::ManageEngine);
    let none = FieldValues::default();
    let draft = TicketDraft::build(&finding(), &target, &rules, &none, &none).unwrap();
    let only_priority = DraftPriority::Levels {
        priority: Sourced {
            value: label("High"),
            source: FieldSource::Mapping,
        },
        urgency: None,
        impact: None,
    };
    assert_eq!(draft.priority, only_priority);
    let fields: Vec<_> = draft.preview_rows().iter().map(|r| r.field).collect();
    assert!(!fields.contains(&"urgency") && !fields.contains(&"impact"));

    if let MappingRules::ManageEngine { request } = &mut rules {
        request.severity.high.urgency = Some(label("Urgent"));
        request.severity.high.impact = Some(label("Affects Business"));
    }
    let preset = FieldValues {
        priority: Some(label("Medium")),
        impact: Some(Impact::Low),
        ..FieldValues::default()
    };
    let draft = TicketDraft::build(&finding(), &target, &rules, &preset, &none).unwrap();
    let DraftPriority::Levels {
        priority,
        urgency,
        impact,
    } = &draft.priority
    else {
        panic!("expected ServiceDesk Plus levels, got {:?}", draft.priority);
    };
    assert_eq!(
        (priority.value.as_str(), priority.source),
        ("Medium", FieldSource::Preset)
    );
    let urgency = urgency.as_ref().unwrap();
    assert_eq!(
        (urgency.value.as_str(), urgency.source),
        ("Urgent", FieldSource::Mapping)
    );
    // The preset's numeric ServiceNow impact does not apply; the mapping's name does.
    assert_eq!(impact.as_ref().unwrap().value.as_str(), "Affects Business");
    let rows = draft.preview_rows();
    let impact_row = rows.iter().find(|r| r.field == "impact").unwrap();
    assert_eq!(
        (impact_row.value.as_str(), impact_row.source),
        ("Affects Business", FieldSource::Mapping)
    );
}

#[test]
fn explicit_fields_the_target_lacks_are_errors() {
    let jira_rules = MappingRules::defaults(Vendor::Jira);
    let none = FieldValues::default();
    let impact = FieldValues {
        impact: Some(Impact::High),
        ..FieldValues::default()
    };
    let err = TicketDraft::build(&finding(), &jira(), &jira_rules, &none, &impact).unwrap_err();
    assert_eq!(
        err.to_string(),
        "impact does not apply to jira SEC tickets; set priority to one of the project's priority names instead"
    );
    let sn_rules = MappingRules::defaults(Vendor::ServiceNow);
    let priority = FieldValues {
        priority: Some(label("P1")),
        ..FieldValues::default()
    };
    let err = TicketDraft::build(&finding(), &incident(), &sn_rules, &none, &priority).unwrap_err();
    assert!(err.to_string().contains("set impact and urgency instead"));
    let err = TicketDraft::build(&finding(), &incident(), &jira_rules, &none, &none).unwrap_err();
    assert!(matches!(err, DomainError::VendorMismatch { .. }));
}

#[test]
fn summaries_are_one_line_and_cut_to_the_vendor_limit_on_a_character_boundary() {
    let mut finding = finding();
    finding.title = format!("multi\nline  {}", "é".repeat(300));
    let none = FieldValues::default();
    let sn = MappingRules::defaults(Vendor::ServiceNow);
    let draft = TicketDraft::build(&finding, &incident(), &sn, &none, &none).unwrap();
    assert_eq!(draft.summary.value.chars().count(), 160);
    assert!(
        draft
            .summary
            .value
            .starts_with("[LOCKSTEP] NES-19506 - multi line éé")
    );
    assert!(draft.summary.value.ends_with("é…"));
    let jira_draft = TicketDraft::build(
        &finding,
        &jira(),
        &MappingRules::defaults(Vendor::Jira),
        &none,
        &none,
    )
    .unwrap();
    assert_eq!(jira_draft.summary.value.chars().count(), 255);
}

#[test]
fn descriptions_are_cut_to_the_vendor_limit() {
    let mut finding = finding();
    finding.description = "x".repeat(5000);
    finding.asset = None;
    let none = FieldValues::default();
    let rules = MappingRules::defaults(Vendor::ServiceNow);
    let draft = TicketDraft::build(&finding, &incident(), &rules, &none, &none).unwrap();
    assert_eq!(draft.description.chars().count(), 4000);
    assert!(!draft.description.contains("Asset:"));
    let sdp = TicketTarget::parse(Vendor::ManageEngine, "request").unwrap();
    let rules = MappingRules::defaults(Vendor::ManageEngine);
    let draft = TicketDraft::build(&finding, &sdp, &rules, &none, &none).unwrap();
    assert!(draft.description.ends_with(&"x".repeat(5000)));
}

#[test]
fn preview_rows_list_every_field_with_its_source() {
    let request = FieldValues {
        assignee: Some(label("abel.tuter")),
        ..FieldValues::default()
    };
    let rules = MappingRules::defaults(Vendor::ServiceNow);
    let draft = TicketDraft::build(
        &finding(),
        &incident(),
        &rules,
        &FieldValues::default(),
        &request,
    )
    .unwrap();
    let rows: Vec<(&str, String, FieldSource)> = draft
        .preview_rows()
        .into_iter()
        .filter(|row| row.field != "description" && row.field != "correlation_id")
        .map(|row| (row.field, row.value, row.source))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "target",
                "servicenow incident".to_owned(),
                FieldSource::Request
            ),
            ("impact", "1 - High".to_owned(), FieldSource::Mapping),
            ("urgency", "2 - Medium".to_owned(), FieldSource::Mapping),
            ("priority", "2 - High".to_owned(), FieldSource::Computed),
            ("assignee", "abel.tuter".to_owned(), FieldSource::Request),
            (
                "summary",
                "[LOCKSTEP] NES-19506 - OpenSSL 3.0 < 3.0.7 buffer overflow".to_owned(),
                FieldSource::Default
            ),
        ]
    );
}

#[test]
fn field_values_are_strict_json() {
    let values: FieldValues = serde_json::from_str(
        r#"{"impact": 2, "assignee": "abel.tuter", "summary_template": "{key}"}"#,
    )
    .unwrap();
    assert_eq!(values.impact, Some(Impact::Medium));
    assert!(serde_json::from_str::<FieldValues>(r#"{"asignee": "x"}"#).is_err());
    assert!(serde_json::from_str::<FieldValues>(r#"{"summary_template": "{nope}"}"#).is_err());
}
