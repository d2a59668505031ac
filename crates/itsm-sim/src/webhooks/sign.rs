//! Standard Webhooks signing (`webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`),
//! written here with ring on purpose: the emulator plays the vendor, so its signer must not share
//! code with the receiver it is checking.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

/// The HMAC key for a configured secret. A `whsec_<base64>` secret (the Standard Webhooks
/// serialisation) is base64-decoded; any other secret is used as its UTF-8 bytes, which is what the
/// ServiceNow business rule gets from `GlideStringUtil.base64Encode(secret)` + `generateMac`.
pub fn key_bytes(secret: &str) -> Vec<u8> {
    match secret
        .strip_prefix("whsec_")
        .map(|b64| STANDARD.decode(b64))
    {
        Some(Ok(bytes)) => bytes,
        _ => secret.as_bytes().to_vec(),
    }
}

/// `v1,<base64(HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}"))>`.
pub fn signature(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes(secret));
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(msg_id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
}

/// `sha256=<lower-case hex HMAC-SHA256(secret, body)>`: the WebSub form Jira admin webhooks send
/// in `X-Hub-Signature`; the secret is used as its UTF-8 bytes.
pub fn hub_signature(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_signature_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            hub_signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // The test vector used by the Standard Webhooks reference libraries.
        let sig = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn plain_secrets_are_their_utf8_bytes() {
        assert_eq!(key_bytes("s3cret"), b"s3cret".to_vec());
        assert_eq!(
            key_bytes("whsec_not base64!"),
            b"whsec_not base64!".to_vec()
        );
        let a = signature("s3cret", "id", 1, b"{}");
        assert_ne!(a, signature("s3cret", "id", 2, b"{}"));
        assert_ne!(a, signature("other", "id", 1, b"{}"));
        assert!(a.starts_with("v1,"));
    }
}
