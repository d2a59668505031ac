//! Property-based fuzzing of the decoder (and through it the ServiceNow webhook parser): arbitrary
//! bytes and mutated valid deliveries never panic, and whatever decodes names the event's ids.
//! `LOCKSTEP_FUZZ_CASES=200000` runs long.

use lockstep_bus::Subjects;
use lockstep_domain::{IntegrationId, TenantId};
use lockstep_proto::v1;
use lockstep_sync_applier::decode::decode;
use proptest::prelude::*;
use prost::Message as _;

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
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_payloads_on_either_subject_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let s = Subjects::new("lockstep").unwrap();
        for subject in ["lockstep.webhook.t.i", "lockstep.observed.t.i", "lockstep.other"] {
            let _ = decode(&s, subject, &payload);
        }
        let _ = decode(&s, "lockstep.webhook.t.i", &event(payload).encode_to_vec());
    }

    #[test]
    fn mutated_servicenow_bodies_never_panic(
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
            if let Ok(inbound) = decode(&s, "lockstep.webhook.t.i", &ev.encode_to_vec()) {
                prop_assert_eq!(inbound.event_id, ev.event_id);
                prop_assert_eq!(inbound.tenant.to_string(), ev.tenant_id);
            }
        }
    }
}

#[test]
fn the_unmutated_body_decodes_so_the_fuzzing_above_is_meaningful() {
    let s = Subjects::new("lockstep").unwrap();
    let inbound = decode(
        &s,
        "lockstep.webhook.t.i",
        &event(BODY.into()).encode_to_vec(),
    )
    .unwrap();
    assert_eq!(inbound.observation.vendor_state, "6");
    assert_eq!(inbound.observation.actor.as_deref(), Some("beth.anglin"));
}
