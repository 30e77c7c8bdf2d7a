//! Shared helpers for the integration tests: one way to run the instrumenter, and an undo
//! that strips what it added and puts the author's href values back.

#![allow(dead_code)] // Each test file uses its own part of these helpers.

use mailtally_instrument::{Email, Instrumented, Settings, Tracking, instrument};

pub const CLICK: &str = "https://t.invalid/c/";
pub const OPEN: &str = "https://t.invalid/o.gif";
pub const HONEYPOT: &str = "https://t.invalid/h";
pub const UNSUB: &str = "https://t.invalid/unsubscribe/abc";
pub const FOOTER_HTML: &str =
    "<p class=\"mt-footer\"><a href=\"https://t.invalid/unsubscribe/abc\">Unsubscribe</a></p>";
pub const FOOTER_TEXT: &str = "\n-- \nUnsubscribe: https://t.invalid/unsubscribe/abc\n";

/// The tracked URL of a position; the trailing `/` keeps `/1/` apart from `/12/`.
pub fn click_url(position: u32) -> String {
    format!("{CLICK}{position}/")
}

/// Instruments `html` (and `text`) with the test settings, tracking on.
pub fn run(html: &[u8], text: Option<&str>) -> Instrumented {
    let tracking = Tracking {
        click_url: &click_url,
        open_url: OPEN,
        honeypot_url: Some(HONEYPOT),
    };
    let settings = Settings {
        tracking: Some(tracking),
        unsubscribe_url: UNSUB,
        footer_html: FOOTER_HTML,
        footer_text: FOOTER_TEXT,
    };
    instrument(
        &Email {
            html,
            text,
            known_utf8: false,
        },
        &settings,
    )
}

/// The pixel markup's opening, which must occur exactly once.
pub fn pixel_start() -> String {
    format!("<img src=\"{OPEN}\"")
}

pub fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle)
        .count()
}

fn find_from(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| at + from)
}

/// Removes the one occurrence of the markup running from `start` to the end of `end`.
fn remove_once(bytes: &mut Vec<u8>, start: &[u8], end: &[u8], what: &str) -> Result<(), String> {
    let found = count(bytes, start);
    if found != 1 {
        return Err(format!("{what} occurs {found} times, expected once"));
    }
    let at = find_from(bytes, start, 0).unwrap();
    let stop = find_from(bytes, end, at).ok_or_else(|| format!("{what} is not closed"))?;
    bytes.drain(at..stop + end.len());
    Ok(())
}

/// One tracked href found in the output: its position and the input bytes it replaced.
#[derive(Debug)]
pub struct Restored {
    pub position: u32,
    pub original: Vec<u8>,
}

/// Undoes the instrumentation of `input`: removes the footer, honeypot and pixel, puts each
/// original href value back in place of its tracked URL, and checks that the result is the
/// input byte for byte. Returns the replaced values in document order.
pub fn restore(input: &[u8], output: &[u8]) -> Result<Vec<Restored>, String> {
    let mut stripped = output.to_vec();
    remove_once(&mut stripped, pixel_start().as_bytes(), b"/>", "the pixel")?;
    let honeypot_start = format!("<a href=\"{HONEYPOT}\"");
    remove_once(
        &mut stripped,
        honeypot_start.as_bytes(),
        b"</a>",
        "the honeypot",
    )?;
    remove_once(&mut stripped, FOOTER_HTML.as_bytes(), b"</p>", "the footer")?;

    let mut restored = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let Some(marker) = find_from(&stripped, CLICK.as_bytes(), j) {
        let same = stripped[j..marker].to_vec();
        if input.get(i..i + same.len()) != Some(&same[..]) {
            return Err(format!(
                "output differs from the input before byte {i} of the input"
            ));
        }
        i += same.len();

        let digits_at = marker + CLICK.len();
        let digits = stripped[digits_at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let position: u32 = std::str::from_utf8(&stripped[digits_at..digits_at + digits])
            .unwrap()
            .parse()
            .map_err(|_| format!("tracked URL without a position at output byte {marker}"))?;
        j = digits_at + digits + 1;

        let quote = stripped[marker - 1];
        let value_len = input[i..]
            .iter()
            .position(|&b| match quote {
                b'"' | b'\'' => b == quote,
                _ => b.is_ascii_whitespace() || b == b'>',
            })
            .unwrap_or(input.len() - i);
        restored.push(Restored {
            position,
            original: input[i..i + value_len].to_vec(),
        });
        i += value_len;
    }
    if input[i..] != stripped[j..] {
        return Err(format!(
            "output differs from the input after byte {i} of the input"
        ));
    }
    Ok(restored)
}

/// A test-side reading of the references the fixtures use (numeric ones and a few names),
/// written apart from the crate's decoder.
pub fn decode_simple(raw: &str) -> String {
    let names = [
        ("amp", '&'),
        ("quot", '"'),
        ("lt", '<'),
        ("gt", '>'),
        ("szlig", '\u{df}'),
    ];
    let mut out = String::new();
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let semi = rest.find(';').unwrap_or(0);
        let body = &rest[1..semi.max(1)];
        let numeric = body
            .strip_prefix('#')
            .and_then(|n| match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => n.parse().ok(),
            });
        let named = names
            .iter()
            .find(|(name, _)| *name == body)
            .map(|(_, c)| *c);
        match numeric.and_then(char::from_u32).or(named) {
            Some(decoded) if semi > 0 => {
                out.push(decoded);
                rest = &rest[semi + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether the test expects `url` to count as holding a merge tag.
pub fn looks_merged(url: &str) -> bool {
    let pairs = [("{{", "}}"), ("*|", "|*"), ("[[", "]]"), ("{%", "%}")];
    let paired = pairs
        .iter()
        .any(|(open, close)| url.contains(open) && url.contains(close));
    // `%NAME%` with a letter no hex escape has, so `%C3%A9` never counts.
    let percent = url.split('%').skip(1).collect::<Vec<_>>();
    let percent_tag = percent.len() >= 2
        && percent[..percent.len() - 1].iter().any(|name| {
            name.len() >= 3
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && name
                    .bytes()
                    .any(|b| b.is_ascii_alphabetic() && !b.is_ascii_hexdigit())
        });
    paired || percent_tag
}
