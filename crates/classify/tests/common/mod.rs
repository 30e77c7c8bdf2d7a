//! Builders for the events of one send, shared by the integration tests.

#![allow(dead_code)]

use mailtally_classify::{Event, Kind, Request, Source, Tally, classify};

/// When the test send went out, in Unix milliseconds.
pub const SENT: i64 = 1_700_000_000_000;
pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60 * SECOND;

pub const IPHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1";
/// The kind of plain, slightly old desktop Chrome that gateway scanners send.
pub const SCANNER_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) \
    AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Safari/537.36";
pub const DESKTOP_FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub const OUTLOOK: &str = "Microsoft Office/16.0 (Microsoft Outlook 16.0.17328; Pro)";
pub const GMAIL_PROXY: &str = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 \
    (via ggpht.com GoogleImageProxy)";
pub const MPP: &str = "Mozilla/5.0";

/// A hit `after` milliseconds after the send, classified by stage 1 as the server would.
pub fn hit(kind: Kind, method: &str, ua: &str, ip: &str, after: i64) -> Event {
    let request = Request {
        kind,
        source: Source::Direct,
        method: method.into(),
        user_agent: ua.into(),
        ip: Some(ip.parse().expect("test address")),
        prefetch: false,
        at: SENT + after,
    };
    let base = classify(&request);
    Event {
        request,
        verdict: base.clone(),
        base,
        counted: false,
    }
}

pub fn open(ua: &str, ip: &str, after: i64) -> Event {
    hit(Kind::Open, "GET", ua, ip, after)
}

pub fn click(position: u32, ua: &str, ip: &str, after: i64) -> Event {
    hit(Kind::Click { position }, "GET", ua, ip, after)
}

pub fn honeypot(ua: &str, ip: &str, after: i64) -> Event {
    hit(Kind::Honeypot, "GET", ua, ip, after)
}

/// Every event lands in exactly one figure.
pub fn assert_partition(t: &Tally, events: &[Event]) {
    let placed = t.opens + t.clicks + t.mpp_opens + t.filtered + t.deduped;
    assert_eq!(placed, events.len() as i64, "{t:?}");
    let counted = events.iter().filter(|e| e.counted).count() as i64;
    assert_eq!(counted, t.opens + t.clicks, "{t:?}");
}
