//! Stage 2, first half: behaviour across the events of one send that turns a hit that looked
//! like a person into a bot. Three signals, applied in this order so the first reason wins:
//!
//! 1. **Honeypot**: whoever follows the hidden link is a bot, and so are all its other hits
//!    on the send, before or after, from the same visitor (same address and user agent).
//! 2. **Burst**: two or more different links clicked within [`BURST_WINDOW_MS`] from one
//!    address, and that visitor's opens (same address and user agent) within
//!    [`BURST_OPEN_WINDOW_MS`] of those clicks.
//! 3. **Too soon**: a click within [`EARLY_CLICK_WINDOW_MS`] of sending, from an address that
//!    showed no open before it, when either it came within [`TOO_FAST_MS`] of sending or the
//!    send's reader clicked later from another address.
//!
//! Each signal only touches hits still classed as people or image proxies, never the other
//! way round: behaviour can show that a visitor is a bot, not that a bot is a person.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::{Class, Event, Kind, Verdict};

/// Different links clicked closer together than this from one address are a scanner. Two
/// seconds is what the issue asks for; a person needs longer to switch from the browser
/// back to the mail and pick another link, while Safe Links and gateways open every link of
/// a message within a second or a few (scanner-notes.md §6).
pub const BURST_WINDOW_MS: i64 = 2_000;

/// A burst address's opens this close to its burst clicks are the scanner loading images.
pub const BURST_OPEN_WINDOW_MS: i64 = 30_000;

/// Clicks this soon after sending are suspect, but not decided by time alone: gateway scans
/// are reported from seconds to minutes after delivery (scanner-notes.md §6, dada-mail's
/// five minutes for unsubscribes), and people waiting for a mail click fast too.
pub const EARLY_CLICK_WINDOW_MS: i64 = 5 * 60_000;

/// Within this of sending, a click from an address that never opened is taken as a scan:
/// delivery, a notification and a read take longer than ten seconds.
pub const TOO_FAST_MS: i64 = 10_000;

/// Where a hit came from: its address, or its user agent when the address is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Origin<'a> {
    Ip(IpAddr),
    UserAgent(&'a str),
}

pub(crate) fn origin(event: &Event) -> Origin<'_> {
    match event.request.ip {
        Some(ip) => Origin::Ip(crate::address::canonical(ip)),
        None => Origin::UserAgent(&event.request.user_agent),
    }
}

/// One visitor: address and user agent together, so that a scanner behind the same company
/// address as the reader does not take the reader's hits with it.
fn visitor(event: &Event) -> (Option<IpAddr>, &str) {
    (
        event.request.ip.map(crate::address::canonical),
        event.request.user_agent.trim(),
    )
}

/// Which link a hit followed; the honeypot is a link of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Position(u32),
    Honeypot,
}

fn link(kind: Kind) -> Option<Link> {
    match kind {
        Kind::Open => None,
        Kind::Click { position } => Some(Link::Position(position)),
        Kind::Honeypot => Some(Link::Honeypot),
    }
}

/// Whether a verdict still stands for a reader: a person or an image proxy acting for one.
fn is_reader(verdict: &Verdict) -> bool {
    verdict.class.counts()
}

/// The final verdicts before counting, in the order of `events`; `order` lists the events'
/// indices in time order.
pub(crate) fn judge(sent_at: i64, events: &[Event], order: &[usize]) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = events.iter().map(|e| e.base.clone()).collect();
    honeypot(events, &mut verdicts);
    burst(events, order, &mut verdicts);
    too_soon(sent_at, events, order, &mut verdicts);
    verdicts
}

fn honeypot(events: &[Event], verdicts: &mut [Verdict]) {
    let followers: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].request.kind == Kind::Honeypot)
        .collect();
    const REASON: &str = "followed the hidden honeypot link, which no person can see";

    for &i in &followers {
        if !verdicts[i].class.is_bot() {
            verdicts[i] = Verdict {
                class: Class::Scanner,
                agent: None,
                reason: REASON.into(),
            };
        }
    }
    for i in 0..events.len() {
        if verdicts[i].class.is_bot() {
            continue;
        }
        let Some(&follower) = followers
            .iter()
            .find(|&&f| visitor(&events[f]) == visitor(&events[i]))
        else {
            continue;
        };
        verdicts[i] = Verdict {
            class: verdicts[follower].class,
            agent: verdicts[follower].agent.clone(),
            reason: "the same visitor followed the hidden honeypot link".into(),
        };
    }
}

fn burst(events: &[Event], order: &[usize], verdicts: &mut [Verdict]) {
    let clicks: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| link(events[i].request.kind).is_some())
        .collect();

    // Every click in a burst, with the number of different links in it.
    let mut in_burst: Vec<(usize, usize)> = Vec::new();
    let mut links: Vec<Link> = Vec::new();
    let mut window_start = 0;
    for &i in &clicks {
        let at = events[i].request.at;
        // `clicks` is in time order, so the clicks near this one are a slice of it.
        while events[clicks[window_start]].request.at < at - BURST_WINDOW_MS {
            window_start += 1;
        }
        links.clear();
        let near = clicks[window_start..]
            .iter()
            .take_while(|&&j| events[j].request.at <= at + BURST_WINDOW_MS);
        for &j in near {
            let link = link(events[j].request.kind).expect("clicks only");
            if origin(&events[j]) == origin(&events[i]) && !links.contains(&link) {
                links.push(link);
            }
        }
        if links.len() >= 2 {
            in_burst.push((i, links.len()));
        }
    }

    for &(i, links) in &in_burst {
        if is_reader(&verdicts[i]) {
            let reason = format!(
                "one of {links} different links clicked within 2 seconds from one address: \
                 a scanner checking every link"
            );
            verdicts[i] = Verdict {
                class: Class::Scanner,
                agent: None,
                reason,
            };
        }
    }
    for &i in order {
        let is_open = events[i].request.kind == Kind::Open;
        if !is_open || !is_reader(&verdicts[i]) {
            continue;
        }
        // Same address *and* same user agent: stored addresses are cut to their network,
        // so a reader whose company shares a /24 with its mail gateway keeps their open.
        let near_burst = in_burst.iter().any(|&(b, _)| {
            origin(&events[b]) == origin(&events[i])
                && events[b].request.user_agent == events[i].request.user_agent
                && (events[b].request.at - events[i].request.at).abs() <= BURST_OPEN_WINDOW_MS
        });
        if near_burst {
            let reason = "loaded the images from the address that clicked a burst of links, at \
                          the same time";
            verdicts[i] = Verdict {
                class: Class::Scanner,
                agent: None,
                reason: reason.into(),
            };
        }
    }
}

fn too_soon(sent_at: i64, events: &[Event], order: &[usize], verdicts: &mut [Verdict]) {
    // Where each address first loaded the pixel as a reader (this signal changes clicks only).
    let mut first_open: HashMap<Origin<'_>, usize> = HashMap::new();
    for (rank, &i) in order.iter().enumerate() {
        if events[i].request.kind == Kind::Open && is_reader(&verdicts[i]) {
            first_open.entry(origin(&events[i])).or_insert(rank);
        }
    }

    // Latest first: whether a click is a scan depends on the final verdicts of later clicks.
    let mut later_readers = LaterReaders::default();
    for (rank, &i) in order.iter().enumerate().rev() {
        let request = &events[i].request;
        let is_click = matches!(request.kind, Kind::Click { .. });
        if !is_click || !is_reader(&verdicts[i]) {
            continue;
        }
        let here = origin(&events[i]);
        let since_send = request.at - sent_at;
        let opened_here_before = first_open.get(&here).is_some_and(|&open| open < rank);
        let too_fast = since_send <= TOO_FAST_MS;
        let reader_elsewhere = later_readers.any_but(here);
        let is_scan = since_send <= EARLY_CLICK_WINDOW_MS
            && !opened_here_before
            && (too_fast || reader_elsewhere);
        if !is_scan {
            later_readers.add(here);
            continue;
        }

        let seconds = since_send.max(0) / 1000;
        let reason = if too_fast {
            format!(
                "clicked {seconds} s after sending from an address that had not opened the \
                 mail: too soon for a person"
            )
        } else {
            format!(
                "clicked {seconds} s after sending from an address that had not opened the \
                 mail, and the reader clicked later from elsewhere: a delivery-time scan"
            )
        };
        verdicts[i] = Verdict {
            class: Class::Scanner,
            agent: None,
            reason,
        };
    }
}

/// The addresses of the reader clicks seen so far, walking back in time: enough to tell
/// whether one came from an address other than a given one.
#[derive(Default)]
struct LaterReaders<'a> {
    first: Option<Origin<'a>>,
    several: bool,
}

impl<'a> LaterReaders<'a> {
    fn add(&mut self, origin: Origin<'a>) {
        match self.first {
            None => self.first = Some(origin),
            Some(first) => self.several |= first != origin,
        }
    }

    fn any_but(&self, origin: Origin<'a>) -> bool {
        self.several || self.first.is_some_and(|first| first != origin)
    }
}
