//! Links inside Outlook conditional comments (`<!--[if mso]> ... <![endif]-->`).
//!
//! To an HTML parser that markup is comment text, so the main pass never sees the VML
//! buttons Outlook draws from it. Comments that could hold a link are parsed again, on their
//! own, by a nested lol_html pass.

use std::cell::RefCell;
use std::ops::Range;

use encoding_rs::Encoding;
use lol_html::{AsciiCompatibleEncoding, HtmlRewriter, Settings, element};

use crate::tag;

/// What kind of element a link lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Anchor,
    Area,
    /// A VML shape such as `<v:roundrect href>`, drawn by Outlook only.
    Vml,
}

impl LinkKind {
    /// The kind of a start tag with an `href`; `None` for `<link>`, `<base>` and the like.
    pub fn of(raw_tag: &[u8]) -> Option<LinkKind> {
        let name = tag::name(raw_tag);
        if name.eq_ignore_ascii_case(b"a") {
            Some(LinkKind::Anchor)
        } else if name.eq_ignore_ascii_case(b"area") {
            Some(LinkKind::Area)
        } else if name.len() > 2 && name[..2].eq_ignore_ascii_case(b"v:") {
            Some(LinkKind::Vml)
        } else {
            None
        }
    }
}

/// The body of a downlevel-hidden conditional comment that may hold a link: the bytes
/// between `<!--` and `-->`, with their offset in the comment.
pub fn linkable_body(raw_comment: &[u8]) -> Option<(usize, &[u8])> {
    let body = raw_comment.strip_prefix(b"<!--")?;
    let body = body.strip_suffix(b"-->").unwrap_or(body);
    let is_conditional = body.len() >= 3 && body[..3].eq_ignore_ascii_case(b"[if");
    let mentions_href = body
        .windows(4)
        .any(|window| window.eq_ignore_ascii_case(b"href"));
    (is_conditional && mentions_href).then_some((4, body))
}

/// The link start tags in a conditional comment's body, as ranges into `body`.
pub fn link_tags(body: &[u8], encoding: &'static Encoding) -> Vec<(Range<usize>, LinkKind)> {
    let found = RefCell::new(Vec::new());
    let Some(encoding) = AsciiCompatibleEncoding::new(encoding) else {
        return Vec::new();
    };
    let settings = Settings::new()
        .with_strict(false)
        .with_encoding(encoding)
        .append_element_content_handler(element!("[href]", |el| {
            let range = el.source_location().bytes();
            if let Some(kind) = body.get(range.clone()).and_then(LinkKind::of) {
                found.borrow_mut().push((range, kind));
            }
            Ok(())
        }));

    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    // A failed nested pass leaves that comment's links as written; nothing else depends on it.
    let parsed = rewriter.write(body).and_then(|()| rewriter.end());
    if parsed.is_err() {
        return Vec::new();
    }
    found.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_vml_and_anchors_but_not_stylesheets() {
        let comment = br#"<!--[if mso]><link href="f.css"><v:roundrect href="https://a.example/"><a HREF=x>x</a><![endif]-->"#;
        let (offset, body) = linkable_body(comment).unwrap();
        let tags = link_tags(body, encoding_rs::UTF_8);
        let kinds: Vec<_> = tags.iter().map(|(_, kind)| *kind).collect();
        assert_eq!(kinds, [LinkKind::Vml, LinkKind::Anchor]);
        let first = &comment[offset + tags[0].0.start..offset + tags[0].0.end];
        assert_eq!(first, br#"<v:roundrect href="https://a.example/">"#);
    }

    #[test]
    fn ignores_plain_comments() {
        assert!(linkable_body(b"<!-- <a href=x> -->").is_none());
        assert!(linkable_body(b"<!--[if mso]><table><![endif]-->").is_none());
    }
}
