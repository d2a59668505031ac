//! Webhook notices (`notice.<tenant>.<integration>`): a delivery whose ticket cannot be re-read
//! is dead-lettered on its own and publishes nothing (the re-read itself, through ServiceDesk
//! Plus, is in the SDP stories).

use std::time::Duration;

use lockstep_bus::ConsumerSettings;
use lockstep_platform::Shutdown;
use lockstep_proto::v1;

use crate::support::{Env, Sim};

fn delivery(env: &Env, integration: &str, body: &[u8]) -> v1::WebhookReceived {
    v1::WebhookReceived {
        event_id: format!("wh:{integration}:sha256-{}", body.len()),
        tenant_id: env.tenant.to_string(),
        integration_id: integration.to_owned(),
        vendor: "servicenow".into(),
        body: body.to_vec(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_notice_that_cannot_be_re_read_is_dead_lettered_and_publishes_nothing() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "snow", 3600).await;
    let poller = env.poller(&sim, "notices");
    let shutdown = Shutdown::new();
    let running = tokio::spawn({
        let (poller, shutdown) = (poller.clone(), shutdown.clone());
        async move { poller.run_notices(shutdown).await }
    });
    let id = integration.id.to_string();
    let subject = env.bus.subjects().notice(env.tenant, integration.id);
    // Not a payload at all, and a ServiceNow record (whose connector never re-reads: its
    // payload is the state, so a notice for it is a mistake, not a retry).
    let record = br#"{"sys_class_name":"incident","sys_id":"a1","number":"INC0010001","state":"6","sys_updated_on":"2026-01-05 12:00:00","sys_mod_count":"3"}"#;
    for body in [&b"not json"[..], &record[..]] {
        env.bus
            .publish(&subject, &delivery(&env, &id, body))
            .await
            .unwrap();
    }
    let probe = env
        .bus
        .consumer(
            "dl-probe",
            vec![
                env.bus
                    .subjects()
                    .dead_letter(lockstep_poller::notice::CONSUMER),
            ],
            &ConsumerSettings::default(),
        )
        .await
        .unwrap();
    let mut parked = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while parked.len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "parked: {}",
            parked.len()
        );
        for d in probe.fetch(10, Duration::from_millis(300)).await.unwrap() {
            let event: v1::WebhookReceived = d.decode().unwrap();
            let reason = d
                .headers()
                .and_then(|h| h.get("Lockstep-Dead-Letter-Reason"))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            parked.push((event.body, reason));
            d.ack().await.unwrap();
        }
    }
    let reason_of = |body: &[u8]| {
        parked
            .iter()
            .find(|(b, _)| b == body)
            .map(|(_, r)| r.clone())
            .expect("parked")
    };
    assert!(!reason_of(b"not json").is_empty());
    let refused = reason_of(record);
    assert!(refused.contains("not re-read"), "{refused}");
    assert!(env.observed().await.is_empty(), "nothing was published");
    shutdown.trigger();
    running.await.unwrap();
}
