//! Stage 2: the counting rules over one send's events (docs/metrics.md, issue 4 item 3).
//!
//! After the behaviour signals (`signals`) have settled every event's final class:
//! - a hit counts only when its class is a person or an image proxy acting for one;
//! - Apple's proxy opens go to `mpp_opens`, never to `opens`;
//! - a repeat from the same reader within [`DEDUPE_WINDOW_MS`] of that reader's last counted
//!   hit (the same open, or the same link) counts once and goes to `deduped`;
//! - everything classed scanner, preview or bot goes to `filtered`;
//! - a counted click with no counted open marks the send opened, flagged as inferred.
//!
//! Every event lands in exactly one of `opens`, `clicks`, `mpp_opens`, `deduped` and
//! `filtered`. The result depends only on each event's request and base verdict, never on
//! the verdicts a previous run wrote, so the recorder can diff two runs.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::signals::{self, Origin};
use crate::{Class, Event, Kind, Tally, Verdict};

/// Repeats from one reader closer than this to the reader's last counted hit count once.
/// A minute covers a mail client re-fetching the pixel as the reader moves between
/// messages, Gmail's proxy re-fetching on each view, and a double or impatient click, while
/// a reader who comes back to the mail later counts again.
pub const DEDUPE_WINDOW_MS: i64 = 60_000;

/// Who a repeat is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Reader<'a> {
    /// An image proxy (Gmail, Yahoo, Apple's) fetches for the one recipient of the send from
    /// ever-changing addresses, so the proxy itself is the reader.
    Proxy(Class, &'a str),
    /// A person's own client: address and user agent.
    Client(Option<IpAddr>, &'a str),
}

/// What a reader fetched: the pixel, or one link.
type Target = Option<u32>;

/// Stage 2: the counting rules over one send's events. Events are taken in time order
/// (ties keep their order in the slice); each gets its final verdict and `counted` flag.
pub fn tally(sent_at: i64, events: &mut [Event]) -> Tally {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| events[i].request.at);

    let mut verdicts = signals::judge(sent_at, events, &order);
    let mut counted = vec![false; events.len()];
    let mut t = Tally::default();
    let mut last_counted: HashMap<(Reader<'_>, Target), i64> = HashMap::new();
    let mut first_open: Option<i64> = None;

    for &i in &order {
        let event = &events[i];
        let verdict = &mut verdicts[i];
        let at = event.request.at;
        let target = match event.request.kind {
            Kind::Open => None,
            Kind::Click { position } => Some(position),
            Kind::Honeypot => None,
        };

        let is_mpp_open = verdict.class == Class::AppleMpp && event.request.kind == Kind::Open;
        if verdict.class == Class::AppleMpp && !is_mpp_open {
            let reason = "Apple's privacy proxy only loads images; this was not a person";
            *verdict = Verdict {
                class: Class::OtherBot,
                agent: None,
                reason: reason.into(),
            };
        }
        let is_reader_hit = verdict.class.counts() && event.request.kind != Kind::Honeypot;
        if !is_mpp_open && !is_reader_hit {
            t.filtered += 1;
            continue;
        }

        let key = (reader(event, verdict.class), target);
        let is_repeat = last_counted
            .get(&key)
            .is_some_and(|&last| at - last < DEDUPE_WINDOW_MS);
        if is_repeat {
            t.deduped += 1;
            verdict.reason = repeat_reason(verdict.class, target).into();
            continue;
        }
        last_counted.insert(key, at);

        if is_mpp_open {
            t.mpp_opens += 1;
            continue;
        }
        counted[i] = true;
        match target {
            None => {
                t.opens += 1;
                first_open.get_or_insert(at);
            }
            Some(_) => {
                t.clicks += 1;
                t.first_clicked_at.get_or_insert(at);
            }
        }
    }

    // The reader must have seen the mail to click it: the earlier of the first open and the
    // first click is when it was opened, inferred when no open counted at all.
    t.open_inferred = first_open.is_none() && t.first_clicked_at.is_some();
    t.first_opened_at = match (first_open, t.first_clicked_at) {
        (Some(open), Some(click)) => Some(open.min(click)),
        (open, click) => open.or(click),
    };

    for ((event, verdict), counted) in events.iter_mut().zip(verdicts).zip(counted) {
        event.verdict = verdict;
        event.counted = counted;
    }
    t
}

fn reader(event: &Event, class: Class) -> Reader<'_> {
    let is_proxy = matches!(class, Class::ImageProxy | Class::AppleMpp);
    if is_proxy {
        let name = event
            .base
            .agent
            .as_deref()
            .unwrap_or(event.request.user_agent.trim());
        return Reader::Proxy(class, name);
    }
    match signals::origin(event) {
        Origin::Ip(ip) => Reader::Client(Some(ip), event.request.user_agent.trim()),
        Origin::UserAgent(ua) => Reader::Client(None, ua.trim()),
    }
}

fn repeat_reason(class: Class, target: Target) -> &'static str {
    match (class, target) {
        (Class::AppleMpp, _) => {
            "Apple's proxy loaded the images again within a minute: counted once"
        }
        (Class::ImageProxy, _) => {
            "the image proxy loaded the images again within a minute: counted once"
        }
        (_, None) => "the same reader opened again within a minute: counted once",
        (_, Some(_)) => "the same reader clicked this link again within a minute: counted once",
    }
}
