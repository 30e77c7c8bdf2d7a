//! Finds the charset an HTML part declares, so its bytes can stay in that charset.
//!
//! A reduced form of the WHATWG prescan: a byte order mark, then `<meta charset>` or
//! `<meta http-equiv="content-type" content="...; charset=...">` in the first 1024 bytes,
//! with comments skipped. lol_html only reads ASCII-compatible encodings; a declaration of
//! UTF-16 means UTF-8 (as in browsers), and one we cannot honour falls back to UTF-8.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use crate::tag;

/// How far the prescan looks for a `<meta>` declaration, as in the HTML standard.
const PRESCAN_LEN: usize = 1024;

/// The charset to read and write the HTML part in.
#[derive(Debug, Clone)]
pub struct Charset {
    pub encoding: &'static Encoding,
    /// The declared label, lower case; `utf-8` when nothing usable was declared.
    pub label: String,
    /// Set when the declaration could not be honoured.
    pub warning: Option<String>,
}

impl Charset {
    pub fn utf8() -> Charset {
        Charset {
            encoding: UTF_8,
            label: "utf-8".into(),
            warning: None,
        }
    }
}

/// Reads the declared charset of `html`.
pub fn detect(html: &[u8]) -> Charset {
    if html.starts_with(b"\xef\xbb\xbf") {
        return Charset::utf8();
    }
    let Some(declared) = declared_label(html) else {
        return undeclared(html);
    };

    let label = String::from_utf8_lossy(&declared)
        .trim()
        .to_ascii_lowercase();
    match Encoding::for_label_no_replacement(label.as_bytes()) {
        Some(encoding) if encoding.is_ascii_compatible() => Charset {
            encoding: friendly(encoding),
            label,
            warning: None,
        },
        Some(_) => Charset::utf8(),
        None => Charset {
            warning: Some(format!("unknown charset `{label}` declared; read as utf-8")),
            ..Charset::utf8()
        },
    }
}

/// No declaration: UTF-8, unless the bytes cannot be UTF-8. Then they are almost always an
/// old Western mail (Outlook 2000 and the like), and Windows-1252, the superset of
/// ISO-8859-1 browsers use for undeclared legacy pages, reads them as the author saw them.
fn undeclared(html: &[u8]) -> Charset {
    if std::str::from_utf8(html).is_ok() {
        return Charset::utf8();
    }
    Charset {
        encoding: WINDOWS_1252,
        label: "windows-1252".into(),
        warning: Some("no charset declared and the html is not utf-8; read as windows-1252".into()),
    }
}

/// `x-user-defined` is a browser-only decoder; treat it as its Windows-1252 sibling.
fn friendly(encoding: &'static Encoding) -> &'static Encoding {
    if encoding.name() == "x-user-defined" {
        WINDOWS_1252
    } else {
        encoding
    }
}

fn declared_label(html: &[u8]) -> Option<Vec<u8>> {
    let mut at = 0;
    while at < html.len().min(PRESCAN_LEN) {
        let rest = &html[at..];
        if rest.starts_with(b"<!--") {
            at += 4 + find(&rest[4..], b"-->").map_or(rest.len(), |end| end + 3);
            continue;
        }
        if starts_with_ignore_case(rest, b"<meta")
            && rest
                .get(5)
                .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            let tag_len = tag::end(rest);
            if let Some(label) = meta_charset(&rest[..tag_len]) {
                return Some(label);
            }
            at += tag_len.max(1);
            continue;
        }

        let opens_tag = rest.first() == Some(&b'<')
            && rest
                .get(1)
                .is_some_and(|b| b.is_ascii_alphabetic() || b"/!?".contains(b));
        at += if opens_tag { tag::end(rest).max(1) } else { 1 };
    }
    None
}

fn meta_charset(raw: &[u8]) -> Option<Vec<u8>> {
    let value = |name: &str| tag::find(raw, name).map(|attr| &raw[attr.value]);
    if let Some(charset) = value("charset") {
        return Some(charset.to_vec());
    }
    let is_content_type = value("http-equiv")
        .is_some_and(|equiv| equiv.trim_ascii().eq_ignore_ascii_case(b"content-type"));
    if !is_content_type {
        return None;
    }
    charset_from_content(value("content")?)
}

/// Extracts the charset from a `content="text/html; charset=..."` value.
fn charset_from_content(content: &[u8]) -> Option<Vec<u8>> {
    let lower = content.to_ascii_lowercase();
    let start = find(&lower, b"charset")? + b"charset".len();
    let rest = content[start..]
        .trim_ascii_start()
        .strip_prefix(b"=")?
        .trim_ascii_start();
    let label = match rest.first() {
        Some(&quote @ (b'"' | b'\'')) => rest[1..].split(|b| *b == quote).next()?,
        _ => rest
            .split(|b| b.is_ascii_whitespace() || *b == b';')
            .next()?,
    };
    (!label.is_empty()).then(|| label.to_vec())
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(html: &str) -> String {
        detect(html.as_bytes()).label
    }

    #[test]
    fn reads_both_meta_forms() {
        assert_eq!(label(r#"<meta charset="ISO-8859-1">"#), "iso-8859-1");
        assert_eq!(
            label("<META content=\"text/html; charset=windows-1252\" http-equiv=Content-Type>"),
            "windows-1252"
        );
        assert_eq!(
            label("<meta http-equiv=content-type content='text/html;charset=\"koi8-r\"'>"),
            "koi8-r"
        );
        assert_eq!(
            detect(b"<meta charset=iso-8859-5>").encoding.name(),
            "ISO-8859-5"
        );
    }

    #[test]
    fn skips_comments_and_falls_back() {
        assert_eq!(label("<!-- <meta charset=latin1> --><p>"), "utf-8");
        assert_eq!(label("<meta charset=utf-16le>"), "utf-8");
        assert!(detect(b"<meta charset=nonsense>").warning.is_some());
        assert_eq!(
            label(r#"<meta name="x" content="charset=latin1">"#),
            "utf-8"
        );
    }
}
