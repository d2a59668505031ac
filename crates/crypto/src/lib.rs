//! Sealing of secrets at rest (AES-256-GCM) and constant-time verification (HMAC-SHA256, tokens).

mod sealed;

pub use sealed::{Sealed, SealedFormatError};
