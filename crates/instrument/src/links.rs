//! Decides which links are tracked and hands out link positions.
//!
//! Positions follow document order. Two rules bend that: an Outlook VML button and the `<a>`
//! standing in for it elsewhere share one position (issue 3, item 1), and a text-part URL
//! reuses the position of the first HTML link with the same URL (item 4).

use crate::{SkipReason, SkippedLink, TrackedLink, merge_tags};

/// Why `url` (entities decoded, trimmed) is not tracked, or `None` when it is.
pub fn skip_reason(url: &str, no_track: bool, unsubscribe_url: &str) -> Option<SkipReason> {
    if no_track {
        return Some(SkipReason::NoTrack);
    }
    if !unsubscribe_url.is_empty() && url == unsubscribe_url {
        return Some(SkipReason::Unsubscribe);
    }

    // An explicit foreign scheme wins over a merge tag: `mailto:{{email}}` is never tracked.
    let scheme = scheme(url);
    let foreign_scheme = scheme.is_some_and(|s| !is_http(s));
    if foreign_scheme || url.starts_with('#') {
        return Some(SkipReason::Scheme);
    }
    if merge_tags::contains(url) {
        return Some(SkipReason::MergeTag);
    }
    let is_web = match scheme {
        Some(scheme) if is_http(scheme) => url[scheme.len() + 1..].starts_with("//"),
        _ => false,
    };
    if !is_web {
        return Some(SkipReason::Scheme);
    }
    None
}

/// The scheme of `url` per RFC 3986 (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`).
fn scheme(url: &str) -> Option<&str> {
    let colon = url.find(':')?;
    let candidate = &url[..colon];
    let mut chars = candidate.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then_some(candidate)
}

fn is_http(scheme: &str) -> bool {
    scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
}

/// Trims the ASCII whitespace browsers strip from an href.
pub fn trim(url: &str) -> &str {
    url.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c'))
}

/// The report being built: positions handed out so far, and the links left alone.
#[derive(Debug, Default)]
pub struct Ledger {
    pub links: Vec<TrackedLink>,
    pub skipped: Vec<SkippedLink>,
    /// The last VML button's position and URL, until the next `<a>` claims or drops it.
    pending_vml: Option<u32>,
}

impl Ledger {
    /// A tracked VML button: a new position the next `<a>` may share.
    pub fn vml_button(&mut self, url: String) -> u32 {
        let position = self.push(url);
        self.pending_vml = Some(position);
        position
    }

    /// A tracked `<a>` or `<area>`: the VML button's position if it stands for that button.
    pub fn link(&mut self, url: String, is_anchor: bool) -> u32 {
        let twin = if is_anchor {
            self.pending_vml.take()
        } else {
            None
        };
        match twin {
            Some(position) if self.links[position as usize].url == url => position,
            _ => self.push(url),
        }
    }

    /// A link left alone; an `<a>` still ends the wait for a VML button's twin.
    pub fn skip(&mut self, href: String, reason: SkipReason, is_anchor: bool) {
        if is_anchor {
            self.pending_vml = None;
        }
        self.skipped.push(SkippedLink { href, reason });
    }

    pub fn push(&mut self, url: String) -> u32 {
        let position = self.links.len() as u32;
        self.links.push(TrackedLink { position, url });
        position
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNSUB: &str = "https://t.example/u/1";

    fn reason(url: &str) -> Option<SkipReason> {
        skip_reason(url, false, UNSUB)
    }

    #[test]
    fn tracks_web_links_only() {
        assert_eq!(reason("https://a.example/x?y#z"), None);
        assert_eq!(reason("HTTP://a.example"), None);
        for url in [
            "mailto:a@b",
            "tel:+1",
            "sms:1",
            "javascript:x()",
            "data:,x",
            "#top",
        ] {
            assert_eq!(reason(url), Some(SkipReason::Scheme), "{url}");
        }
        for url in ["/path", "page.html", "//cdn.example/x", "", "http:relative"] {
            assert_eq!(reason(url), Some(SkipReason::Scheme), "{url}");
        }
    }

    #[test]
    fn names_the_most_useful_reason() {
        assert_eq!(reason("{{action_url}}"), Some(SkipReason::MergeTag));
        assert_eq!(
            reason("https://a.example/*|ID|*"),
            Some(SkipReason::MergeTag)
        );
        assert_eq!(reason("mailto:{{email}}"), Some(SkipReason::Scheme));
        assert_eq!(reason(UNSUB), Some(SkipReason::Unsubscribe));
        assert_eq!(skip_reason(UNSUB, true, UNSUB), Some(SkipReason::NoTrack));
    }

    #[test]
    fn vml_twin_shares_only_with_the_next_anchor() {
        let mut ledger = Ledger::default();
        let button = ledger.vml_button("https://a.example/".into());
        assert_eq!(ledger.link("https://a.example/".into(), true), button);
        assert_ne!(ledger.link("https://a.example/".into(), true), button);

        let other = ledger.vml_button("https://b.example/".into());
        assert_ne!(ledger.link("https://c.example/".into(), true), other);
        assert_ne!(ledger.link("https://b.example/".into(), true), other);
    }
}
