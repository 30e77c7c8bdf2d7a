//! Tells people from Apple's proxy, image proxies, scanners and bots, and counts what people
//! did.
//!
//! Two stages, both pure:
//! 1. `classify(&Request)`: what one request is, from what it carries alone (method, user
//!    agent, client address, prefetch headers). The rules are data in `rules`.
//! 2. `tally(sent_at, &mut [Event])`: the counting rules over the recent events of one send,
//!    in time order. It may change an event's final class (a burst of clicks, a honeypot hit,
//!    a click too soon after delivery), decides which events count, and returns the counters.
//!
//! CONTRACT (used by the `mailtally` crate; keep these names and meanings stable):
//! the store keeps for each event its `Request` fields, its `base` verdict (stage 1) and its
//! final verdict and `counted` flag (stage 2). The recorder loads a send's recent events,
//! appends new ones, runs `tally` on the events before and after the append, and adds the
//! difference of the two `Tally` values to the send's stored counters. So `tally` must be
//! deterministic and depend only on the events it is given.
//!
//! Modules, in the order a request meets them: `rules` (the user-agent table) and `address`
//! (Apple's relay ranges) feed `classify`; `signals` (honeypot, burst, too-soon) and `tally`
//! (counting and de-duplication) make stage 2. The figures are defined for marketers in
//! `docs/metrics.md`.

mod address;
mod classify;
pub mod rules;
mod signals;
mod tally;

use std::net::IpAddr;

pub use address::{APPLE_RELAY_RANGES, AppleRelayRanges, RelayRange};
pub use classify::{classify, classify_with};
pub use signals::{BURST_OPEN_WINDOW_MS, BURST_WINDOW_MS, EARLY_CLICK_WINDOW_MS, TOO_FAST_MS};
pub use tally::{DEDUPE_WINDOW_MS, tally};

/// What was fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Open,
    Click {
        position: u32,
    },
    /// The hidden link that no person follows.
    Honeypot,
}

/// Where a hit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Our pixel or redirector.
    Direct,
    /// Mailgun's own open or click webhook; `flagged_bot` is Mailgun's verdict.
    Mailgun { flagged_bot: bool },
}

/// One tracking request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: Kind,
    pub source: Source,
    /// Upper-case HTTP method.
    pub method: String,
    pub user_agent: String,
    /// The client address, already resolved through trusted proxies.
    pub ip: Option<IpAddr>,
    /// `Purpose: prefetch` or `Sec-Purpose: prefetch` was present.
    pub prefetch: bool,
    /// Unix milliseconds.
    pub at: i64,
}

/// Who fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Human,
    AppleMpp,
    ImageProxy,
    Scanner,
    PreviewBot,
    OtherBot,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Human => "human",
            Class::AppleMpp => "apple_mpp",
            Class::ImageProxy => "image_proxy",
            Class::Scanner => "scanner",
            Class::PreviewBot => "preview_bot",
            Class::OtherBot => "other_bot",
        }
    }

    pub fn parse(s: &str) -> Option<Class> {
        [
            Class::Human,
            Class::AppleMpp,
            Class::ImageProxy,
            Class::Scanner,
            Class::PreviewBot,
            Class::OtherBot,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Scanners, previews and other bots: the classes that make up `filtered`.
    pub fn is_bot(self) -> bool {
        matches!(self, Class::Scanner | Class::PreviewBot | Class::OtherBot)
    }

    /// A person, or an image proxy acting for one: the classes whose hits can count.
    pub fn counts(self) -> bool {
        matches!(self, Class::Human | Class::ImageProxy)
    }
}

/// A class and the reason for it, in words a marketer reads in the event timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub class: Class,
    /// Who, where known: "Gmail", "Microsoft Defender Safe Links", ...
    pub agent: Option<String>,
    /// Why, e.g. "user agent matches Gmail's image proxy", "HEAD request".
    pub reason: String,
}

/// An event of one send as the counting rules see it.
#[derive(Debug, Clone)]
pub struct Event {
    pub request: Request,
    /// Stage 1's verdict, stored with the event.
    pub base: Verdict,
    /// Stage 2's verdict; `tally` overwrites it.
    pub verdict: Verdict,
    /// Whether this event counts in the headline figures; `tally` overwrites it.
    pub counted: bool,
}

/// The counters one send keeps for good.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Counted opens (human or image proxy acting for a reader), repeats within the dedupe
    /// window counted once. Inferred opens are not included.
    pub opens: i64,
    /// Counted clicks, same rules.
    pub clicks: i64,
    /// Opens fetched by Apple's proxy, repeats within the dedupe window counted once.
    pub mpp_opens: i64,
    /// Hits by scanners, previews and bots (the honeypot hit included), kept apart.
    pub filtered: i64,
    /// Repeats of a counted or MPP hit within the dedupe window: people (or their proxy)
    /// again, so not in `filtered`, and not counted twice either.
    pub deduped: i64,
    /// Time the send was first opened: its first counted open, or its first counted click
    /// when that came earlier or no open counted (the reader saw the mail to click it).
    pub first_opened_at: Option<i64>,
    pub first_clicked_at: Option<i64>,
    /// Opened only because a counted click came with no counted open.
    pub open_inferred: bool,
}

impl Tally {
    /// What `self` adds over `before`: the counters subtracted; the times and the inferred
    /// flag are `self`'s, since they are states, not sums.
    pub fn diff(&self, before: &Tally) -> Tally {
        Tally {
            opens: self.opens - before.opens,
            clicks: self.clicks - before.clicks,
            mpp_opens: self.mpp_opens - before.mpp_opens,
            filtered: self.filtered - before.filtered,
            deduped: self.deduped - before.deduped,
            first_opened_at: self.first_opened_at,
            first_clicked_at: self.first_clicked_at,
            open_inferred: self.open_inferred,
        }
    }
}

/// The share of opens that came from Apple's proxy: `mpp_opens / (opens + mpp_opens)`, both
/// as counted (after de-duplication, inferred opens not included); `None` with no opens.
pub fn mpp_share(opens: i64, mpp_opens: i64) -> Option<f64> {
    let all = opens + mpp_opens;
    (all > 0).then(|| mpp_opens as f64 / all as f64)
}
