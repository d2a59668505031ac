//! The change feed: `>=` watermark − overlap, Lockstep tickets only, stable order, offset pages
//! until X-Total-Count (short and empty pages included), the record cap and the next watermark.

use std::time::Duration;

use lockstep_connectors::servicenow::{
    CredentialsHandle, InstanceUrl, ServiceNowClient, ServiceNowConfig,
};
use lockstep_domain::{IntegrationId, ServiceNowTable, Severity};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::support::{Env, basic, canned, http_response, new_ticket, plain_exec, str_of};

const LONG_AGO: OffsetDateTime = datetime!(2000-01-01 00:00 UTC);

async fn create(env: &Env, table: ServiceNowTable, n: usize, prefix: &str) -> Vec<String> {
    let tickets: Vec<_> = (0..n)
        .map(|i| new_ticket(table, &format!("{prefix}-{i}"), Severity::Medium))
        .collect();
    let outcome = env.integration().create_tickets(&tickets).await;
    outcome
        .results
        .into_iter()
        .map(|r| r.unwrap().ticket.key().as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn every_lockstep_ticket_is_read_across_several_pages_in_order() {
    let env = Env::start().await;
    create(&env, ServiceNowTable::Incident, 23, "P").await;
    create(&env, ServiceNowTable::ChangeRequest, 2, "C").await;
    // A ticket a human opened, without our correlation id, is not ours.
    env.sim
        .control()
        .create_as(
            "beth.anglin",
            "incident",
            json!({"short_description": "printer"}),
        )
        .await
        .unwrap();

    let client = env.client_with(basic("lockstep.integration"), |c| c.page_size = 5);
    env.sim.control().clear_requests().await.unwrap();
    let batch = client
        .changes_since(
            LONG_AGO,
            Duration::ZERO,
            &[ServiceNowTable::Incident, ServiceNowTable::ChangeRequest],
        )
        .await
        .unwrap();
    assert!(batch.complete);
    assert_eq!(batch.skipped, 0);
    let incidents = batch
        .observations
        .iter()
        .filter(|o| o.ticket.target().container() == "incident")
        .count();
    assert_eq!((incidents, batch.observations.len()), (23, 25));
    assert_eq!(batch.pages, 5 + 1);
    let incident_obs: Vec<_> = batch
        .observations
        .iter()
        .filter(|o| o.ticket.target().container() == "incident")
        .collect();
    for pair in incident_obs.windows(2) {
        let a = (
            pair[0].version.updated_at(),
            pair[0].ticket.external_id().as_str(),
        );
        let b = (
            pair[1].version.updated_at(),
            pair[1].ticket.external_id().as_str(),
        );
        assert!(a < b, "ordered by sys_updated_on then sys_id");
    }
    let newest = batch
        .observations
        .iter()
        .map(|o| o.version.updated_at())
        .max()
        .unwrap();
    assert_eq!(batch.next_watermark, newest);

    let queries: Vec<String> = env
        .sim
        .control()
        .requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.path == "/api/now/table/incident")
        .map(|r| r.query)
        .collect();
    assert_eq!(queries.len(), 5);
    for (page, q) in queries.iter().enumerate() {
        assert!(q.contains(&format!("sysparm_offset={}", page * 5)), "{q}");
        assert!(q.contains("correlation_idSTARTSWITHlockstep"), "{q}");
    }
}

#[tokio::test]
async fn tickets_updated_in_the_same_second_as_the_watermark_are_not_missed() {
    let env = Env::start().await;
    let client = env.integration();
    for attempt in 0..10 {
        let keys = create(&env, ServiceNowTable::Incident, 2, &format!("S{attempt}")).await;
        let first = client
            .changes_since(LONG_AGO, Duration::ZERO, &[ServiceNowTable::Incident])
            .await
            .unwrap();
        let watermark = first.next_watermark;
        // A human changes the other ticket right after the poll.
        let rec = env
            .sim
            .control()
            .start_incident(&keys[0], "beth.anglin")
            .await
            .unwrap();
        let updated = str_of(&rec, "sys_updated_on").to_owned();
        if updated != lockstep_connectors::servicenow::record::format_sn_datetime(watermark) {
            continue; // The second rolled over; try again to get the same-second case.
        }
        let next = client
            .changes_since(watermark, Duration::ZERO, &[ServiceNowTable::Incident])
            .await
            .unwrap();
        let seen = next
            .observations
            .iter()
            .find(|o| o.ticket.key().as_str() == keys[0])
            .expect("same-second update read");
        assert_eq!(seen.vendor_state, "2");
        assert_eq!(seen.version.sequence(), 1);
        assert_eq!(next.next_watermark, watermark);
        return;
    }
    panic!("could not produce an update in the same second as the watermark");
}

#[tokio::test]
async fn the_overlap_reaches_back_before_the_watermark() {
    let env = Env::start().await;
    let client = env.integration();
    create(&env, ServiceNowTable::Incident, 1, "O").await;
    let all = client
        .changes_since(LONG_AGO, Duration::ZERO, &[ServiceNowTable::Incident])
        .await
        .unwrap();
    let updated = all.observations[0].version.updated_at();
    // The watermark ran ahead (a commit that became visible late).
    let ahead = updated + time::Duration::seconds(5);
    let none = client
        .changes_since(ahead, Duration::ZERO, &[ServiceNowTable::Incident])
        .await
        .unwrap();
    assert!(none.observations.is_empty());
    assert_eq!(none.next_watermark, ahead, "never moves backwards");
    let overlap = client
        .changes_since(ahead, Duration::from_secs(10), &[ServiceNowTable::Incident])
        .await
        .unwrap();
    assert_eq!(overlap.observations.len(), 1);
    assert_eq!(overlap.next_watermark, ahead);
}

#[tokio::test]
async fn the_record_cap_ends_a_run_at_a_complete_second_and_the_next_run_goes_on() {
    let env = Env::start().await;
    // Four tickets in each of three seconds A < B < C.
    for (i, prefix) in ["A", "B", "C"].iter().enumerate() {
        if i > 0 {
            env.sim.control().advance_clock(10).await.unwrap();
        }
        create(&env, ServiceNowTable::Incident, 4, prefix).await;
    }
    let client = env.client_with(basic("lockstep.integration"), |c| {
        c.page_size = 3;
        c.max_feed_records = 6;
    });
    let tables = [ServiceNowTable::Incident];
    let mut keys = Vec::new();
    let mut watermark = LONG_AGO;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 5, "the feed must make progress");
        let batch = client
            .changes_since(watermark, Duration::ZERO, &tables)
            .await
            .unwrap();
        let newest = batch
            .observations
            .iter()
            .map(|o| o.version.updated_at())
            .max()
            .unwrap();
        // Whatever the run returned up to its watermark is complete: nothing newer is included.
        assert_eq!(newest, batch.next_watermark);
        keys.extend(
            batch
                .observations
                .iter()
                .map(|o| o.ticket.key().as_str().to_owned()),
        );
        if batch.complete {
            break;
        }
        assert!(
            batch.next_watermark > watermark,
            "a cut run always moves the watermark forward"
        );
        assert!(batch.observations.len() < 12);
        watermark = batch.next_watermark;
    }
    assert!(runs >= 2, "the cap of 6 cut the first run");
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 12, "every ticket read by one of the runs");
}

fn page(rows: &[(&str, &str)], total: u64) -> String {
    let result: Vec<_> = rows
        .iter()
        .map(|(id, number)| {
            json!({"sys_id": {"value": id}, "number": {"value": number}, "state": {"value": "2", "display_value": "In Progress"},
                   "sys_updated_on": {"value": "2026-03-01 10:00:00"}, "sys_mod_count": {"value": "1"},
                   "correlation_id": {"value": "lockstep:x"}})
        })
        .collect();
    let body = json!({ "result": result }).to_string();
    http_response(
        "200 OK",
        "application/json",
        &[("X-Total-Count", &total.to_string())],
        &body,
    )
}

#[tokio::test]
async fn short_and_empty_pages_do_not_end_the_feed_early() {
    // sysparm_limit applies before ACLs: a page of 2 can hold 1 row or none while more follow.
    let server = canned(vec![
        page(&[("a1", "INC0010001")], 5),
        page(&[], 5),
        page(&[("a3", "INC0010003")], 5),
    ])
    .await;
    let mut config = ServiceNowConfig::new(
        IntegrationId::new(),
        InstanceUrl::parse(&server.url).unwrap(),
    );
    config.page_size = 2;
    let client = ServiceNowClient::new(
        plain_exec(),
        config,
        CredentialsHandle::new(basic("x")).unwrap(),
    );
    let batch = client
        .changes_since(LONG_AGO, Duration::ZERO, &[ServiceNowTable::Incident])
        .await
        .unwrap();
    let keys: Vec<_> = batch
        .observations
        .iter()
        .map(|o| o.ticket.key().as_str())
        .collect();
    assert_eq!(keys, ["INC0010001", "INC0010003"]);
    assert_eq!(batch.pages, 3);
    let seen = server.seen.lock().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[2].contains("sysparm_offset=4"), "{seen:?}");
}
