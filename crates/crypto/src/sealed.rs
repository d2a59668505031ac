//! The stored form of a sealed secret. The byte layout is versioned so keys and algorithms can
//! change without a migration:
//! `[version=1][key id length: u8][key id bytes][nonce: 12 bytes][ciphertext + 16-byte tag]`.

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// A secret sealed with one master key: what the database stores.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
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

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealedFormatError> {
        let (&version, rest) = bytes.split_first().ok_or(SealedFormatError("empty"))?;
        if version != FORMAT_VERSION {
            return Err(SealedFormatError("unknown format version"));
        }
        let (&key_len, rest) = rest.split_first().ok_or(SealedFormatError("truncated"))?;
        let key_len = key_len as usize;
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
        Ok(Self { key_id, nonce: n, ciphertext: ciphertext.to_vec() })
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed {{ key_id: {:?}, {} bytes }}", self.key_id, self.ciphertext.len())
    }
}
