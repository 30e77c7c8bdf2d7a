//! Links inside Outlook conditional comments (`<!--[if mso]> ... <![endif]-->`).
//!
//! To an HTML parser that markup is comment text, so the main pass never sees the VML
//! buttons Outlook draws from it. The body of a comment that could hold a link is scanned for
//! start tags by hand: a nested lol_html rewriter per comment cost more than the whole
//! document's pass on MJML emails, and conditional bodies hold plain tags and CSS only.

use std::ops::Range;

use memchr::memmem;

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

/// Whether `needle` (ASCII lower case) occurs in `haystack`, ignoring ASCII case.
pub fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    let first = needle[0];
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), haystack).any(|at| {
        haystack
            .get(at..at + needle.len())
            .is_some_and(|window| window.eq_ignore_ascii_case(needle))
    })
}

/// A quick look at the raw bytes: whether any `<!--[if` comment mentions `href`. When none
/// does, the main pass skips comments altogether, which keeps lol_html in its fast mode.
pub fn may_hold_links(html: &[u8]) -> bool {
    memmem::find_iter(html, b"<!--[").any(|start| {
        let body = &html[start + 4..];
        let end = memmem::find(body, b"-->").unwrap_or(body.len());
        linkable_body(&html[start..start + 4 + end]).is_some()
    })
}

/// The body of a downlevel-hidden conditional comment that may hold a link: the bytes
/// between `<!--` and `-->`, with their offset in the comment.
pub fn linkable_body(raw_comment: &[u8]) -> Option<(usize, &[u8])> {
    let body = raw_comment.strip_prefix(b"<!--")?;
    let body = body.strip_suffix(b"-->").unwrap_or(body);
    let is_conditional = body.len() >= 3 && body[..3].eq_ignore_ascii_case(b"[if");
    let mentions_href = contains_ignore_case(body, b"href");
    (is_conditional && mentions_href).then_some((4, body))
}

/// The link start tags in a conditional comment's body, as ranges into `body`.
pub fn link_tags(body: &[u8]) -> Vec<(Range<usize>, LinkKind)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = memchr::memchr(b'<', &body[at..]) {
        let start = at + offset;
        let opens_start_tag = body.get(start + 1).is_some_and(u8::is_ascii_alphabetic);
        if !opens_start_tag {
            at = start + 1;
            continue;
        }

        let end = start + tag::end(&body[start..]);
        let raw_tag = &body[start..end];
        let closed = raw_tag.ends_with(b">");
        if let Some(kind) = LinkKind::of(raw_tag).filter(|_| closed) {
            found.push((start..end, kind));
        }
        at = end.max(start + 1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_vml_and_anchors_but_not_stylesheets() {
        let comment = concat!(
            r#"<!--[if mso]><link href="f.css"><v:roundrect href="https://a.example/">"#,
            "<a HREF=x>x</a><p a='<a href=no>'><![endif]-->"
        )
        .as_bytes();
        let (offset, body) = linkable_body(comment).unwrap();
        let tags = link_tags(body);
        let kinds: Vec<_> = tags.iter().map(|(_, kind)| *kind).collect();
        assert_eq!(kinds, [LinkKind::Vml, LinkKind::Anchor]);
        let first = &comment[offset + tags[0].0.start..offset + tags[0].0.end];
        assert_eq!(first, br#"<v:roundrect href="https://a.example/">"#);
    }

    #[test]
    fn prescan_finds_only_linked_conditionals() {
        assert!(may_hold_links(
            b"<p><!--[if mso]><v:rect HREF=x><![endif]-->"
        ));
        assert!(!may_hold_links(
            b"<!--[if mso]><table><![endif]--><a href=x>"
        ));
        assert!(!may_hold_links(b"<!-- href --><!--[if IE]>x<![endif]-->"));
    }

    #[test]
    fn ignores_plain_comments() {
        assert!(linkable_body(b"<!-- <a href=x> -->").is_none());
        assert!(linkable_body(b"<!--[if mso]><table><![endif]-->").is_none());
    }
}
