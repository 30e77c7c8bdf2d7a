//! Recognises merge tags an ESP was meant to render before the send reached us.
//!
//! A link still holding one (`{{url}}`, `*|UNSUB|*`, `%UNSUBSCRIBE%`, `[[link]]`) points at
//! no real page yet, so tracking it would redirect readers to a broken URL.

/// Whether `url` (entities already decoded) holds an unrendered merge tag.
pub fn contains(url: &str) -> bool {
    let paired = [("{{", "}}"), ("{%", "%}"), ("*|", "|*"), ("[[", "]]")];
    let has_pair = paired.iter().any(|(open, close)| {
        url.find(open)
            .is_some_and(|start| url[start + open.len()..].contains(close))
    });
    has_pair || has_percent_tag(url) || has_encoded_braces(url)
}

/// `%NAME%` or `%%NAME%%`, told apart from percent-encoding: the name starts with a letter,
/// and a closing `%` followed by two hex digits is the start of an escape, not a tag's end.
fn has_percent_tag(url: &str) -> bool {
    let bytes = url.as_bytes();
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|b| *b == b'%') {
        let open = at + offset;
        at = open + 1;
        let name_start = if bytes.get(open + 1) == Some(&b'%') {
            open + 2
        } else {
            open + 1
        };
        if !bytes
            .get(name_start)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        {
            continue;
        }

        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':'))
            .count();
        let close = name_start + name_len;
        let closed = bytes.get(close) == Some(&b'%');
        let escape_follows = bytes.get(close + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(close + 2).is_some_and(u8::is_ascii_hexdigit);
        if closed && name_len >= 2 && !escape_follows {
            return true;
        }
    }
    false
}

/// `%7B%7B...%7D%7D`: a `{{...}}` tag that an editor percent-encoded.
fn has_encoded_braces(url: &str) -> bool {
    let upper = url.to_ascii_uppercase();
    upper
        .find("%7B%7B")
        .is_some_and(|start| upper[start..].contains("%7D%7D"))
}

#[cfg(test)]
mod tests {
    use super::contains;

    #[test]
    fn finds_each_style() {
        assert!(contains("{{action_url}}"));
        assert!(contains("https://x.example/?u={{ user.id }}"));
        assert!(contains("*|UNSUB|*"));
        assert!(contains("https://x.example/%UNSUBSCRIBE%"));
        assert!(contains("https://x.example/?e=%%email%%"));
        assert!(contains("<%asm_global_unsubscribe_raw_url%>"));
        assert!(contains("https://x.example/[[link]]"));
        assert!(contains("https://x.example/{% url %}"));
        assert!(contains("https://x.example/?u=%7b%7bid%7D%7D"));
    }

    #[test]
    fn leaves_percent_encoding_alone() {
        assert!(!contains("https://x.example/b%C3%BCcher%20neu"));
        assert!(!contains("https://x.example/%E2%80%99s%20ok"));
        assert!(!contains("https://x.example/?q=100%25&r=50%"));
        assert!(!contains("https://x.example/a{b}c*d|e"));
        assert!(!contains("https://x.example/?q=%41%42"));
    }
}
