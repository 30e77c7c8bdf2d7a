//! Keys at rest: Mailgun API keys and webhook signing keys are sealed with AES-256-GCM
//! before they reach the database, and held in memory as a `Secret` that never prints.
//!
//! A sealed value is `version (1 byte) || nonce (12 bytes) || ciphertext and tag`. The key is
//! derived from the server secret with HMAC-SHA256 under a label of its own, so it is
//! unrelated to the tracking-token key derived from the same secret. The associated data
//! names the tenant and the field, so a sealed value copied to another tenant's row, or to
//! another field, does not open. Nonces are random: the number of values sealed under one
//! key (a few per tenant) stays far below the point where 96-bit random nonces might repeat.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The format and key generation of what `seal` writes.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
/// The derivation label of key version 1.
const LABEL_V1: &[u8] = b"mailtally secrets at rest v1";

/// A secret string (an API key, a signing key) that never shows in `Debug` or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// What a sealed value belongs to; bound into the ciphertext as associated data.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// `org` or `team`.
    pub tenant_kind: &'a str,
    pub tenant_id: i64,
    /// The logical field, e.g. `signing_key`.
    pub field: &'a str,
}

impl Binding<'_> {
    fn aad(&self) -> Vec<u8> {
        format!(
            "mailtally/mailgun/{}/{}/{}",
            self.tenant_kind, self.tenant_id, self.field
        )
        .into_bytes()
    }
}

/// The sealed value does not open: another server secret, another tenant or field, or
/// altered bytes.
#[derive(Debug, thiserror::Error)]
#[error("a sealed secret could not be opened")]
pub struct Unsealable;

/// Seals and opens secrets under the key derived from the server secret. Cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// Derives the sealing key from the server secret.
    pub fn derive(server_secret: &[u8]) -> Sealer {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(server_secret).expect("any key length");
        mac.update(LABEL_V1);
        let key = mac.finalize().into_bytes();
        Sealer {
            cipher: Aes256Gcm::new(&key),
        }
    }

    /// Encrypts `secret` for `binding` under a fresh random nonce.
    pub fn seal(&self, secret: &Secret, binding: Binding<'_>) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = binding.aad();
        let payload = Payload {
            msg: secret.expose().as_bytes(),
            aad: &aad,
        };
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .expect("AES-GCM encrypts any message shorter than 64 GiB");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts a value `seal` wrote for the same binding.
    pub fn open(&self, sealed: &[u8], binding: Binding<'_>) -> Result<Secret, Unsealable> {
        let (&version, rest) = sealed.split_first().ok_or(Unsealable)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let aad = binding.aad();
        let payload = Payload {
            msg: ciphertext,
            aad: &aad,
        };
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| Unsealable)?;
        String::from_utf8(plain).map(Secret).map_err(|_| Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG_1: Binding<'static> = Binding {
        tenant_kind: "org",
        tenant_id: 1,
        field: "signing_key",
    };

    #[test]
    fn round_trips_and_hides_the_secret() {
        let sealer = Sealer::derive(b"a server secret for tests");
        let secret = Secret::new("key-3ax6xnjp29jd6fds4gc373sgvjxteol0");
        let sealed = sealer.seal(&secret, ORG_1);
        assert_eq!(sealed[0], VERSION);
        assert!(!sealed.windows(8).any(|w| w == &b"key-3ax6"[..]));
        assert_eq!(sealer.open(&sealed, ORG_1).unwrap(), secret);
        assert_ne!(sealer.seal(&secret, ORG_1), sealed, "fresh nonce each time");
        assert_eq!(format!("{secret:?}"), "Secret(..)");
    }

    #[test]
    fn refuses_other_bindings_keys_and_altered_bytes() {
        let sealer = Sealer::derive(b"a server secret for tests");
        let sealed = sealer.seal(&Secret::new("s3cret"), ORG_1);
        let other_tenant = Binding {
            tenant_id: 2,
            ..ORG_1
        };
        let other_kind = Binding {
            tenant_kind: "team",
            ..ORG_1
        };
        let other_field = Binding {
            field: "api_key",
            ..ORG_1
        };
        for binding in [other_tenant, other_kind, other_field] {
            assert!(sealer.open(&sealed, binding).is_err(), "{binding:?}");
        }
        let other_server = Sealer::derive(b"another server secret");
        assert!(other_server.open(&sealed, ORG_1).is_err());
        for i in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[i] ^= 0x01;
            assert!(sealer.open(&altered, ORG_1).is_err(), "byte {i}");
        }
        assert!(sealer.open(&[], ORG_1).is_err());
        assert!(sealer.open(&[VERSION, 1, 2], ORG_1).is_err());
    }
}
