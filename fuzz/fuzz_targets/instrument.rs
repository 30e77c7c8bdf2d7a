//! Fuzzes the instrumenter with arbitrary bytes as HTML (and, when they are UTF-8, as the
//! text part): it must not panic, must add the pixel exactly once, and every tracked
//! position must appear in the output and map to a link in `links`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtally_instrument::{Email, Settings, Tracking, instrument};

const OPEN: &str = "https://t.invalid/o.gif";
const CLICK: &str = "https://t.invalid/c/";

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle)
        .count()
}

fuzz_target!(|data: &[u8]| {
    let click_url = |position: u32| format!("{CLICK}{position}/");
    let tracking = Tracking {
        click_url: &click_url,
        open_url: OPEN,
        honeypot_url: None,
    };
    let settings = Settings {
        tracking: Some(tracking),
        unsubscribe_url: "https://t.invalid/u",
        footer_html: "",
        footer_text: "",
    };
    let email = Email {
        html: data,
        text: std::str::from_utf8(data).ok(),
        known_utf8: false,
    };
    let result = instrument(&email, &settings);

    // An input that already holds the pixel's URL (even inside an href that gets replaced)
    // makes counting meaningless; every other input must gain exactly one pixel.
    if count(data, OPEN.as_bytes()) == 0 {
        let pixel = format!("<img src=\"{OPEN}\"");
        let pixels = count(&result.html, pixel.as_bytes());
        assert_eq!(pixels, 1, "pixel appears {pixels} times");
    }

    let in_input = count(data, CLICK.as_bytes());
    for link in &result.links {
        assert_eq!(
            link.position as usize,
            result.links.iter().position(|l| l == link).unwrap()
        );
        let tracked = click_url(link.position);
        let in_html = count(&result.html, tracked.as_bytes());
        let in_text = result
            .text
            .as_deref()
            .map_or(0, |t| count(t.as_bytes(), tracked.as_bytes()));
        assert!(
            in_html + in_text > 0 || in_input > 0,
            "position {} is nowhere",
            link.position
        );
        assert!(
            link.url.len() <= data.len() * 4,
            "url longer than any input could decode to"
        );
    }
});
