//! SLA due time and breach from task_sla, judged from planned_end_time rather than the lagging
//! has_breached.

use std::time::Duration;

use lockstep_connectors::servicenow::{SlaStage, StateChange};
use lockstep_domain::{ServiceNowTable, Severity};
use time::OffsetDateTime;

use crate::support::{Env, new_ticket, str_of};

#[tokio::test]
async fn due_and_breach_come_from_the_breach_time() {
    let env = Env::start().await;
    let client = env.integration();
    // Critical: priority 1, the 8-hour resolution SLA. Low: priority 4, five days.
    let p1 = client
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "S-1",
            Severity::Critical,
        ))
        .await
        .unwrap();
    let p2 = client
        .create_ticket(&new_ticket(ServiceNowTable::Incident, "S-2", Severity::Low))
        .await
        .unwrap();
    let ids = [
        p1.ticket.external_id().as_str(),
        p2.ticket.external_id().as_str(),
    ];

    let now = OffsetDateTime::now_utc();
    let slas = client.read_slas(&ids, now).await.unwrap();
    assert_eq!(slas.len(), 2);
    let s1 = &slas[ids[0]];
    assert_eq!(s1.slas.len(), 1);
    assert_eq!(s1.slas[0].stage, Some(SlaStage::InProgress));
    assert_eq!(
        s1.slas[0].name.as_deref(),
        Some("Priority 1 resolution (8 hour)")
    );
    let due = s1.due.expect("a running SLA has a due time");
    let created = p1.observation.version.updated_at();
    assert_eq!(due, created + time::Duration::hours(8));
    assert!(!s1.breached);
    let row = env
        .sim
        .control()
        .records("task_sla", &format!("task={}", ids[0]))
        .await
        .unwrap();
    assert_eq!(
        str_of(&row[0], "planned_end_time"),
        lockstep_connectors::servicenow::record::format_sn_datetime(due)
    );

    // Past the breach time, before the SLA job ran: the instance's flag still says false.
    let later = due + time::Duration::minutes(1);
    let slas = client.read_slas(&ids, later).await.unwrap();
    assert!(!slas[ids[0]].slas[0].has_breached, "has_breached lags");
    assert!(slas[ids[0]].breached, "computed from planned_end_time");
    assert!(!slas[ids[1]].breached, "the five-day SLA is not due yet");

    // Once the instance's clock passes it and the job runs, the flag agrees.
    env.sim
        .control()
        .advance_clock(8 * 3600 + 60)
        .await
        .unwrap();
    env.sim.control().recalculate_slas().await.unwrap();
    let slas = client.read_slas(&ids, later).await.unwrap();
    assert!(slas[ids[0]].slas[0].has_breached && slas[ids[0]].breached);
}

#[tokio::test]
async fn an_sla_stopped_in_time_is_met_and_no_longer_due() {
    let env = Env::start().await;
    let client = env.integration();
    let t = client
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "S-3",
            Severity::Critical,
        ))
        .await
        .unwrap();
    let resolve = StateChange {
        state: "6".into(),
        close_code: Some("Solution provided".into()),
        close_notes: Some("ok".into()),
        work_note: None,
    };
    client.update_state(&t.ticket, &resolve).await.unwrap();
    let id = t.ticket.external_id().as_str();
    let far = OffsetDateTime::now_utc() + Duration::from_secs(48 * 3600);
    let slas = client.read_slas(&[id], far).await.unwrap();
    let sla = &slas[id];
    assert_eq!(sla.slas[0].stage, Some(SlaStage::Completed));
    assert!(sla.slas[0].end_time.is_some());
    assert_eq!(sla.due, None, "nothing is running");
    assert!(!sla.breached, "stopped before the breach time");

    // Tickets without SLAs (priority 5 has none) are absent.
    let p5 = client
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "S-4",
            Severity::Info,
        ))
        .await
        .unwrap();
    assert!(
        client
            .read_slas(&[p5.ticket.external_id().as_str()], far)
            .await
            .unwrap()
            .is_empty()
    );
}
