//! Mailgun's webhook signature: HMAC-SHA256 over `timestamp || token`, keyed with the
//! domain's HTTP webhook signing key, hex-encoded. See Mailgun's "Securing Webhooks" page.
//!
//! Only the timestamp and the token are signed, not the event, so a signature proves
//! nothing on its own once seen: callers must also refuse stale timestamps and tokens
//! they have seen before.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signed fields of a webhook, exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub timestamp: String,
    pub token: String,
    pub signature: String,
}

fn mac(key: &[u8], timestamp: &str, token: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    mac
}

/// The lower-case hex signature Mailgun would send; for tests and fakes.
pub fn sign(key: &[u8], timestamp: &str, token: &str) -> String {
    hex::encode(mac(key, timestamp, token).finalize().into_bytes())
}

/// Whether `signed` carries the signature of its timestamp and token under `key`. The
/// digests are compared in constant time.
pub fn verify(key: &[u8], signed: &Signed) -> bool {
    let Ok(claimed) = hex::decode(signed.signature.trim()) else {
        return false;
    };
    mac(key, &signed.timestamp, &signed.token)
        .verify_slice(&claimed)
        .is_ok()
}

/// Whether a signed timestamp (unix seconds, digits only) lies within `max_age_ms` of
/// `now_ms`, either way: old ones may be replays, future ones would outlive the token cache.
pub fn is_fresh(timestamp: &str, now_ms: i64, max_age_ms: i64) -> bool {
    let digits_only = !timestamp.is_empty()
        && timestamp.len() <= 12
        && timestamp.bytes().all(|b| b.is_ascii_digit());
    if !digits_only {
        return false;
    }
    let Ok(seconds) = timestamp.parse::<i64>() else {
        return false;
    };
    (now_ms - seconds * 1000).abs() <= max_age_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(timestamp: &str, token: &str, signature: &str) -> Signed {
        Signed {
            timestamp: timestamp.into(),
            token: token.into(),
            signature: signature.into(),
        }
    }

    #[test]
    fn refuses_any_changed_byte() {
        let key = b"k";
        let good = sign(key, "1700000000", "abc");
        assert!(verify(key, &signed("1700000000", "abc", &good)));
        assert!(verify(
            key,
            &signed("1700000000", "abc", &good.to_uppercase())
        ));
        for i in 0..good.len() {
            let mut bytes = good.clone().into_bytes();
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            let altered = String::from_utf8(bytes).unwrap();
            assert!(!verify(key, &signed("1700000000", "abc", &altered)));
        }
        assert!(!verify(key, &signed("1700000001", "abc", &good)));
        assert!(!verify(key, &signed("1700000000", "abd", &good)));
        assert!(!verify(key, &signed("1700000000", "abc", "zz")));
        assert!(!verify(key, &signed("1700000000", "abc", &good[..62])));
    }

    #[test]
    fn freshness() {
        let now = 1_700_000_000_000;
        let window = 15 * 60 * 1000;
        assert!(is_fresh("1700000000", now, window));
        assert!(is_fresh("1699999100", now, window));
        assert!(!is_fresh("1699999099", now, window));
        assert!(!is_fresh("1700000901", now, window));
        for junk in ["", "-1", "17e8", " 1700000000", "99999999999999999999"] {
            assert!(!is_fresh(junk, now, window), "{junk:?}");
        }
    }
}
