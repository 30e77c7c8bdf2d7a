//! Finds where the inserted markup goes: after the first `<body>`, before the last `</body>`.
//!
//! lol_html reports the `</body>` that closes the body element, which is the first one. Email
//! HTML pasted together from fragments can hold more; the pixel and footer belong before the
//! last real one. Raw `</body` matches after the first are checked by a second lol_html pass
//! over the rest of the input: one lying in text (a `<title>` or `<style>`), a comment or a
//! tag's attribute is not a tag. That pass only runs when such matches exist.

use std::cell::RefCell;
use std::ops::Range;

use encoding_rs::Encoding;
use lol_html::{
    AsciiCompatibleEncoding, HtmlRewriter, Settings, doc_comments, doc_text, doctype, element,
};
use memchr::memmem;

/// Offsets of every `</body` (any case) followed by a tag delimiter.
fn close_candidates(html: &[u8], from: usize) -> Vec<usize> {
    memmem::find_iter(&html[from..], b"</")
        .map(|offset| from + offset)
        .filter(|&at| {
            let name = html.get(at + 2..at + 6);
            let delimiter = html.get(at + 6);
            name.is_some_and(|name| name.eq_ignore_ascii_case(b"body"))
                && delimiter.is_some_and(|b| {
                    matches!(b, b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
                })
        })
        .collect()
}

/// The offset of the last real `</body>` tag, given the one lol_html confirmed.
pub fn last_close(
    html: &[u8],
    encoding: &'static Encoding,
    confirmed: Option<usize>,
) -> Option<usize> {
    let from = confirmed.map_or(0, |at| at + 1);
    let candidates = close_candidates(html, from);
    if candidates.is_empty() {
        return confirmed;
    }

    let not_tags = match ranges_that_are_not_end_tags(&html[from..], encoding) {
        Some(ranges) => ranges,
        None => return confirmed,
    };
    let is_real = |at: &usize| {
        let at = at - from;
        !not_tags.iter().any(|range| range.contains(&at))
    };
    candidates.into_iter().rev().find(is_real).or(confirmed)
}

/// The byte ranges of text, comments, doctypes and start tags in `html`.
fn ranges_that_are_not_end_tags(
    html: &[u8],
    encoding: &'static Encoding,
) -> Option<Vec<Range<usize>>> {
    let ranges = RefCell::new(Vec::new());
    let push = |range: Range<usize>| ranges.borrow_mut().push(range);
    let settings = Settings::new()
        .with_strict(false)
        .with_encoding(AsciiCompatibleEncoding::new(encoding)?)
        .append_element_content_handler(element!("*", |el| {
            push(el.source_location().bytes());
            Ok(())
        }))
        .append_document_content_handler(doc_text!(|text| {
            push(text.source_location().bytes());
            Ok(())
        }))
        .append_document_content_handler(doc_comments!(|comment| {
            push(comment.source_location().bytes());
            Ok(())
        }))
        .append_document_content_handler(doctype!(|doctype| {
            push(doctype.source_location().bytes());
            Ok(())
        }));

    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    rewriter.write(html).and_then(|()| rewriter.end()).ok()?;
    Some(ranges.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last(html: &str, confirmed: Option<usize>) -> Option<usize> {
        last_close(html.as_bytes(), encoding_rs::UTF_8, confirmed)
    }

    #[test]
    fn prefers_the_last_real_close() {
        let html = "<body>a</body>b</BODY >c";
        assert_eq!(last(html, Some(7)), Some(15));
        assert_eq!(last("<p>a</body>", None), Some(4));
    }

    #[test]
    fn skips_lookalikes() {
        let html = "<body></body><title></body></title><!--</body>--><p title='</body>'></bodyx>";
        assert_eq!(last(html, Some(6)), Some(6));
        assert_eq!(last("no body at all", None), None);
    }
}
