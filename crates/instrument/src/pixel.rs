//! The markup mailtally inserts: the open pixel and the honeypot link.

use crate::entities::{Quote, escape_attribute};

/// Gmail clips a message whose HTML is larger than this; a pixel below the clip never loads.
pub const CLIP_LIMIT: usize = 102 * 1024;

/// A 1x1 image that reports an open when it loads.
pub fn pixel(open_url: &str) -> String {
    let mut out = String::from("<img src=\"");
    escape_attribute(open_url, Quote::Double, &mut out);
    out.push_str(
        "\" width=\"1\" height=\"1\" alt=\"\" \
         style=\"display:block;border:0;width:1px;height:1px\" />",
    );
    out
}

/// A link no person sees, reaches by keyboard or hears read out; only scanners follow it.
pub fn honeypot(url: &str) -> String {
    let mut out = String::from("<a href=\"");
    escape_attribute(url, Quote::Double, &mut out);
    out.push_str(
        "\" tabindex=\"-1\" aria-hidden=\"true\" style=\"display:none!important;\
         font-size:0;line-height:0;max-height:0;overflow:hidden;mso-hide:all\"></a>",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_urls() {
        assert!(
            pixel("https://t.example/o?a=1&b=2")
                .starts_with("<img src=\"https://t.example/o?a=1&amp;b=2\" width=\"1\"")
        );
        assert!(honeypot("https://t.example/h\"").contains("href=\"https://t.example/h&quot;\""));
    }
}
