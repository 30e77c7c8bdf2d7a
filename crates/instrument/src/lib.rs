//! Rewrites an email's HTML and text parts for open and click tracking.
//!
//! This crate owns the instrumentation rules and nothing else: it does no I/O, knows no
//! database and mints no tokens. The caller says how a link position becomes a tracked URL
//! (`Tracking::click_url`), and gets back the rewritten parts plus a report of every link it
//! found. Everything outside the rewritten attribute values and the inserted markup is kept
//! byte for byte.
//!
//! What changes, exactly: a tracked link's href value is replaced whole (surrounding
//! whitespace inside the quotes included) by the escaped tracked URL, in the value's original
//! quoting; the footer, honeypot and pixel are inserted. lol_html only observes (its output is
//! discarded) and the result is spliced from the input bytes, so tags are never
//! re-serialised. Code map: `html` (the lol_html pass), `conditional` (VML in Outlook
//! comments), `tag` (raw attribute spans), `links` (skip rules, positions), `entities`,
//! `merge_tags`, `charset`, `body` (where markup goes), `pixel`, `text`, `edits` (splice).
//!
//! CONTRACT (used by the `mailtally` crate; keep these names and meanings stable):
//! - `instrument(&Email, &Settings) -> Instrumented`, infallible: bad markup is passed through.
//! - Link positions are 0-based, in document order; the same position is reused for a VML
//!   button and the `<a>` that stands for it, and for a text-part URL equal to an HTML link.
//! - `Instrumented::links[i].url` is the exact redirect target (entities decoded once).
//! - With `settings.tracking == None` nothing is rewritten and no pixel is added, but the
//!   footer is still inserted (compliance does not depend on tracking).

mod body;
mod charset;
mod conditional;
mod edits;
mod entities;
mod html;
mod links;
mod merge_tags;
mod pixel;
mod tag;
mod text;

use crate::edits::Edit;

/// One email as written by its author.
#[derive(Debug, Clone, Default)]
pub struct Email<'a> {
    /// The HTML part's raw bytes, in whatever charset it declares (UTF-8 when none).
    pub html: &'a [u8],
    /// The plain-text part, when the author wrote one.
    pub text: Option<&'a str>,
    /// The HTML is UTF-8 whatever it declares: it arrived as Unicode text (from JSON or a
    /// template), so a `<meta charset>` left in it describes bytes that no longer exist.
    pub known_utf8: bool,
}

/// How to instrument one send.
pub struct Settings<'a> {
    /// `None` when tracking is off for this send: only the footer is added.
    pub tracking: Option<Tracking<'a>>,
    /// The send's unsubscribe URL; links to it are never rewritten.
    pub unsubscribe_url: &'a str,
    /// Footer markup inserted before the pixel, before the last `</body>` (ASCII only).
    pub footer_html: &'a str,
    /// Footer appended to the text part.
    pub footer_text: &'a str,
}

/// The tracked URLs of one send.
pub struct Tracking<'a> {
    /// Builds the tracked URL of a link position.
    pub click_url: &'a dyn Fn(u32) -> String,
    /// The open pixel's URL.
    pub open_url: &'a str,
    /// A hidden link no person follows; `None` leaves it out.
    pub honeypot_url: Option<&'a str>,
}

/// The instrumented parts and what was done to them.
#[derive(Debug, Clone, Default)]
pub struct Instrumented {
    /// The rewritten HTML, in the same charset as the input.
    pub html: Vec<u8>,
    /// The charset the HTML declared (lower case), `utf-8` when it declared none. Two
    /// exceptions, each with a warning: undeclared bytes that are not valid UTF-8 report
    /// `windows-1252`, and an unknown or non-ASCII-compatible declaration reports `utf-8`.
    pub charset: String,
    /// The rewritten text part, when there was one.
    pub text: Option<String>,
    /// One entry per link position, in position order.
    pub links: Vec<TrackedLink>,
    /// Links found but left alone, with the reason.
    pub skipped: Vec<SkippedLink>,
    /// Things the author should know, such as a pixel moved after `<body>`.
    pub warnings: Vec<String>,
}

/// A link position and where it redirects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedLink {
    pub position: u32,
    pub url: String,
}

/// A link left as the author wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLink {
    pub href: String,
    pub reason: SkipReason,
}

/// Why a link was not tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Not http(s): mailto:, tel:, sms:, javascript:, data:, a #fragment or a relative URL.
    Scheme,
    /// The href still holds an unrendered merge tag.
    MergeTag,
    /// The author marked it `data-no-track`.
    NoTrack,
    /// It is the unsubscribe link.
    Unsubscribe,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Scheme => "scheme",
            SkipReason::MergeTag => "merge_tag",
            SkipReason::NoTrack => "no_track",
            SkipReason::Unsubscribe => "unsubscribe",
        }
    }
}

/// Instruments one email. Never fails: markup the parser cannot follow is passed through.
pub fn instrument(email: &Email<'_>, settings: &Settings<'_>) -> Instrumented {
    let charset = if email.known_utf8 {
        charset::Charset::utf8()
    } else {
        charset::detect(email.html)
    };
    let mut warnings: Vec<String> = charset.warning.clone().into_iter().collect();
    let findings = match html::scan(email.html, charset.encoding, settings) {
        Ok(findings) => findings,
        Err(error) => {
            warnings.push(format!(
                "html could not be parsed ({error}); links left as written"
            ));
            html::Findings::default()
        }
    };
    let html::Findings {
        mut ledger,
        mut edits,
        body_open_end,
        body_close,
    } = findings;

    // The footer, then the honeypot and the pixel, go before the last `</body>`.
    let close_at =
        body::last_close(email.html, charset.encoding, body_close).unwrap_or(email.html.len());
    let encode = |markup: &str| charset.encoding.encode(markup).0.into_owned();
    edits.push(Edit {
        range: close_at..close_at,
        bytes: encode(settings.footer_html),
    });
    if let Some(tracking) = &settings.tracking {
        let mut markup = tracking
            .honeypot_url
            .map(pixel::honeypot)
            .unwrap_or_default();
        markup.push_str(&pixel::pixel(tracking.open_url));
        let markup = encode(&markup);
        let size = email.html.len() + edits::growth(&edits) + markup.len();
        let at = match (size > pixel::CLIP_LIMIT, body_open_end) {
            (false, _) => close_at,
            (true, Some(body_open_end)) => {
                warnings.push(format!(
                    "html is {size} bytes once instrumented, over Gmail's 102 KB clipping \
                     limit: open pixel placed right after <body>"
                ));
                body_open_end
            }
            (true, None) => {
                warnings.push(format!(
                    "html is {size} bytes once instrumented, over Gmail's 102 KB clipping \
                     limit, and has no <body> tag: open pixel left at the end, where Gmail \
                     clips it"
                ));
                close_at
            }
        };
        edits.push(Edit {
            range: at..at,
            bytes: markup,
        });
    }
    let html = edits::apply(email.html, edits);

    let text = email.text.map(|text| {
        let mut text = match &settings.tracking {
            Some(tracking) => text::rewrite(text, &mut ledger, tracking, settings),
            None => text.to_owned(),
        };
        text.push_str(settings.footer_text);
        text
    });

    Instrumented {
        html,
        charset: charset.label,
        text,
        links: ledger.links,
        skipped: ledger.skipped,
        warnings,
    }
}
