//! Wrappers for secret values. They exist so a secret cannot reach a log line, an error message or
//! a panic by accident: `Debug` and `Display` print `[redacted]`, the memory is zeroed when the
//! value is dropped, and reading the value takes an explicit, greppable `expose()` call.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::{Zeroize, ZeroizeOnDrop};

const REDACTED: &str = "[redacted]";

/// A secret text such as a password, an API token or a database URL with credentials.
///
/// Deserializes from a string so configuration structs can hold secrets directly; it deliberately
/// does not implement `Serialize`, so a secret is never written back out by a generic code path.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call it only where the value is used (a request header, a cipher).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretString({REDACTED})")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// Secret binary data: decrypted credentials, HMAC keys, key material.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call it only where the value is used.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Interprets the bytes as UTF-8 text (sealed credentials are usually JSON or a password).
    /// On failure the bytes are zeroed before the error is returned.
    pub fn into_secret_string(mut self) -> Result<SecretString, std::str::Utf8Error> {
        let bytes = std::mem::take(&mut self.0);
        match String::from_utf8(bytes) {
            Ok(text) => Ok(SecretString(text)),
            Err(err) => {
                let utf8_error = err.utf8_error();
                err.into_bytes().zeroize();
                Err(utf8_error)
            }
        }
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(value: Vec<u8>) -> Self {
        Self(value)
    }
}

impl From<&[u8]> for SecretBytes {
    fn from(value: &[u8]) -> Self {
        Self(value.to_vec())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({REDACTED}, {} bytes)", self.0.len())
    }
}

impl fmt::Display for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn deserializes_from_a_config_string() {
        #[derive(Deserialize)]
        struct Cfg {
            password: SecretString,
        }
        let cfg: Cfg = serde_json::from_str(r#"{"password":"hunter2"}"#).unwrap();
        assert_eq!(cfg.password.expose(), "hunter2");
    }

    #[test]
    fn invalid_utf8_is_reported_without_the_bytes() {
        let err = SecretBytes::new(vec![0x66, 0xff])
            .into_secret_string()
            .unwrap_err();
        assert_eq!(err.valid_up_to(), 1);
        let ok = SecretBytes::new(b"pw".to_vec())
            .into_secret_string()
            .unwrap();
        assert_eq!(ok.expose(), "pw");
    }

    proptest! {
        #[test]
        fn debug_and_display_never_contain_the_secret(secret in "[a-zA-Z0-9]{4,40}") {
            let s = SecretString::new(secret.clone());
            let b = SecretBytes::new(secret.as_bytes().to_vec());
            for rendered in [
                format!("{s:?}"), format!("{s}"), format!("{b:?}"), format!("{b}"),
                format!("{:?}", Some(&s)), format!("{:#?}", vec![b.clone()]),
            ] {
                prop_assert!(!rendered.contains(&secret), "{rendered} leaks the secret");
                prop_assert!(rendered.contains("[redacted]"));
            }
        }
    }
}
