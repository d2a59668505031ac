//! The one error type of this crate. Messages name what is wrong and how to fix it, but never
//! contain key material, plaintext or signatures: they end up in logs and API responses.

use crate::sealed::SealedFormatError;

/// Everything that can go wrong while loading keys, sealing, opening or verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A key id that cannot be stored in the sealed format or written in a key list.
    #[error(
        "master key id {id:?} is invalid: {reason} (use 1 to 64 characters from A-Z a-z 0-9 . _ -)"
    )]
    InvalidKeyId { id: String, reason: &'static str },

    /// Key material that is not standard, padded base64.
    #[error("master key `{id}` is not valid base64; generate one with `openssl rand -base64 32`")]
    KeyNotBase64 { id: String },

    /// Key material of the wrong size.
    #[error(
        "master key `{id}` is {actual} bytes long; AES-256 needs exactly 32 bytes (44 base64 characters)"
    )]
    KeyWrongLength { id: String, actual: usize },

    /// The same key id was given twice with different material.
    #[error("master key id `{id}` is defined twice with different key material")]
    DuplicateKeyId { id: String },

    /// An entry of a key list that is not `id:base64`.
    #[error("{origin}: entry {entry} is not of the form `id:base64`")]
    MalformedKeyEntry { origin: String, entry: usize },

    /// No key was configured at all.
    #[error(
        "no master key configured: set LOCKSTEP_MASTER_KEYS=\"id:BASE64[,id:BASE64…]\" or \
         LOCKSTEP_MASTER_KEYS_FILE to a file with one `id:BASE64` per line (the first key seals)"
    )]
    NoMasterKey,

    /// A key file that could not be read.
    #[error("cannot read master key file {path}: {reason}")]
    KeyFile { path: String, reason: String },

    /// A sealed value names a key this process does not have.
    #[error(
        "sealed value was sealed with master key `{key_id}`, which is not in the keyring \
         (known: {known}); add that key to LOCKSTEP_MASTER_KEYS or the key file"
    )]
    UnknownKeyId { key_id: String, known: String },

    /// Wrong key, tampered bytes, or a value copied to another tenant, integration or purpose.
    #[error(
        "sealed value does not open: it was tampered with, or it belongs to another tenant, \
         integration or purpose"
    )]
    OpenFailed,

    /// Stored bytes that are not a sealed value.
    #[error(transparent)]
    Malformed(#[from] SealedFormatError),

    /// A plaintext beyond AES-GCM's limit of 64 GiB.
    #[error("value is too large to seal")]
    TooLarge,

    /// The operating system's random generator failed.
    #[error("the system random number generator failed")]
    Random,

    /// A MAC or webhook signature that does not match.
    #[error("signature does not match")]
    SignatureMismatch,

    /// A signature header that carries no signature of a supported scheme.
    #[error("no {scheme} signature found in the signature header")]
    NoSignature { scheme: &'static str },

    /// A webhook header that cannot be used (missing parts, bad number, forbidden characters).
    #[error("invalid webhook header `{header}`: {reason}")]
    InvalidWebhookHeader {
        header: &'static str,
        reason: &'static str,
    },

    /// A webhook timestamp too far from the current time (replay protection).
    #[error(
        "webhook timestamp {timestamp} is {skew_secs} s away from the current time; at most \
         {tolerance_secs} s is accepted"
    )]
    TimestampOutOfTolerance {
        timestamp: i64,
        skew_secs: u64,
        tolerance_secs: u64,
    },

    /// A webhook secret that cannot be used.
    #[error("invalid webhook secret: {reason}")]
    InvalidWebhookSecret { reason: &'static str },
}
