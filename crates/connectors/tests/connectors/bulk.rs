//! Bulk creation: Batch API with per-item results, unserviced items sent again, per-item
//! refusals, and the fallbacks when the Batch API is unavailable or its answer is lost.

use lockstep_connectors::ConnectorError;
use lockstep_domain::{ServiceNowTable, Severity};
use lockstep_itsm_sim::control::{FaultRule, InjectedError, UserSeed};
use serde_json::json;

use crate::support::{Env, basic, new_ticket};

fn tickets(n: usize, prefix: &str) -> Vec<lockstep_connectors::servicenow::NewTicket> {
    (0..n)
        .map(|i| {
            new_ticket(
                ServiceNowTable::Incident,
                &format!("{prefix}-{i}"),
                Severity::Low,
            )
        })
        .collect()
}

fn batch_fault(status: u16) -> FaultRule {
    FaultRule {
        method: Some("POST".into()),
        path_prefix: "/api/now/v1/batch".into(),
        error_rate: 1.0,
        error: InjectedError::Status { status },
        ..FaultRule::default()
    }
}

async fn posts(env: &Env, path: &str) -> usize {
    env.requests(path)
        .await
        .into_iter()
        .filter(|r| r.0 == "POST")
        .count()
}

#[tokio::test]
async fn tickets_are_created_in_one_batch_call_with_results_in_input_order() {
    let env = Env::start().await;
    let input = tickets(5, "B");
    let outcome = env.integration().create_tickets(&input).await;
    assert_eq!((outcome.via_batch, outcome.via_single), (5, 0));
    for (ticket, result) in input.iter().zip(&outcome.results) {
        let created = result.as_ref().unwrap();
        let rec = env
            .sim
            .control()
            .record("incident", created.ticket.key().as_str())
            .await
            .unwrap();
        assert_eq!(
            rec["correlation_id"],
            json!(format!("lockstep:{}", ticket.finding_id))
        );
        assert_eq!(created.observation.vendor_state, "1");
    }
    assert_eq!(posts(&env, "/api/now/v1/batch").await, 1);
    assert_eq!(posts(&env, "/api/now/table").await, 0);
}

#[tokio::test]
async fn unserviced_items_are_sent_again_then_singly() {
    let env = Env::start().await;
    env.sim
        .control()
        .patch_settings(json!({"batch_max_requests": 2}))
        .await
        .unwrap();
    let outcome = env.integration().create_tickets(&tickets(5, "U")).await;
    assert!(outcome.results.iter().all(Result::is_ok));
    assert_eq!(
        (outcome.via_batch, outcome.via_single),
        (5, 0),
        "three rounds of two"
    );
    assert_eq!(posts(&env, "/api/now/v1/batch").await, 3);

    env.sim
        .control()
        .patch_settings(json!({"batch_max_requests": 1}))
        .await
        .unwrap();
    env.sim.control().clear_requests().await.unwrap();
    let outcome = env.integration().create_tickets(&tickets(5, "V")).await;
    assert!(outcome.results.iter().all(Result::is_ok));
    assert_eq!(
        (outcome.via_batch, outcome.via_single),
        (3, 2),
        "left over after three rounds"
    );
    assert_eq!(
        env.count("incident", "correlation_idSTARTSWITHlockstep:")
            .await,
        10
    );
}

#[tokio::test]
async fn one_refused_item_does_not_stop_the_others() {
    let env = Env::start().await;
    let seed = UserSeed {
        user_name: "inc.writer".into(),
        roles: vec!["sn_incident_write".into()],
        ..UserSeed::default()
    };
    env.sim.control().seed_users(&[seed]).await.unwrap();
    let input = vec![
        new_ticket(ServiceNowTable::Incident, "R-1", Severity::High),
        new_ticket(ServiceNowTable::ChangeRequest, "R-2", Severity::High),
        new_ticket(ServiceNowTable::Incident, "R-3", Severity::High),
    ];
    let outcome = env.client(basic("inc.writer")).create_tickets(&input).await;
    assert_eq!(outcome.via_batch, 3);
    assert!(outcome.results[0].is_ok() && outcome.results[2].is_ok());
    let err = outcome.results[1].as_ref().unwrap_err();
    assert!(matches!(err, ConnectorError::Permission { .. }), "{err:?}");
    assert!(
        err.to_string().contains("ACL Exception Insert Failed"),
        "{err}"
    );
}

#[tokio::test]
async fn without_the_batch_api_tickets_are_created_one_by_one() {
    let env = Env::start().await;
    env.sim
        .control()
        .set_faults(&[batch_fault(404)])
        .await
        .unwrap();
    let client = env.client_with(basic("lockstep.integration"), |c| c.batch_size = 2);
    let outcome = client.create_tickets(&tickets(5, "F")).await;
    assert!(
        outcome.results.iter().all(Result::is_ok),
        "{:?}",
        outcome.results
    );
    assert_eq!((outcome.via_batch, outcome.via_single), (0, 5));
    assert_eq!(
        posts(&env, "/api/now/v1/batch").await,
        1,
        "not tried again for the later chunks"
    );
    assert_eq!(posts(&env, "/api/now/table/incident").await, 5);
}

#[tokio::test]
async fn a_lost_batch_answer_never_duplicates_a_ticket() {
    let env = Env::start().await;
    let input = tickets(3, "L");
    // As if the lost batch had already created the second ticket.
    let existing = env.integration().create_ticket(&input[1]).await.unwrap();
    env.sim
        .control()
        .set_faults(&[batch_fault(502)])
        .await
        .unwrap();
    let outcome = env.integration().create_tickets(&input).await;
    assert_eq!(outcome.via_single, 3);
    let results: Vec<_> = outcome.results.into_iter().map(Result::unwrap).collect();
    assert!(!results[0].recovered && results[1].recovered && !results[2].recovered);
    assert_eq!(results[1].ticket, existing.ticket);
    assert_eq!(
        env.count("incident", "correlation_idSTARTSWITHlockstep:")
            .await,
        3
    );
}
