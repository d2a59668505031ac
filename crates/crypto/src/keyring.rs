//! Master keys and their rotation.
//!
//! Operators give master keys as `id:base64` entries, newest first:
//! `LOCKSTEP_MASTER_KEYS="k2:BASE64,k1:BASE64"` and/or a file named by `LOCKSTEP_MASTER_KEYS_FILE`
//! with one entry per line (`#` comments allowed; a Kubernetes Secret mounted as a file). The first
//! key seals; every key opens, so rotating is: put the new key first, restart, re-seal rows with
//! [`Keyring::reseal`], then drop the old key once nothing references it.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
use ring::digest;
use zeroize::Zeroizing;

use crate::CryptoError;

/// Environment variable with the inline key list.
pub const MASTER_KEYS_ENV: &str = "LOCKSTEP_MASTER_KEYS";
/// Environment variable naming a key file.
pub const MASTER_KEYS_FILE_ENV: &str = "LOCKSTEP_MASTER_KEYS_FILE";
/// Longest key id; the sealed format stores its length in one byte and we keep ids short.
pub const MAX_KEY_ID_LEN: usize = 64;
/// AES-256 key size.
pub const KEY_LEN: usize = 32;

/// Standard alphabet; padding optional, because people paste keys with and without it.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One AES-256-GCM master key. The raw bytes are not kept: only ring's key schedule and a
/// SHA-256 fingerprint (to detect the same id configured twice with different material).
pub(crate) struct MasterKey {
    pub(crate) aead: LessSafeKey,
    fingerprint: [u8; 32],
}

/// The set of master keys this process can use: one current key that seals, any number of older
/// keys that still open.
pub struct Keyring {
    current: String,
    keys: BTreeMap<String, MasterKey>,
}

impl Keyring {
    /// A keyring with a single key, which becomes the current one.
    pub fn new(id: &str, key: &[u8]) -> Result<Self, CryptoError> {
        let mut keys = BTreeMap::new();
        keys.insert(validate_key_id(id)?, MasterKey::new(id, key)?);
        Ok(Self {
            current: id.to_owned(),
            keys,
        })
    }

    /// Adds a key that opens existing values but does not seal new ones.
    pub fn add_key(&mut self, id: &str, key: &[u8]) -> Result<(), CryptoError> {
        let id = validate_key_id(id)?;
        let key = MasterKey::new(&id, key)?;
        match self.keys.get(&id) {
            Some(existing) if existing.fingerprint != key.fingerprint => {
                Err(CryptoError::DuplicateKeyId { id })
            }
            Some(_) => Ok(()),
            None => {
                self.keys.insert(id, key);
                Ok(())
            }
        }
    }

    /// Adds a key and makes it the one that seals (the rotation step).
    pub fn rotate_to(&mut self, id: &str, key: &[u8]) -> Result<(), CryptoError> {
        self.add_key(id, key)?;
        self.current = id.to_owned();
        Ok(())
    }

    /// Parses a comma- or newline-separated list of `id:base64` entries; the first is current.
    /// `origin` names where the list came from in error messages (an env var, a file path).
    pub fn from_list(list: &str, origin: &str) -> Result<Self, CryptoError> {
        let mut ring: Option<Self> = None;
        for (index, entry) in list.split([',', '\n']).enumerate() {
            let entry = entry.trim();
            if entry.is_empty() || entry.starts_with('#') {
                continue;
            }
            let (id, material) = parse_entry(entry, origin, index + 1)?;
            match ring.as_mut() {
                None => ring = Some(Self::new(id, &material)?),
                Some(ring) => ring.add_key(id, &material)?,
            }
        }
        ring.ok_or(CryptoError::NoMasterKey)
    }

    /// Reads a key file (one `id:base64` per line, first line current).
    pub fn from_file(path: &Path) -> Result<Self, CryptoError> {
        let text = read_key_file(path)?;
        Self::from_list(&text, &format!("master key file {}", path.display()))
    }

    /// Loads keys from [`MASTER_KEYS_ENV`] and/or the file named by [`MASTER_KEYS_FILE_ENV`].
    pub fn from_env() -> Result<Self, CryptoError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// [`Keyring::from_env`] with an injectable variable lookup, so tests need not touch the
    /// process environment. When both sources are set, the inline list's first key is current
    /// and the file's keys are added for opening.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, CryptoError> {
        let inline = lookup(MASTER_KEYS_ENV).filter(|v| !v.trim().is_empty());
        let file = lookup(MASTER_KEYS_FILE_ENV).filter(|v| !v.trim().is_empty());
        let file_text = match &file {
            Some(path) => Some(read_key_file(Path::new(path.trim()))?),
            None => None,
        };
        let file_origin = format!("master key file {}", file.as_deref().unwrap_or("").trim());
        match (inline, file_text) {
            (None, None) => Err(CryptoError::NoMasterKey),
            (Some(inline), None) => Self::from_list(&inline, MASTER_KEYS_ENV),
            (None, Some(text)) => Self::from_list(&text, &file_origin),
            (Some(inline), Some(text)) => {
                let mut ring = Self::from_list(&inline, MASTER_KEYS_ENV)?;
                let extra = Self::from_list(&text, &file_origin)?;
                for (id, key) in extra.keys {
                    match ring.keys.get(&id) {
                        Some(existing) if existing.fingerprint != key.fingerprint => {
                            return Err(CryptoError::DuplicateKeyId { id });
                        }
                        Some(_) => {}
                        None => {
                            ring.keys.insert(id, key);
                        }
                    }
                }
                Ok(ring)
            }
        }
    }

    /// The id of the key that seals new values.
    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// All key ids, sorted.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    pub(crate) fn current_key(&self) -> &MasterKey {
        // `current` is only ever set to an id that was inserted.
        &self.keys[&self.current]
    }

    pub(crate) fn key(&self, id: &str) -> Result<&MasterKey, CryptoError> {
        self.keys.get(id).ok_or_else(|| CryptoError::UnknownKeyId {
            key_id: id.to_owned(),
            known: self.key_ids().collect::<Vec<_>>().join(", "),
        })
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish()
    }
}

impl MasterKey {
    fn new(id: &str, key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != KEY_LEN {
            return Err(CryptoError::KeyWrongLength {
                id: id.to_owned(),
                actual: key.len(),
            });
        }
        let unbound =
            UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::KeyWrongLength {
                id: id.to_owned(),
                actual: key.len(),
            })?;
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(digest::digest(&digest::SHA256, key).as_ref());
        Ok(Self {
            aead: LessSafeKey::new(unbound),
            fingerprint,
        })
    }
}

/// Checks that a key id fits the sealed format and the `id:base64` list syntax.
pub(crate) fn validate_key_id(id: &str) -> Result<String, CryptoError> {
    let invalid = |reason| CryptoError::InvalidKeyId {
        id: id.to_owned(),
        reason,
    };
    if id.is_empty() {
        return Err(invalid("it is empty"));
    }
    if id.len() > MAX_KEY_ID_LEN {
        return Err(invalid("it is longer than 64 bytes"));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(invalid(
            "it contains a character other than A-Z a-z 0-9 . _ -",
        ));
    }
    Ok(id.to_owned())
}

fn parse_entry<'a>(
    entry: &'a str,
    origin: &str,
    index: usize,
) -> Result<(&'a str, Zeroizing<Vec<u8>>), CryptoError> {
    let (id, encoded) = entry
        .split_once(':')
        .ok_or_else(|| CryptoError::MalformedKeyEntry {
            origin: origin.to_owned(),
            entry: index,
        })?;
    let id = id.trim();
    validate_key_id(id)?;
    let material = KEY_BASE64
        .decode(encoded.trim())
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::KeyNotBase64 { id: id.to_owned() })?;
    Ok((id, material))
}

fn read_key_file(path: &Path) -> Result<Zeroizing<String>, CryptoError> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| CryptoError::KeyFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0..32
    const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="; // bytes 32..64

    #[test]
    fn first_entry_is_current_and_all_are_known() {
        let ring = Keyring::from_list(&format!("k2:{K2}, k1:{K1}"), MASTER_KEYS_ENV).unwrap();
        assert_eq!(ring.current_key_id(), "k2");
        assert_eq!(ring.key_ids().collect::<Vec<_>>(), ["k1", "k2"]);
    }

    #[test]
    fn padding_is_optional() {
        let ring = Keyring::from_list(&format!("k1:{}", K1.trim_end_matches('=')), "t").unwrap();
        assert_eq!(ring.current_key_id(), "k1");
    }

    #[test]
    fn errors_name_the_key_but_never_the_material() {
        let short = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="; // 31 bytes
        let err = Keyring::from_list(&format!("old:{short}"), MASTER_KEYS_ENV).unwrap_err();
        assert_eq!(
            err,
            CryptoError::KeyWrongLength {
                id: "old".into(),
                actual: 31
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("`old`") && msg.contains("32 bytes") && !msg.contains(short));

        let err = Keyring::from_list("k1:not*base64!", MASTER_KEYS_ENV).unwrap_err();
        assert_eq!(err, CryptoError::KeyNotBase64 { id: "k1".into() });
        assert!(!err.to_string().contains("not*base64"));

        let err = Keyring::from_list(&format!("k1:{K1},{K2}"), MASTER_KEYS_ENV).unwrap_err();
        assert_eq!(
            err,
            CryptoError::MalformedKeyEntry {
                origin: MASTER_KEYS_ENV.into(),
                entry: 2
            }
        );
        assert!(!err.to_string().contains(K2));
    }

    #[test]
    fn key_ids_are_validated() {
        let long = "x".repeat(65);
        for bad in ["", long.as_str(), "has space", "a:b", "ünï"] {
            let err = validate_key_id(bad).unwrap_err();
            assert!(
                matches!(err, CryptoError::InvalidKeyId { .. }),
                "{bad:?}: {err}"
            );
        }
        assert!(validate_key_id(&"x".repeat(64)).is_ok());
        assert!(validate_key_id("2026-01.primary_k").is_ok());
    }

    #[test]
    fn same_id_with_other_material_is_rejected() {
        let err = Keyring::from_list(&format!("k1:{K1},k1:{K2}"), "t").unwrap_err();
        assert_eq!(err, CryptoError::DuplicateKeyId { id: "k1".into() });
        // Repeating the identical entry is harmless.
        assert!(Keyring::from_list(&format!("k1:{K1},k1:{K1}"), "t").is_ok());
    }

    #[test]
    fn env_and_file_are_combined_with_the_inline_list_first() {
        let dir = std::env::temp_dir().join(format!("lockstep-keyring-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys");
        std::fs::write(&path, format!("# rotated 2026-01\nk1:{K1}\n\n")).unwrap();
        let path_str = path.display().to_string();

        let ring = Keyring::from_env_with(|name| match name {
            MASTER_KEYS_ENV => Some(format!("k2:{K2}")),
            MASTER_KEYS_FILE_ENV => Some(path_str.clone()),
            _ => None,
        })
        .unwrap();
        assert_eq!(ring.current_key_id(), "k2");
        assert_eq!(ring.key_ids().collect::<Vec<_>>(), ["k1", "k2"]);

        let only_file =
            Keyring::from_env_with(|name| (name == MASTER_KEYS_FILE_ENV).then(|| path_str.clone()))
                .unwrap();
        assert_eq!(only_file.current_key_id(), "k1");
        std::fs::remove_dir_all(&dir).unwrap();

        assert_eq!(
            Keyring::from_env_with(|_| None).unwrap_err(),
            CryptoError::NoMasterKey
        );
        let missing = Keyring::from_env_with(|name| {
            (name == MASTER_KEYS_FILE_ENV).then(|| "/nonexistent/keys".to_owned())
        })
        .unwrap_err();
        assert!(matches!(missing, CryptoError::KeyFile { .. }), "{missing}");
    }

    #[test]
    fn debug_lists_ids_only() {
        let ring = Keyring::from_list(&format!("k1:{K1}"), "t").unwrap();
        let debug = format!("{ring:?}");
        assert!(debug.contains("k1") && !debug.contains(K1));
    }
}
