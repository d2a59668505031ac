//! Secrets at rest and message authentication for Lockstep.
//!
//! - [`Keyring`] + [`Aad`]: AES-256-GCM sealing of integration credentials and webhook secrets,
//!   bound to tenant, integration and purpose, with key ids for rotation. The database stores
//!   [`Sealed::to_bytes`].
//! - [`mac`]: HMAC-SHA256, constant-time comparison, API token hashing.
//! - [`webhook`]: Standard Webhooks and `X-Hub-Signature` signing and verification.
//! - [`SecretString`] / [`SecretBytes`]: values that never print and are zeroed on drop.

mod error;
mod keyring;
pub mod mac;
mod seal;
mod sealed;
mod secret;
pub mod webhook;

pub use error::CryptoError;
pub use keyring::{KEY_LEN, Keyring, MASTER_KEYS_ENV, MASTER_KEYS_FILE_ENV, MAX_KEY_ID_LEN};
pub use mac::{constant_time_eq, generate_token, hash_token, hash_token_hex, verify_token};
pub use seal::{Aad, Purpose};
pub use sealed::{Sealed, SealedFormatError};
pub use secret::{SecretBytes, SecretString};
pub use webhook::WebhookSecret;
