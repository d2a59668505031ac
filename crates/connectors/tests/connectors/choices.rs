//! Valid choice values from sys_choice, and the display-value fallback for accounts that may
//! read only labels.

use lockstep_connectors::servicenow::{ChoiceSource, StateChange};
use lockstep_domain::{ServiceNowTable, Severity};
use serde_json::json;

use crate::support::{Env, new_ticket};

#[tokio::test]
async fn an_account_that_may_read_sys_choice_gets_the_complete_lists() {
    let env = Env::start().await;
    let choices = env
        .admin()
        .read_choices(ServiceNowTable::Incident)
        .await
        .unwrap();
    assert_eq!(choices.source, ChoiceSource::SysChoice);
    let states: Vec<_> = choices
        .choices("state")
        .iter()
        .map(|c| (c.value.as_str(), c.label.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            ("1", "New"),
            ("2", "In Progress"),
            ("3", "On Hold"),
            ("6", "Resolved"),
            ("7", "Closed"),
            ("8", "Canceled")
        ]
    );
    let impacts: Vec<_> = choices
        .choices("impact")
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(impacts, ["1", "2", "3"]);
    assert_eq!(choices.choices("urgency").len(), 3);
    assert!(
        choices
            .choices("category")
            .iter()
            .any(|c| c.value == "software" && c.label == "Software")
    );
    assert_eq!(
        choices.is_valid("close_code", "Solution provided"),
        Some(true)
    );
    assert_eq!(
        choices.is_valid("close_code", "Solved (Permanently)"),
        Some(false),
        "an older release's code"
    );
    assert_eq!(choices.is_valid("state", "4"), Some(false));

    let changes = env
        .admin()
        .read_choices(ServiceNowTable::ChangeRequest)
        .await
        .unwrap();
    let states: Vec<_> = changes
        .choices("state")
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(
        states,
        ["-5", "-4", "-3", "-2", "-1", "0", "3", "4"],
        "the change table's own states, not task's"
    );
    assert_eq!(
        changes.label("close_code", "successful"),
        Some("Successful")
    );

    // With field-level ACLs off, the integration account reads the lists too.
    env.sim
        .control()
        .patch_settings(json!({"field_acls": false}))
        .await
        .unwrap();
    let itil = env
        .integration()
        .read_choices(ServiceNowTable::Incident)
        .await
        .unwrap();
    assert_eq!(itil.source, ChoiceSource::SysChoice);
}

#[tokio::test]
async fn label_only_access_falls_back_to_the_display_values_of_recent_tickets() {
    let env = Env::start().await;
    let client = env.integration();
    let a = client
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "C-1",
            Severity::Critical,
        ))
        .await
        .unwrap();
    client
        .create_ticket(&new_ticket(ServiceNowTable::Incident, "C-2", Severity::Low))
        .await
        .unwrap();
    let resolve = StateChange {
        state: "6".into(),
        close_code: Some("Duplicate".into()),
        close_notes: Some("dup".into()),
        work_note: None,
    };
    client.update_state(&a.ticket, &resolve).await.unwrap();

    let choices = client
        .read_choices(ServiceNowTable::Incident)
        .await
        .unwrap();
    assert_eq!(choices.source, ChoiceSource::TicketSample);
    assert!(
        choices
            .fallback_reason
            .as_deref()
            .unwrap_or("")
            .contains("Insufficient rights"),
        "{:?}",
        choices.fallback_reason
    );
    assert_eq!(choices.label("state", "6"), Some("Resolved"));
    assert_eq!(choices.label("state", "1"), Some("New"));
    assert_eq!(choices.label("impact", "1"), Some("1 - High"));
    assert_eq!(choices.is_valid("close_code", "Duplicate"), Some(true));
    assert_eq!(
        choices.is_valid("state", "7"),
        None,
        "unseen values are unknown, not invalid"
    );
}
