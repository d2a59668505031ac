use super::*;
use proptest::prelude::*;

const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TS: i64 = 1614265330;
const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn spec_headers(signature: &str) -> WebhookHeaders<'_> {
    WebhookHeaders {
        id: SPEC_ID,
        timestamp: "1614265330",
        signature,
    }
}

#[test]
fn standard_webhooks_known_answer() {
    let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
    assert_eq!(
        sign(&secret, SPEC_ID, SPEC_TS, SPEC_BODY).unwrap(),
        SPEC_SIG
    );
    verify(
        &[secret],
        &spec_headers(SPEC_SIG),
        SPEC_BODY,
        SPEC_TS + 10,
        DEFAULT_TOLERANCE,
    )
    .unwrap();
}

#[test]
fn any_listed_signature_may_match() {
    let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
    let header = format!("v1,Zm9v v1a,AAAA  {SPEC_SIG} v1,not-base64!");
    verify_signature(&secret, SPEC_ID, SPEC_TS, SPEC_BODY, &header).unwrap();
}

#[test]
fn rotation_secrets_are_tried_in_turn() {
    let old = WebhookSecret::parse(SPEC_SECRET).unwrap();
    let new = WebhookSecret::generate().unwrap();
    let headers = spec_headers(SPEC_SIG);
    verify(
        &[new.clone(), old],
        &headers,
        SPEC_BODY,
        SPEC_TS,
        DEFAULT_TOLERANCE,
    )
    .unwrap();
    let err = verify(&[new], &headers, SPEC_BODY, SPEC_TS, DEFAULT_TOLERANCE).unwrap_err();
    assert_eq!(err, CryptoError::SignatureMismatch);
    let none = verify(&[], &headers, SPEC_BODY, SPEC_TS, DEFAULT_TOLERANCE).unwrap_err();
    assert!(matches!(none, CryptoError::InvalidWebhookSecret { .. }));
}

#[test]
fn tampering_fails() {
    let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
    let check =
        |id: &str, ts: i64, body: &[u8], sig: &str| verify_signature(&secret, id, ts, body, sig);
    assert_eq!(
        check(SPEC_ID, SPEC_TS, b"{\"test\": 2432232315}", SPEC_SIG),
        Err(CryptoError::SignatureMismatch)
    );
    assert_eq!(
        check(SPEC_ID, SPEC_TS + 1, SPEC_BODY, SPEC_SIG),
        Err(CryptoError::SignatureMismatch)
    );
    assert_eq!(
        check("msg_other", SPEC_TS, SPEC_BODY, SPEC_SIG),
        Err(CryptoError::SignatureMismatch)
    );
    // Empty and truncated signatures never match (the reference library's 2024 bug).
    for sig in [
        "v1,",
        "v1,g0hM",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O===",
    ] {
        assert!(check(SPEC_ID, SPEC_TS, SPEC_BODY, sig).is_err(), "{sig}");
    }
    assert_eq!(
        check(SPEC_ID, SPEC_TS, SPEC_BODY, ""),
        Err(CryptoError::NoSignature { scheme: "v1" })
    );
    assert_eq!(
        check(SPEC_ID, SPEC_TS, SPEC_BODY, "v1a,abc"),
        Err(CryptoError::NoSignature { scheme: "v1" })
    );
}

#[test]
fn timestamps_outside_five_minutes_fail_both_ways() {
    assert!(check_timestamp(1000, 1300, DEFAULT_TOLERANCE).is_ok());
    assert!(check_timestamp(1300, 1000, DEFAULT_TOLERANCE).is_ok());
    let err = check_timestamp(1000, 1301, DEFAULT_TOLERANCE).unwrap_err();
    assert_eq!(
        err,
        CryptoError::TimestampOutOfTolerance {
            timestamp: 1000,
            skew_secs: 301,
            tolerance_secs: 300
        }
    );
    assert!(check_timestamp(1301, 1000, DEFAULT_TOLERANCE).is_err());
    assert!(check_timestamp(i64::MIN, i64::MAX, DEFAULT_TOLERANCE).is_err());

    let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
    let stale = verify(
        &[secret],
        &spec_headers(SPEC_SIG),
        SPEC_BODY,
        SPEC_TS + 301,
        DEFAULT_TOLERANCE,
    );
    assert!(matches!(
        stale,
        Err(CryptoError::TimestampOutOfTolerance { .. })
    ));
}

#[test]
fn malformed_headers_are_rejected_before_hmac() {
    for ts in ["", "-5", "12a", "1e9", "99999999999999999999"] {
        assert!(
            matches!(
                parse_timestamp(ts),
                Err(CryptoError::InvalidWebhookHeader { .. })
            ),
            "{ts}"
        );
    }
    let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
    for id in ["", "msg.1", &"x".repeat(257)] {
        let err = sign(&secret, id, SPEC_TS, SPEC_BODY).unwrap_err();
        assert!(matches!(
            err,
            CryptoError::InvalidWebhookHeader {
                header: HEADER_ID,
                ..
            }
        ));
    }
}

#[test]
fn secrets_parse_whsec_or_raw_and_refuse_empty() {
    let whsec = WebhookSecret::parse(SPEC_SECRET).unwrap();
    assert_eq!(whsec.expose().len(), 24);
    assert_eq!(whsec.to_whsec().expose(), SPEC_SECRET);
    assert_eq!(
        WebhookSecret::parse("jira-secret").unwrap().expose(),
        b"jira-secret"
    );
    assert!(WebhookSecret::parse("").is_err());
    assert!(WebhookSecret::parse("whsec_").is_err());
    assert!(WebhookSecret::parse("whsec_%%%").is_err());
    let generated = WebhookSecret::generate().unwrap();
    assert_eq!(
        WebhookSecret::parse(generated.to_whsec().expose())
            .unwrap()
            .expose(),
        generated.expose()
    );
    assert_eq!(format!("{generated:?}"), "WebhookSecret([redacted])");
}

/// GitHub's documented example for `X-Hub-Signature-256`, the same scheme Jira uses.
#[test]
fn hub_signature_known_answer() {
    let secret = WebhookSecret::parse("It's a Secret to Everybody").unwrap();
    let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(hub_signature(&secret, b"Hello, World!"), expected);
    verify_hub_signature(&secret, b"Hello, World!", expected).unwrap();
    verify_hub_signature(&secret, b"Hello, World!", &expected.to_uppercase()).unwrap();
    assert!(verify_hub_signature(&secret, b"Hello, World?", expected).is_err());
    assert!(verify_hub_signature(&secret, b"Hello, World!", "sha1=abc").is_err());
    assert!(verify_hub_signature(&secret, b"Hello, World!", "sha256=zz").is_err());
    assert!(verify_hub_signature(&secret, b"Hello, World!", "sha256=").is_err());
}

proptest! {
    #[test]
    fn sign_then_verify_round_trips(
        key in proptest::collection::vec(any::<u8>(), 1..64),
        id in "[a-zA-Z0-9_-]{1,40}",
        ts in 0i64..4_000_000_000,
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let secret = WebhookSecret::from_bytes(key).unwrap();
        let sig = sign(&secret, &id, ts, &body).unwrap();
        let headers = WebhookHeaders { id: &id, timestamp: &ts.to_string(), signature: &sig };
        prop_assert!(verify(&[secret], &headers, &body, ts, DEFAULT_TOLERANCE).is_ok());
    }

    /// Arbitrary header text never panics and never verifies without the right tag.
    #[test]
    fn arbitrary_signature_headers_do_not_verify(header in ".{0,200}") {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        prop_assert!(verify_signature(&secret, SPEC_ID, SPEC_TS, SPEC_BODY, &header).is_err());
    }
}
