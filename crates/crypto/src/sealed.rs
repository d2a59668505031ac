//! The stored form of a sealed secret. The byte layout is versioned so keys and algorithms can
//! change without a migration:
//! `[version=1][key id length: u8][key id bytes][nonce: 12 bytes][ciphertext + 16-byte tag]`.

use crate::keyring::MAX_KEY_ID_LEN;

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// A secret sealed with one master key: what the database stores. Produced by
/// [`Keyring::seal`](crate::Keyring::seal), opened by [`Keyring::open`](crate::Keyring::open).
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Id of the master key that sealed it (at most 64 bytes, checked when keys are loaded).
    pub key_id: String,
    pub nonce: [u8; NONCE_LEN],
    /// Ciphertext followed by the GCM tag.
    pub ciphertext: Vec<u8>,
}

/// Stored bytes that are not a sealed value of a known format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sealed value is malformed: {0}")]
pub struct SealedFormatError(&'static str);

impl Sealed {
    /// The versioned byte form stored in the database.
    pub fn to_bytes(&self) -> Vec<u8> {
        let key_id = self.key_id.as_bytes();
        let mut out = Vec::with_capacity(2 + key_id.len() + NONCE_LEN + self.ciphertext.len());
        out.push(FORMAT_VERSION);
        // Key ids are validated to at most 64 bytes where keys are loaded.
        out.push(u8::try_from(key_id.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&key_id[..key_id.len().min(u8::MAX as usize)]);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Parses the stored byte form. Checks structure only; authenticity is checked on open.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealedFormatError> {
        let (&version, rest) = bytes.split_first().ok_or(SealedFormatError("empty"))?;
        if version != FORMAT_VERSION {
            return Err(SealedFormatError("unknown format version"));
        }
        let (&key_len, rest) = rest.split_first().ok_or(SealedFormatError("truncated"))?;
        let key_len = key_len as usize;
        if key_len == 0 || key_len > MAX_KEY_ID_LEN {
            return Err(SealedFormatError("key id length out of range"));
        }
        if rest.len() < key_len + NONCE_LEN + TAG_LEN {
            return Err(SealedFormatError("truncated"));
        }
        let (key_id, rest) = rest.split_at(key_len);
        let key_id = std::str::from_utf8(key_id)
            .map_err(|_| SealedFormatError("key id is not UTF-8"))?
            .to_owned();
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let mut n = [0u8; NONCE_LEN];
        n.copy_from_slice(nonce);
        Ok(Self {
            key_id,
            nonce: n,
            ciphertext: ciphertext.to_vec(),
        })
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Sealed {{ key_id: {:?}, {} bytes }}",
            self.key_id,
            self.ciphertext.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sealed {
        Sealed {
            key_id: "k1".into(),
            nonce: [7; NONCE_LEN],
            ciphertext: vec![9; TAG_LEN + 3],
        }
    }

    #[test]
    fn layout_is_version_key_id_nonce_ciphertext() {
        let bytes = sample().to_bytes();
        assert_eq!(&bytes[..4], &[1, 2, b'k', b'1']);
        assert_eq!(&bytes[4..16], &[7; NONCE_LEN]);
        assert_eq!(&bytes[16..], &[9; TAG_LEN + 3]);
        assert_eq!(Sealed::from_bytes(&bytes).unwrap(), sample());
    }

    #[test]
    fn malformed_bytes_are_rejected() {
        let good = sample().to_bytes();
        let mut not_utf8 = good.clone();
        not_utf8[2] = 0xff;
        let cases: [(&[u8], &str); 5] = [
            (&[], "empty"),
            (&[2, 2, b'k', b'1'], "unknown format version"),
            (&good[..good.len() - 4], "truncated"),
            (&[1, 0, 0, 0], "key id length out of range"),
            (&not_utf8, "key id is not UTF-8"),
        ];
        for (bytes, reason) in cases {
            assert_eq!(
                Sealed::from_bytes(bytes).unwrap_err(),
                SealedFormatError(reason)
            );
        }
    }

    #[test]
    fn debug_shows_key_id_and_size_only() {
        assert_eq!(
            format!("{:?}", sample()),
            "Sealed { key_id: \"k1\", 19 bytes }"
        );
    }
}
