//! HMAC-SHA256, constant-time comparison and API token hashing.
//!
//! Comparisons of anything an attacker can probe byte by byte (signatures, tokens) must not stop
//! at the first differing byte. ring deprecated its public `constant_time` module, so equality is
//! checked by comparing HMACs under a per-process random key with `ring::hmac::verify`, which is
//! constant time and also hides the lengths of the inputs.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac};

use crate::{CryptoError, SecretString};

/// Length of an HMAC-SHA256 tag and of a SHA-256 digest.
pub const SHA256_LEN: usize = 32;

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; SHA256_LEN] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let mut out = [0u8; SHA256_LEN];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Checks an HMAC-SHA256 tag in constant time. A tag of the wrong length simply fails.
pub fn verify_hmac_sha256(key: &[u8], data: &[u8], tag: &[u8]) -> Result<(), CryptoError> {
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), data, tag)
        .map_err(|_| CryptoError::SignatureMismatch)
}

/// Equality of two byte strings in time that depends on neither their contents nor where they
/// differ. Use it for every comparison with a secret (shared tokens, expected signatures).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let key = comparison_key();
    let tag_a = hmac::sign(key, a);
    hmac::verify(key, b, tag_a.as_ref()).is_ok()
}

fn comparison_key() -> &'static hmac::Key {
    static KEY: OnceLock<hmac::Key> = OnceLock::new();
    KEY.get_or_init(|| {
        // If the OS random source fails here the process cannot seal or issue tokens either;
        // a fixed key would still give constant-time behaviour, only without length hiding
        // against an attacker who knows the key, so it is an acceptable fallback.
        hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new())
            .unwrap_or_else(|_| hmac::Key::new(hmac::HMAC_SHA256, b"lockstep.constant-time-eq"))
    })
}

/// SHA-256 of an API token: what the `api_tokens` table stores instead of the token. Tokens are
/// 256-bit random values, so a fast unsalted hash is enough (there is nothing to brute-force).
pub fn hash_token(token: &str) -> [u8; SHA256_LEN] {
    let mut out = [0u8; SHA256_LEN];
    out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
    out
}

/// [`hash_token`] as lowercase hex, for text columns and logs of token fingerprints.
pub fn hash_token_hex(token: &str) -> String {
    hex::encode(hash_token(token))
}

/// Checks a presented token against a stored [`hash_token`] value in constant time.
pub fn verify_token(presented: &str, stored_hash: &[u8]) -> bool {
    constant_time_eq(&hash_token(presented), stored_hash)
}

/// A new random API token: `prefix` followed by 256 random bits in URL-safe base64. The prefix
/// (such as `lst_`) lets secret scanners and humans recognise a leaked token.
pub fn generate_token(prefix: &str) -> Result<SecretString, CryptoError> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(bytes.as_mut())
        .map_err(|_| CryptoError::Random)?;
    Ok(SecretString::new(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(bytes.as_ref())
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    #[test]
    fn hmac_sha256_rfc4231_case_2() {
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(tag), expected);
        verify_hmac_sha256(b"Jefe", b"what do ya want for nothing?", &tag).unwrap();
        assert_eq!(
            verify_hmac_sha256(b"Jefe", b"what do ya want for nothing!", &tag),
            Err(CryptoError::SignatureMismatch)
        );
        assert!(verify_hmac_sha256(b"Jefe", b"what do ya want for nothing?", &tag[..31]).is_err());
        assert!(verify_hmac_sha256(b"Jefe", b"what do ya want for nothing?", &[]).is_err());
    }

    #[test]
    fn token_hash_is_sha256() {
        // SHA-256("abc") from FIPS 180-2.
        assert_eq!(
            hash_token_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_tokens_verify_against_their_hash() {
        let token = generate_token("lst_").unwrap();
        assert!(token.expose().starts_with("lst_"));
        assert_eq!(token.expose().len(), 4 + 43);
        let stored = hash_token(token.expose());
        assert!(verify_token(token.expose(), &stored));
        assert!(!verify_token("lst_guess", &stored));
        assert_ne!(generate_token("lst_").unwrap().expose(), token.expose());
    }

    proptest! {
        #[test]
        fn constant_time_eq_is_equality(a in proptest::collection::vec(any::<u8>(), 0..64),
                                        b in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert!(constant_time_eq(&a, &a));
            prop_assert_eq!(constant_time_eq(&a, &b), a == b);
        }
    }
}
