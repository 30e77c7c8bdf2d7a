//! Tracking tokens: short, URL-safe, and unforgeable.
//!
//! A token is `base64url(payload || mac)`, where the payload is a kind byte, the send id
//! and, for clicks, the link position (both as LEB128 varints), and the mac is the first
//! 10 bytes of HMAC-SHA256 over the payload under the server secret. A click token is
//! about 20 characters. An 80-bit tag cannot be guessed by anyone sending requests to us,
//! and a token altered in any byte fails verification and so never redirects anywhere.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const MAC_LEN: usize = 10;
/// The longest well-formed token: kind, two 10-byte varints and the tag, encoded.
const MAX_TOKEN_CHARS: usize = 48;

/// What a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracked {
    Open { send_id: i64 },
    Click { send_id: i64, position: u32 },
    Honeypot { send_id: i64 },
    Unsubscribe { send_id: i64 },
}

impl Tracked {
    pub fn send_id(self) -> i64 {
        match self {
            Tracked::Open { send_id }
            | Tracked::Click { send_id, .. }
            | Tracked::Honeypot { send_id }
            | Tracked::Unsubscribe { send_id } => send_id,
        }
    }
}

/// The key that signs tokens, derived from the server secret.
#[derive(Clone)]
pub struct TokenKey {
    key: [u8; 32],
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// Derives the token key from the server secret, apart from other uses of the secret.
    pub fn derive(secret: &[u8]) -> TokenKey {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("any key length");
        mac.update(b"mailtally tracking tokens v1");
        TokenKey {
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// The token of `what`.
    pub fn mint(&self, what: Tracked) -> String {
        let mut bytes = Vec::with_capacity(24);
        match what {
            Tracked::Open { send_id } => {
                bytes.push(b'o');
                push_varint(&mut bytes, send_id as u64);
            }
            Tracked::Click { send_id, position } => {
                bytes.push(b'c');
                push_varint(&mut bytes, send_id as u64);
                push_varint(&mut bytes, u64::from(position));
            }
            Tracked::Honeypot { send_id } => {
                bytes.push(b'h');
                push_varint(&mut bytes, send_id as u64);
            }
            Tracked::Unsubscribe { send_id } => {
                bytes.push(b'u');
                push_varint(&mut bytes, send_id as u64);
            }
        }
        let tag = self.tag(&bytes);
        bytes.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// What a token stands for, or `None` when it is malformed, altered or forged.
    pub fn verify(&self, token: &str) -> Option<Tracked> {
        if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let split = bytes.len().checked_sub(MAC_LEN)?;
        let (payload, tag) = bytes.split_at(split);
        let mut mac = self.mac();
        mac.update(payload);
        mac.verify_truncated_left(tag).ok()?;

        let (&kind, rest) = payload.split_first()?;
        let (send_id, rest) = read_varint(rest)?;
        let send_id = i64::try_from(send_id).ok()?;
        let what = match kind {
            b'o' => Tracked::Open { send_id },
            b'h' => Tracked::Honeypot { send_id },
            b'u' => Tracked::Unsubscribe { send_id },
            b'c' => {
                let (position, rest) = read_varint(rest)?;
                if !rest.is_empty() {
                    return None;
                }
                return Some(Tracked::Click {
                    send_id,
                    position: u32::try_from(position).ok()?,
                });
            }
            _ => return None,
        };
        rest.is_empty().then_some(what)
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key length")
    }

    fn tag(&self, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = self.mac();
        mac.update(payload);
        let full = mac.finalize().into_bytes();
        let mut tag = [0; MAC_LEN];
        tag.copy_from_slice(&full[..MAC_LEN]);
        tag
    }
}

fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn read_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut n: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        n |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((n, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::derive(b"test secret")
    }

    #[test]
    fn round_trips_every_kind() {
        let cases = [
            Tracked::Open { send_id: 1 },
            Tracked::Click {
                send_id: 123_456_789,
                position: 41,
            },
            Tracked::Honeypot { send_id: i64::MAX },
            Tracked::Unsubscribe { send_id: 0 },
        ];
        for what in cases {
            let token = key().mint(what);
            assert!(token.len() <= MAX_TOKEN_CHARS, "{token} is too long");
            assert_eq!(key().verify(&token), Some(what), "{token}");
        }
        assert!(
            key()
                .mint(Tracked::Click {
                    send_id: 100_000,
                    position: 3
                })
                .len()
                <= 22
        );
    }

    #[test]
    fn refuses_altered_and_foreign_tokens() {
        let token = key().mint(Tracked::Click {
            send_id: 42,
            position: 2,
        });
        for i in 0..token.len() {
            let mut altered: Vec<char> = token.chars().collect();
            altered[i] = if altered[i] == 'A' { 'B' } else { 'A' };
            let altered: String = altered.into_iter().collect();
            if altered != token {
                assert_eq!(key().verify(&altered), None, "{altered} verified");
            }
        }
        assert_eq!(TokenKey::derive(b"other").verify(&token), None);
        for junk in [
            "",
            "x",
            "!!!!",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &"A".repeat(5000),
        ] {
            assert_eq!(key().verify(junk), None);
        }
    }
}
