//! HTML character references: decoding an attribute value once, and escaping a new one.
//!
//! Decoding follows the WHATWG tokenizer's rules for attribute values, including the legacy
//! rule that keeps `&copy=1` in a query string as written. The named table holds the
//! Latin-1 set, the five XML names and the punctuation names that turn up in URLs; any other
//! named reference is kept as written (see `NAMED`).

/// Names that may appear without `;` (the HTML legacy set), mapped to their code point.
/// The Latin-1 names from U+00A0 to U+00FF are in `LATIN1`, in code point order.
const LEGACY: &[(&str, char)] = &[
    ("amp", '&'),
    ("AMP", '&'),
    ("lt", '<'),
    ("LT", '<'),
    ("gt", '>'),
    ("GT", '>'),
    ("quot", '"'),
    ("QUOT", '"'),
    ("COPY", '\u{a9}'),
    ("REG", '\u{ae}'),
];

/// The Latin-1 names, U+00A0 to U+00FF; all of them are legacy names.
const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// Names that need their `;`. Only a subset of the HTML table: the ones seen in URLs and
/// link text. A reference missing here stays as written, which keeps the URL the author's.
const NAMED: &[(&str, char)] = &[
    ("apos", '\''),
    ("sol", '/'),
    ("colon", ':'),
    ("quest", '?'),
    ("equals", '='),
    ("num", '#'),
    ("percnt", '%'),
    ("period", '.'),
    ("comma", ','),
    ("semi", ';'),
    ("excl", '!'),
    ("dollar", '$'),
    ("plus", '+'),
    ("lowbar", '_'),
    ("hyphen", '-'),
    ("dash", '\u{2010}'),
    ("lpar", '('),
    ("rpar", ')'),
    ("lsqb", '['),
    ("rsqb", ']'),
    ("lbrack", '['),
    ("rbrack", ']'),
    ("lcub", '{'),
    ("rcub", '}'),
    ("lbrace", '{'),
    ("rbrace", '}'),
    ("ast", '*'),
    ("commat", '@'),
    ("bsol", '\\'),
    ("verbar", '|'),
    ("vert", '|'),
    ("grave", '`'),
    ("Hat", '^'),
    ("tilde", '\u{2dc}'),
    ("Tab", '\t'),
    ("NewLine", '\n'),
    ("ndash", '\u{2013}'),
    ("mdash", '\u{2014}'),
    ("lsquo", '\u{2018}'),
    ("rsquo", '\u{2019}'),
    ("sbquo", '\u{201a}'),
    ("ldquo", '\u{201c}'),
    ("rdquo", '\u{201d}'),
    ("bdquo", '\u{201e}'),
    ("hellip", '\u{2026}'),
    ("bull", '\u{2022}'),
    ("euro", '\u{20ac}'),
    ("trade", '\u{2122}'),
    ("zwnj", '\u{200c}'),
    ("zwj", '\u{200d}'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
];

/// Windows-1252 meanings of the C1 range, as the tokenizer maps `&#128;` to `&#159;`.
const C1: [u32; 32] = [
    0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039,
    0x0152, 0x8d, 0x017d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
    0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
];

/// Decodes the character references of an attribute value, once.
pub fn decode_attribute(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }

    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut copied = 0;
    let mut at = 0;
    while let Some(offset) = value[at..].find('&') {
        let amp = at + offset;
        match reference_at(bytes, amp + 1) {
            Some((decoded, end)) => {
                out.push_str(&value[copied..amp]);
                out.push(decoded);
                copied = end;
                at = end;
            }
            None => at = amp + 1,
        }
    }
    out.push_str(&value[copied..]);
    out
}

/// Reads the reference after an `&` at `start`; returns the character and the end offset.
fn reference_at(bytes: &[u8], start: usize) -> Option<(char, usize)> {
    if bytes.get(start) == Some(&b'#') {
        return numeric_at(bytes, start + 1);
    }

    let name_len = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let name = std::str::from_utf8(&bytes[start..start + name_len]).ok()?;
    let after = start + name_len;
    let terminated = bytes.get(after) == Some(&b';');
    if let Some(decoded) = lookup_any(name).filter(|_| terminated) {
        return Some((decoded, after + 1));
    }

    // Without `;` only a legacy name counts, and in an attribute not when an alphanumeric or
    // `=` follows: `?a=1&copy=2` is a query string, not a copyright sign.
    let (legacy_len, decoded) = longest_legacy_prefix(name)?;
    let next = bytes.get(start + legacy_len).copied();
    let ambiguous = matches!(next, Some(b) if b == b'=' || b.is_ascii_alphanumeric());
    if ambiguous {
        return None;
    }
    Some((decoded, start + legacy_len))
}

fn numeric_at(bytes: &[u8], start: usize) -> Option<(char, usize)> {
    let hex = matches!(bytes.get(start), Some(b'x' | b'X'));
    let digits_start = if hex { start + 1 } else { start };
    let radix = if hex { 16 } else { 10 };
    let digits = bytes[digits_start..]
        .iter()
        .take_while(|b| (**b as char).is_digit(radix));
    let digits_len = digits.count();
    if digits_len == 0 {
        return None;
    }

    let mut value: u32 = 0;
    for &digit in &bytes[digits_start..digits_start + digits_len] {
        let digit = (digit as char).to_digit(radix).unwrap_or(0);
        value = value.saturating_mul(radix).saturating_add(digit);
    }
    let mut end = digits_start + digits_len;
    if bytes.get(end) == Some(&b';') {
        end += 1;
    }
    Some((numeric_char(value), end))
}

/// The tokenizer's fix-ups: NUL, surrogates and out-of-range values become U+FFFD, and the C1
/// range is read as Windows-1252.
fn numeric_char(value: u32) -> char {
    let value = match value {
        0x80..=0x9f => C1[(value - 0x80) as usize],
        other => other,
    };
    if value == 0 {
        return char::REPLACEMENT_CHARACTER;
    }
    char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER)
}

fn lookup_any(name: &str) -> Option<char> {
    lookup_legacy(name).or_else(|| NAMED.iter().find(|(n, _)| *n == name).map(|(_, c)| *c))
}

fn lookup_legacy(name: &str) -> Option<char> {
    if let Some(index) = LATIN1.iter().position(|n| *n == name) {
        return char::from_u32(0xa0 + index as u32);
    }
    LEGACY.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

fn longest_legacy_prefix(name: &str) -> Option<(usize, char)> {
    (2..=name.len().min(6))
        .rev()
        .find_map(|len| lookup_legacy(&name[..len]).map(|decoded| (len, decoded)))
}

/// How an attribute value is delimited in the source, which decides what must be escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    Double,
    Single,
    Unquoted,
}

/// Escapes `value` so it reads back unchanged inside an attribute quoted as `quote`.
pub fn escape_attribute(value: &str, quote: Quote, out: &mut String) {
    for ch in value.chars() {
        match (ch, quote) {
            ('&', _) => out.push_str("&amp;"),
            ('"', Quote::Double | Quote::Unquoted) => out.push_str("&quot;"),
            ('\'', Quote::Single | Quote::Unquoted) => out.push_str("&#39;"),
            ('<', Quote::Unquoted) => out.push_str("&lt;"),
            ('>', Quote::Unquoted) => out.push_str("&gt;"),
            ('=', Quote::Unquoted) => out.push_str("&#61;"),
            ('`', Quote::Unquoted) => out.push_str("&#96;"),
            (' ' | '\t' | '\n' | '\r' | '\x0c', Quote::Unquoted) => {
                out.push_str(&format!("&#{};", ch as u32));
            }
            _ => out.push(ch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once() {
        assert_eq!(decode_attribute("a?b=1&amp;c=2"), "a?b=1&c=2");
        assert_eq!(decode_attribute("&amp;amp;"), "&amp;");
        assert_eq!(decode_attribute("&#38;&#x26;&#X26"), "&&&");
        assert_eq!(decode_attribute("&eacute;t&eacute"), "été");
        assert_eq!(decode_attribute("&apos;&sol;"), "'/");
    }

    #[test]
    fn keeps_legacy_names_before_equals_or_alphanumerics() {
        assert_eq!(decode_attribute("?a=1&copy=2"), "?a=1&copy=2");
        assert_eq!(decode_attribute("?a=1&notit=2"), "?a=1&notit=2");
        assert_eq!(decode_attribute("?a=1&amp&b"), "?a=1&&b");
        assert_eq!(
            decode_attribute("&unknown; & &#; &#x;"),
            "&unknown; & &#; &#x;"
        );
    }

    #[test]
    fn fixes_up_numeric_references() {
        assert_eq!(
            decode_attribute("&#0;&#x80;&#xD800;&#99999999999;"),
            "\u{fffd}€\u{fffd}\u{fffd}"
        );
    }

    #[test]
    fn escapes_for_each_quoting() {
        let mut out = String::new();
        escape_attribute("a&b\"c'd e", Quote::Double, &mut out);
        assert_eq!(out, "a&amp;b&quot;c'd e");
        out.clear();
        escape_attribute("a&b\"c'd e", Quote::Single, &mut out);
        assert_eq!(out, "a&amp;b\"c&#39;d e");
        out.clear();
        escape_attribute("a&b\"c'd e>", Quote::Unquoted, &mut out);
        assert_eq!(out, "a&amp;b&quot;c&#39;d&#32;e&gt;");
    }
}
