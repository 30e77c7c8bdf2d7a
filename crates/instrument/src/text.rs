//! Rewrites the plain-text part: its http(s) URLs become tracked links too.
//!
//! URLs are found by a small scanner rather than a regex: a URL starts at `http://` or
//! `https://` and runs to whitespace or an angle bracket or quote; trailing sentence
//! punctuation and an unmatched closing bracket are left outside it, as mail clients do.

use crate::links::{self, Ledger};
use crate::{Settings, Tracking};

/// The byte ranges of the http(s) URLs in `text`.
fn urls(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let starts_url = starts_with_ignore_case(&bytes[at..], b"http://")
            || starts_with_ignore_case(&bytes[at..], b"https://");
        let glued_to_word = at > 0 && bytes[at - 1].is_ascii_alphanumeric();
        if !starts_url || glued_to_word {
            at += 1;
            continue;
        }

        let len = text[at..]
            .find(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(text.len() - at);
        let end = at + trimmed_len(&text[at..at + len]);
        let scheme_only = text[at..end].ends_with("//");
        if !scheme_only {
            found.push(at..end);
        }
        at += len.max(1);
    }
    found
}

/// The length of `candidate` without trailing punctuation and unmatched closing brackets.
fn trimmed_len(candidate: &str) -> usize {
    let mut url = candidate;
    loop {
        let Some(last) = url.chars().last() else {
            return 0;
        };
        let unmatched = match last {
            ')' => url.matches('(').count() < url.matches(')').count(),
            ']' => url.matches('[').count() < url.matches(']').count(),
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' => true,
            _ => false,
        };
        if !unmatched {
            return url.len();
        }
        url = &url[..url.len() - last.len_utf8()];
    }
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Rewrites `text`'s URLs; the ledger already holds the HTML part's links.
pub fn rewrite(
    text: &str,
    ledger: &mut Ledger,
    tracking: &Tracking<'_>,
    settings: &Settings<'_>,
) -> String {
    let html_links = ledger.links.len();
    let mut out = String::with_capacity(text.len() + settings.footer_text.len());
    let mut copied = 0;
    for range in urls(text) {
        let url = &text[range.clone()];
        if let Some(reason) = links::skip_reason(url, false, settings.unsubscribe_url) {
            ledger.skip(url.to_owned(), reason, false);
            continue;
        }

        let html_twin = ledger.links[..html_links]
            .iter()
            .find(|link| link.url == url);
        let position = match html_twin {
            Some(link) => link.position,
            None => ledger.push(url.to_owned()),
        };
        out.push_str(&text[copied..range.start]);
        out.push_str(&(tracking.click_url)(position));
        copied = range.end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        urls(text).into_iter().map(|range| &text[range]).collect()
    }

    #[test]
    fn finds_urls_in_prose() {
        assert_eq!(
            found("See https://a.example/x?y=1. Or (http://b.example/(z)), <https://c.example>!"),
            [
                "https://a.example/x?y=1",
                "http://b.example/(z)",
                "https://c.example"
            ]
        );
        assert_eq!(
            found("xhttp://no.example https:// HTTPS://B\u{fc}cher.example/\u{df}"),
            ["HTTPS://B\u{fc}cher.example/\u{df}"]
        );
    }
}
