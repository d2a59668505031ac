//! AES-256-GCM sealing of secrets at rest.
//!
//! Every sealed value is bound, through GCM's associated data, to the tenant, the integration and
//! the purpose it was sealed for. Copying the `sealed_credentials` column of one integration into
//! another row (or into the webhook secret column) therefore yields a value that no longer opens,
//! instead of one that silently authenticates as someone else.
//!
//! Nonces are 96 random bits from the operating system per seal. With random nonces one key may
//! seal about 2^32 values before the collision risk matters; credentials are written rarely, and
//! rotation ([`Keyring::rotate_to`] + [`Keyring::reseal`]) resets the count.

use lockstep_domain::{IntegrationId, TenantId};
use ring::aead::{self, NONCE_LEN, Nonce};
use ring::rand::{SecureRandom, SystemRandom};

use crate::{CryptoError, Keyring, Sealed, SecretBytes};

/// Version tag of the associated-data layout; change it together with the sealed format.
const AAD_LABEL: &[u8] = b"lockstep.sealed.v1";

/// What a sealed value is used for. Part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// An integration's vendor credentials (password, OAuth client secret, API key).
    Credentials,
    /// The shared secret an integration's inbound webhooks are signed or authenticated with.
    WebhookSecret,
}

impl Purpose {
    /// Stable name used in the associated data; never reorder-sensitive like a discriminant.
    pub const fn as_str(self) -> &'static str {
        match self {
            Purpose::Credentials => "credentials",
            Purpose::WebhookSecret => "webhook_secret",
        }
    }
}

/// The context a sealed value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aad {
    pub tenant: TenantId,
    pub integration: IntegrationId,
    pub purpose: Purpose,
}

impl Aad {
    pub fn new(tenant: TenantId, integration: IntegrationId, purpose: Purpose) -> Self {
        Self {
            tenant,
            integration,
            purpose,
        }
    }

    /// Fixed-layout encoding: label, 16-byte tenant UUID, 16-byte integration UUID, purpose.
    /// Every field has a fixed length or comes last, so two different contexts never encode
    /// to the same bytes.
    fn encode(&self) -> Vec<u8> {
        let purpose = self.purpose.as_str().as_bytes();
        let mut out = Vec::with_capacity(AAD_LABEL.len() + 32 + purpose.len());
        out.extend_from_slice(AAD_LABEL);
        out.extend_from_slice(self.tenant.as_uuid().as_bytes());
        out.extend_from_slice(self.integration.as_uuid().as_bytes());
        out.extend_from_slice(purpose);
        out
    }
}

impl Keyring {
    /// Seals `plaintext` with the current key and a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8], aad: &Aad) -> Result<Sealed, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| CryptoError::Random)?;
        let mut buffer = plaintext.to_vec();
        self.current_key()
            .aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad.encode()),
                &mut buffer,
            )
            // ring fails only for inputs beyond GCM's 64 GiB limit.
            .map_err(|_| CryptoError::TooLarge)?;
        Ok(Sealed {
            key_id: self.current_key_id().to_owned(),
            nonce,
            ciphertext: buffer,
        })
    }

    /// Opens a value sealed with any key of this keyring for exactly this context.
    pub fn open(&self, sealed: &Sealed, aad: &Aad) -> Result<SecretBytes, CryptoError> {
        let key = self.key(&sealed.key_id)?;
        let mut buffer = sealed.ciphertext.clone();
        let len = key
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(sealed.nonce),
                aead::Aad::from(aad.encode()),
                &mut buffer,
            )
            .map_err(|_| CryptoError::OpenFailed)?
            .len();
        buffer.truncate(len);
        Ok(SecretBytes::new(buffer))
    }

    /// Opens and parses stored bytes (the `to_bytes()` form kept in the database).
    pub fn open_bytes(&self, stored: &[u8], aad: &Aad) -> Result<SecretBytes, CryptoError> {
        self.open(&Sealed::from_bytes(stored)?, aad)
    }

    /// Whether a value was sealed with an older key and should be re-sealed.
    pub fn needs_reseal(&self, sealed: &Sealed) -> bool {
        sealed.key_id != self.current_key_id()
    }

    /// Opens a value and seals it again under the current key (with a new nonce), for the
    /// background job that migrates rows after a key rotation.
    pub fn reseal(&self, sealed: &Sealed, aad: &Aad) -> Result<Sealed, CryptoError> {
        let plaintext = self.open(sealed, aad)?;
        self.seal(plaintext.expose(), aad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const K1: [u8; 32] = [1; 32];
    const K2: [u8; 32] = [2; 32];

    fn aad(purpose: Purpose) -> Aad {
        Aad::new(TenantId::new(), IntegrationId::new(), purpose)
    }

    fn flip(bytes: &mut [u8], bit: usize) {
        bytes[bit / 8] ^= 1 << (bit % 8);
    }

    #[test]
    fn wrong_tenant_integration_or_purpose_does_not_open() {
        let ring = Keyring::new("k1", &K1).unwrap();
        let ctx = aad(Purpose::Credentials);
        let sealed = ring.seal(b"s3cret", &ctx).unwrap();
        assert_eq!(ring.open(&sealed, &ctx).unwrap().expose(), b"s3cret");

        let others = [
            Aad {
                tenant: TenantId::new(),
                ..ctx
            },
            Aad {
                integration: IntegrationId::new(),
                ..ctx
            },
            Aad {
                purpose: Purpose::WebhookSecret,
                ..ctx
            },
        ];
        for other in others {
            assert_eq!(
                ring.open(&sealed, &other).unwrap_err(),
                CryptoError::OpenFailed
            );
        }
    }

    #[test]
    fn nonces_are_fresh_per_seal() {
        let ring = Keyring::new("k1", &K1).unwrap();
        let ctx = aad(Purpose::Credentials);
        let a = ring.seal(b"same", &ctx).unwrap();
        let b = ring.seal(b"same", &ctx).unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_reseal_moves_them() {
        let mut ring = Keyring::new("k1", &K1).unwrap();
        let ctx = aad(Purpose::WebhookSecret);
        let old = ring.seal(b"whsec", &ctx).unwrap();
        assert_eq!(old.key_id, "k1");

        ring.rotate_to("k2", &K2).unwrap();
        assert_eq!(ring.current_key_id(), "k2");
        assert_eq!(ring.open(&old, &ctx).unwrap().expose(), b"whsec");
        assert!(ring.needs_reseal(&old));

        let moved = ring.reseal(&old, &ctx).unwrap();
        assert_eq!(moved.key_id, "k2");
        assert!(!ring.needs_reseal(&moved));
        assert_eq!(ring.open(&moved, &ctx).unwrap().expose(), b"whsec");

        // A process that only has the new key opens the re-sealed value but not the old one.
        let only_k2 = Keyring::new("k2", &K2).unwrap();
        assert_eq!(only_k2.open(&moved, &ctx).unwrap().expose(), b"whsec");
        let err = only_k2.open(&old, &ctx).unwrap_err();
        assert!(matches!(&err, CryptoError::UnknownKeyId { key_id, .. } if key_id == "k1"));
        let msg = err.to_string();
        assert!(
            msg.contains("`k1`") && msg.contains("add that key"),
            "{msg}"
        );
    }

    #[test]
    fn same_id_other_key_does_not_open() {
        let ctx = aad(Purpose::Credentials);
        let sealed = Keyring::new("k1", &K1).unwrap().seal(b"x", &ctx).unwrap();
        let impostor = Keyring::new("k1", &K2).unwrap();
        assert_eq!(
            impostor.open(&sealed, &ctx).unwrap_err(),
            CryptoError::OpenFailed
        );
    }

    #[test]
    fn stored_bytes_round_trip() {
        let ring = Keyring::new("k1", &K1).unwrap();
        let ctx = aad(Purpose::Credentials);
        let stored = ring
            .seal(b"{\"password\":\"pw\"}", &ctx)
            .unwrap()
            .to_bytes();
        assert_eq!(
            ring.open_bytes(&stored, &ctx).unwrap().expose(),
            b"{\"password\":\"pw\"}"
        );
        assert!(matches!(
            ring.open_bytes(&stored[..10], &ctx),
            Err(CryptoError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn seal_open_round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let ring = Keyring::new("k1", &K1).unwrap();
            let ctx = aad(Purpose::Credentials);
            let sealed = ring.seal(&plaintext, &ctx).unwrap();
            let reparsed = Sealed::from_bytes(&sealed.to_bytes()).unwrap();
            prop_assert_eq!(&reparsed, &sealed);
            let opened = ring.open(&reparsed, &ctx).unwrap();
            prop_assert_eq!(opened.expose(), &plaintext[..]);
        }

        /// Any single flipped bit in the nonce, the ciphertext or the tag is detected.
        #[test]
        fn any_bit_flip_in_the_sealed_value_fails(
            plaintext in proptest::collection::vec(any::<u8>(), 0..256),
            bit_seed in any::<usize>(),
        ) {
            let ring = Keyring::new("k1", &K1).unwrap();
            let ctx = aad(Purpose::Credentials);
            let sealed = ring.seal(&plaintext, &ctx).unwrap();
            let total_bits = (sealed.nonce.len() + sealed.ciphertext.len()) * 8;
            let bit = bit_seed % total_bits;
            let mut tampered = sealed.clone();
            if bit < 96 {
                flip(&mut tampered.nonce, bit);
            } else {
                flip(&mut tampered.ciphertext, bit - 96);
            }
            prop_assert_eq!(ring.open(&tampered, &ctx).unwrap_err(), CryptoError::OpenFailed);
        }

        /// Any single flipped bit in the associated data (tenant, integration) is detected.
        #[test]
        fn any_bit_flip_in_the_context_fails(bit in 0usize..256) {
            let ring = Keyring::new("k1", &K1).unwrap();
            let ctx = aad(Purpose::Credentials);
            let sealed = ring.seal(b"secret", &ctx).unwrap();
            let mut tenant = *ctx.tenant.as_uuid().as_bytes();
            let mut integration = *ctx.integration.as_uuid().as_bytes();
            if bit < 128 {
                flip(&mut tenant, bit);
            } else {
                flip(&mut integration, bit - 128);
            }
            let tampered = Aad {
                tenant: TenantId::from_uuid(uuid_from(tenant)),
                integration: IntegrationId::from_uuid(uuid_from(integration)),
                purpose: ctx.purpose,
            };
            prop_assert_eq!(ring.open(&sealed, &tampered).unwrap_err(), CryptoError::OpenFailed);
        }
    }

    fn uuid_from(bytes: [u8; 16]) -> uuid::Uuid {
        uuid::Uuid::from_bytes(bytes)
    }
}
