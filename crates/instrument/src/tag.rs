//! Reads the raw bytes of one start tag the way the HTML tokenizer does.
//!
//! lol_html finds the tags; this module finds where an attribute's value sits inside the
//! tag's source text, so the rewrite can replace those bytes and nothing else. A tag lol_html
//! re-serialised would lose its quoting, spacing and attribute case.

use std::ops::Range;

use crate::entities::Quote;

/// One attribute of a start tag, as offsets into the tag's raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAttribute {
    pub name: Range<usize>,
    /// The value between its quotes, or an empty range after the name when it has none.
    pub value: Range<usize>,
    pub quote: Quote,
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// The tag name's bytes (case as written); empty when `raw` is not a start tag.
pub fn name(raw: &[u8]) -> &[u8] {
    let Some(rest) = raw.strip_prefix(b"<") else {
        return &[];
    };
    let len = rest
        .iter()
        .take_while(|b| !is_space(**b) && **b != b'/' && **b != b'>')
        .count();
    &rest[..len]
}

/// The first attribute called `wanted` (ASCII lower case), as the tokenizer keeps the first
/// of duplicated attributes.
pub fn find(raw: &[u8], wanted: &str) -> Option<RawAttribute> {
    Attributes::new(raw).find(|attr| raw[attr.name.clone()].eq_ignore_ascii_case(wanted.as_bytes()))
}

/// The offset just past the `>` closing the tag that starts `raw`, or `raw.len()`.
pub fn end(raw: &[u8]) -> usize {
    let mut attributes = Attributes::new(raw);
    attributes.by_ref().for_each(drop);
    (attributes.at + 1).min(raw.len())
}

/// Iterates over a start tag's attributes in source order.
pub struct Attributes<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> Attributes<'a> {
    pub fn new(raw: &'a [u8]) -> Self {
        Attributes {
            raw,
            at: 1 + name(raw).len(),
        }
    }

    fn skip_while(&mut self, keep_going: impl Fn(u8) -> bool) {
        while self.at < self.raw.len() && keep_going(self.raw[self.at]) {
            self.at += 1;
        }
    }
}

impl Iterator for Attributes<'_> {
    type Item = RawAttribute;

    fn next(&mut self) -> Option<RawAttribute> {
        // Whitespace and stray solidi separate attributes.
        self.skip_while(|b| is_space(b) || b == b'/');
        if self.at >= self.raw.len() || self.raw[self.at] == b'>' {
            return None;
        }

        // The first character may be `=`; after that `=` ends the name.
        let name_start = self.at;
        self.at += 1;
        self.skip_while(|b| !is_space(b) && !matches!(b, b'/' | b'>' | b'='));
        let name = name_start..self.at;

        self.skip_while(is_space);
        if self.raw.get(self.at) != Some(&b'=') {
            let no_value = name.end..name.end;
            return Some(RawAttribute {
                name,
                value: no_value,
                quote: Quote::Unquoted,
            });
        }
        self.at += 1;
        self.skip_while(is_space);

        let (value, quote) = match self.raw.get(self.at) {
            Some(&quote_byte @ (b'"' | b'\'')) => {
                let start = self.at + 1;
                self.at = start;
                self.skip_while(|b| b != quote_byte);
                let value = start..self.at;
                self.at = (self.at + 1).min(self.raw.len());
                let quote = if quote_byte == b'"' {
                    Quote::Double
                } else {
                    Quote::Single
                };
                (value, quote)
            }
            _ => {
                let start = self.at;
                self.skip_while(|b| !is_space(b) && b != b'>');
                (start..self.at, Quote::Unquoted)
            }
        };
        Some(RawAttribute { name, value, quote })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(raw: &'a str, wanted: &str) -> Option<(&'a str, Quote)> {
        find(raw.as_bytes(), wanted).map(|attr| (&raw[attr.value], attr.quote))
    }

    #[test]
    fn reads_each_quoting() {
        assert_eq!(
            value(r#"<a  HREF = "x y">"#, "href"),
            Some(("x y", Quote::Double))
        );
        assert_eq!(
            value("<a href='x\"y'>", "href"),
            Some(("x\"y", Quote::Single))
        );
        assert_eq!(value("<a href=x/>", "href"), Some(("x/", Quote::Unquoted)));
        assert_eq!(value("<a href>", "href"), Some(("", Quote::Unquoted)));
    }

    #[test]
    fn keeps_the_first_of_duplicates_and_skips_lookalikes() {
        let raw = r#"<a data-href="no" xhref=no href="yes" href="later">"#;
        assert_eq!(value(raw, "href"), Some(("yes", Quote::Double)));
        assert_eq!(value(r#"<a title="href=no">"#, "href"), None);
        assert_eq!(
            value("<v:roundrect\nhref=\"u\"/>", "href"),
            Some(("u", Quote::Double))
        );
        assert_eq!(name(b"<v:roundrect\nhref"), b"v:roundrect");
    }

    #[test]
    fn survives_truncated_tags() {
        assert_eq!(
            value("<a href=\"open", "href"),
            Some(("open", Quote::Double))
        );
        assert_eq!(value("<a =x", "href"), None);
        assert_eq!(value("<", "href"), None);
    }
}
