//! Property-based fuzzing of the decoder (and through it the ServiceNow webhook parser): arbitrary
//! bytes and mutated valid deliveries, alone or in a group, never panic; whatever decodes names the
//! event's ids, and a bad delivery in a group never takes its neighbours with it.
//! `LOCKSTEP_FUZZ_CASES=200000` runs long.

use std::sync::LazyLock;

use lockstep_bus::Subjects;
use lockstep_connectors::Registry;
use lockstep_domain::{IntegrationId, TenantId};
use lockstep_proto::v1;
use lockstep_sync_applier::decode::{Inbound, Part, decode};
use proptest::prelude::*;
use prost::Message as _;

/// The vendors the applier ships with.
static VENDORS: LazyLock<Registry> = LazyLock::new(Registry::builtin);

fn cases() -> u32 {
    std::env::var("LOCKSTEP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

const BODY: &str = r#"{"event_id":"a1b2-3","event_type":"update","table":"incident","sys_id":"9d385017c611228701d22104cc95c371","number":"INC0010001","state":"6","close_code":"Solution provided","correlation_id":"lockstep:x","sys_updated_on":"2026-03-01 10:00:00","sys_mod_count":"3","sys_updated_by":"beth.anglin","fields":{"priority":"2","sla_due":"2026-03-02 10:00:00"}}"#;

fn event(body: Vec<u8>) -> v1::WebhookReceived {
    v1::WebhookReceived {
        event_id: "wh:x:1".into(),
        tenant_id: TenantId::new().to_string(),
        integration_id: IntegrationId::new().to_string(),
        vendor: "servicenow".into(),
        body,
        content_type: "application/json".into(),
        delivery_id: "1".into(),
        received_at: None,
        traceparent: String::new(),
    }
}

/// A group of `deliveries`, under the first one's tenant and integration.
fn batch(deliveries: Vec<v1::WebhookReceived>) -> v1::WebhookBatch {
    let first = deliveries.first().cloned().unwrap_or_default();
    v1::WebhookBatch {
        event_id: "whb:x".into(),
        tenant_id: first.tenant_id,
        integration_id: first.integration_id,
        deliveries,
    }
}

const BATCH: Option<&str> = Some("webhook_batch");

/// The single inbound of a message that must decode to exactly one.
fn one(parts: Vec<Part>) -> Option<Inbound> {
    match <[Part; 1]>::try_from(parts) {
        Ok([Ok(inbound)]) => Some(inbound),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_payloads_on_either_subject_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let s = Subjects::new("lockstep").unwrap();
        for subject in ["lockstep.webhook.t.i", "lockstep.observed.t.i", "lockstep.other"] {
            for kind in [None, BATCH, Some("ticket_observed")] {
                let _ = decode(&VENDORS, &s, subject, kind, &payload);
            }
        }
        let single = event(payload.clone());
        let _ = decode(&VENDORS, &s, "lockstep.webhook.t.i", None, &single.encode_to_vec());
        let group = batch(vec![single, event(payload)]);
        let _ = decode(&VENDORS, &s, "lockstep.webhook.t.i", BATCH, &group.encode_to_vec());
    }

    #[test]
    fn mutated_servicenow_bodies_never_panic_and_never_spoil_their_neighbours(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let s = Subjects::new("lockstep").unwrap();
        let mut body = BODY.as_bytes().to_vec();
        for (at, byte) in edits {
            let i = at % body.len();
            body[i] = byte;
        }
        let truncated = body[..cut % (body.len() + 1)].to_vec();
        for b in [body, truncated] {
            let ev = event(b);
            if let Some(inbound) = decode(&VENDORS, &s, "lockstep.webhook.t.i", None, &ev.encode_to_vec())
                .ok()
                .and_then(one)
            {
                prop_assert_eq!(&inbound.event_id, &ev.event_id);
                prop_assert_eq!(inbound.tenant.to_string(), ev.tenant_id.clone());
            }
            // In a group, the mutated delivery decodes or is rejected on its own; the valid one
            // beside it always decodes.
            let mut valid = event(BODY.into());
            valid.event_id = "wh:x:2".into();
            (valid.tenant_id, valid.integration_id) = (ev.tenant_id.clone(), ev.integration_id.clone());
            let group = batch(vec![ev.clone(), valid]);
            let parts = decode(&VENDORS, &s, "lockstep.webhook.t.i", BATCH, &group.encode_to_vec()).unwrap();
            prop_assert_eq!(parts.len(), 2);
            match &parts[0] {
                Ok(inbound) => prop_assert_eq!(&inbound.event_id, &ev.event_id),
                Err(rejected) => prop_assert_eq!(&rejected.delivery.body, &ev.body),
            }
            prop_assert_eq!(&parts[1].as_ref().unwrap().event_id, "wh:x:2");
        }
    }
}

#[test]
fn the_unmutated_body_decodes_so_the_fuzzing_above_is_meaningful() {
    let s = Subjects::new("lockstep").unwrap();
    let inbound = one(decode(
        &VENDORS,
        &s,
        "lockstep.webhook.t.i",
        None,
        &event(BODY.into()).encode_to_vec(),
    )
    .unwrap())
    .unwrap();
    assert_eq!(inbound.observation.vendor_state, "6");
    assert_eq!(inbound.observation.actor.as_deref(), Some("beth.anglin"));
}

#[test]
fn a_group_decodes_into_its_deliveries_in_order_and_refuses_one_of_another_tenant() {
    let s = Subjects::new("lockstep").unwrap();
    let first = event(BODY.into());
    let mut second = first.clone();
    second.event_id = "wh:x:2".into();
    let mut foreign = first.clone();
    foreign.event_id = "wh:x:3".into();
    foreign.tenant_id = TenantId::new().to_string();
    let parts = decode(
        &VENDORS,
        &s,
        "lockstep.webhook.t.i",
        BATCH,
        &batch(vec![first, second, foreign]).encode_to_vec(),
    )
    .unwrap();
    let ids: Vec<_> = parts
        .iter()
        .map(|p| {
            p.as_ref()
                .map(|i| i.event_id.as_str())
                .map_err(|r| r.delivery.event_id.as_str())
        })
        .collect();
    assert_eq!(ids, [Ok("wh:x:1"), Ok("wh:x:2"), Err("wh:x:3")]);
    let empty = batch(Vec::new());
    assert!(
        decode(
            &VENDORS,
            &s,
            "lockstep.webhook.t.i",
            BATCH,
            &empty.encode_to_vec()
        )
        .is_err()
    );
}
