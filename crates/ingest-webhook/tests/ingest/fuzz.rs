//! Property-based fuzzing of the verifiers on the stable toolchain: arbitrary input never panics
//! and is never accepted; a valid delivery with any single mutation is never accepted.
//! `LOCKSTEP_FUZZ_CASES=200000 cargo test -p lockstep-ingest-webhook --test ingest fuzz` runs long.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use lockstep_connectors::Registry;
use lockstep_connectors::webhook::{self as verify, IntegrationSecret, Presented, WebhookSecrets};
use lockstep_crypto::SecretBytes;
use lockstep_crypto::webhook::{WebhookSecret, hub_signature, sign};
use lockstep_domain::Vendor;
use proptest::prelude::*;

const TOLERANCE: Duration = Duration::from_secs(300);
const NOW: i64 = 1_800_000_000;

fn cases() -> u32 {
    std::env::var("LOCKSTEP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn secrets() -> WebhookSecrets {
    WebhookSecrets::new(vec![
        IntegrationSecret::from_opened(SecretBytes::new(b"fuzz-secret".to_vec())).unwrap(),
    ])
}

const NAMES: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-lockstep-token",
    "x-hub-signature",
    "x-atlassian-webhook-identifier",
    "content-type",
];

fn headers(pairs: &[(usize, Vec<u8>)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (i, value) in pairs {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            map.append(HeaderName::from_static(NAMES[i % NAMES.len()]), v);
        }
    }
    map
}

fn accepted(vendor: Vendor, headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> bool {
    let spec = Registry::builtin().spec(vendor).unwrap();
    let auth = spec.webhook_auth();
    let presented = Presented {
        headers,
        query,
        body,
    };
    let _ = auth.delivery_id(&presented);
    verify::authenticate(auth, &presented, &secrets(), false, NOW, TOLERANCE).is_ok()
}

fn standard(id: &str, ts: i64, body: &[u8]) -> HeaderMap {
    let key = WebhookSecret::parse("fuzz-secret").unwrap();
    let mut h = HeaderMap::new();
    h.insert("webhook-id", HeaderValue::from_str(id).unwrap());
    h.insert(
        "webhook-timestamp",
        HeaderValue::from_str(&ts.to_string()).unwrap(),
    );
    h.insert(
        "webhook-signature",
        HeaderValue::from_str(&sign(&key, id, ts, body).unwrap()).unwrap(),
    );
    h
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBodyBit(usize, u8),
    AppendBody(u8),
    TruncateBody(usize),
    ShiftTimestamp(i64),
    ChangeId(String),
    FlipSignatureChar(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBodyBit(i, b)),
        any::<u8>().prop_map(Mutation::AppendBody),
        any::<usize>().prop_map(Mutation::TruncateBody),
        (-600i64..600)
            .prop_filter("a change", |d| *d != 0)
            .prop_map(Mutation::ShiftTimestamp),
        "[a-zA-Z0-9_-]{1,40}".prop_map(Mutation::ChangeId),
        any::<usize>().prop_map(Mutation::FlipSignatureChar),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_deliveries_never_panic_and_are_never_accepted(
        pairs in proptest::collection::vec((any::<usize>(), proptest::collection::vec(any::<u8>(), 0..80)), 0..8),
        query in proptest::option::of("[ -~]{0,60}"),
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let h = headers(&pairs);
        for vendor in [Vendor::ServiceNow, Vendor::ManageEngine, Vendor::Jira] {
            prop_assert!(!accepted(vendor, &h, query.as_deref(), &body), "{vendor} accepted {h:?}");
        }
    }

    #[test]
    fn a_mutated_standard_webhooks_delivery_is_never_accepted(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        id in "[a-zA-Z0-9_-]{1,40}",
        skew in -299i64..299,
        m in mutation(),
    ) {
        let ts = NOW + skew;
        prop_assert!(accepted(Vendor::ServiceNow, &standard(&id, ts, &body), None, &body));
        let (mut body2, mut id2, mut ts2) = (body.clone(), id.clone(), ts);
        let mut sig = standard(&id, ts, &body)["webhook-signature"].to_str().unwrap().to_owned();
        match m.clone() {
            Mutation::FlipBodyBit(i, b) => { let i = i % body2.len(); body2[i] ^= 1 << b; }
            Mutation::AppendBody(b) => body2.push(b),
            Mutation::TruncateBody(n) => { let n = n % body2.len(); body2.truncate(n); }
            Mutation::ShiftTimestamp(d) => ts2 += d,
            Mutation::ChangeId(other) => { prop_assume!(other != id); id2 = other; }
            Mutation::FlipSignatureChar(i) => {
                let mut bytes = sig.into_bytes();
                let i = 3 + i % (bytes.len() - 3);
                bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
                sig = String::from_utf8(bytes).unwrap();
            }
        }
        let mut h = standard(&id, ts, &body);
        h.insert("webhook-id", HeaderValue::from_str(&id2).unwrap());
        h.insert("webhook-timestamp", HeaderValue::from_str(&ts2.to_string()).unwrap());
        h.insert("webhook-signature", HeaderValue::from_str(&sig).unwrap());
        for vendor in [Vendor::ServiceNow, Vendor::ManageEngine] {
            prop_assert!(!accepted(vendor, &h, None, &body2), "{m:?} was accepted");
        }
    }

    #[test]
    fn a_mutated_jira_delivery_is_never_accepted(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        flip in any::<usize>(),
        bit in 0u8..8,
        token in "[ -~]{0,40}",
    ) {
        let key = WebhookSecret::parse("fuzz-secret").unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-hub-signature", HeaderValue::from_str(&hub_signature(&key, &body)).unwrap());
        prop_assert!(accepted(Vendor::Jira, &h, None, &body));
        let mut tampered = body.clone();
        let i = flip % tampered.len();
        tampered[i] ^= 1 << bit;
        prop_assert!(!accepted(Vendor::Jira, &h, None, &tampered));
        prop_assume!(token != "fuzz-secret");
        let query = format!("token={}", url_encode(&token));
        prop_assert!(!accepted(Vendor::Jira, &HeaderMap::new(), Some(&query), &body));
    }
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn the_right_token_is_accepted_so_the_fuzzing_above_is_meaningful() {
    let mut h = HeaderMap::new();
    h.insert("x-lockstep-token", HeaderValue::from_static("fuzz-secret"));
    assert!(accepted(Vendor::ServiceNow, &h, None, b"{}"));
    assert!(accepted(Vendor::ManageEngine, &h, None, b"{}"));
    let token = Some("a=1&token=fuzz-secret");
    assert!(accepted(
        Vendor::ManageEngine,
        &HeaderMap::new(),
        token,
        b"{}"
    ));
    assert!(accepted(
        Vendor::Jira,
        &HeaderMap::new(),
        Some("a=1&token=fuzz-secret"),
        b"{}"
    ));
}
