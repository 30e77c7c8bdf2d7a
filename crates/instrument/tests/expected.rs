//! Exact expected outputs for the cases issue 3 names, through one `check` helper.

mod common;

use mailtally_instrument::{
    Email, Instrumented, Settings, SkipReason, SkippedLink, TrackedLink, Tracking, instrument,
};

use common::click_url;

const PIXEL: &str = "<img src=\"https://t.invalid/o.gif\" width=\"1\" height=\"1\" alt=\"\" \
                     style=\"display:block;border:0;width:1px;height:1px\" />";
const HONEYPOT: &str = "<a href=\"https://t.invalid/h\" tabindex=\"-1\" aria-hidden=\"true\" \
                        style=\"display:none!important;font-size:0;line-height:0;max-height:0;\
                        overflow:hidden;mso-hide:all\"></a>";
const UNSUB: &str = "https://t.invalid/u/1";

fn instrument_with(html: &[u8], text: Option<&str>, honeypot: Option<&str>) -> Instrumented {
    let tracking = Tracking {
        click_url: &click_url,
        open_url: "https://t.invalid/o.gif",
        honeypot_url: honeypot,
    };
    let settings = Settings {
        tracking: Some(tracking),
        unsubscribe_url: UNSUB,
        footer_html: "<p>F</p>",
        footer_text: "\nF",
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

/// Instruments `html` without a honeypot and compares the whole output; `{P}` in `expected`
/// stands for the pixel markup.
fn check(html: &str, expected: &str) -> Instrumented {
    let result = instrument_with(html.as_bytes(), None, None);
    let expected = expected.replace("{P}", PIXEL);
    let actual = String::from_utf8(result.html.clone()).unwrap();
    assert_eq!(
        actual, expected,
        "\n--- actual ---\n{actual}\n--- expected ---\n{expected}"
    );
    result
}

fn link(position: u32, url: &str) -> TrackedLink {
    TrackedLink {
        position,
        url: url.to_owned(),
    }
}

#[test]
fn outlook_vml_button_shares_its_position_with_the_anchor() {
    let result = check(
        "<body><!--[if mso]><v:roundrect href=\"https://a.example/go?x=1&amp;y=2\" \
         arcsize=\"8%\"><w:anchorlock/><center>Go</center></v:roundrect><![endif]-->\
         <!--[if !mso]><!--><a  HREF='https://a.example/go?x=1&amp;y=2'\nstyle=\"x\">Go</a>\
         <!--<![endif]--></body>",
        "<body><!--[if mso]><v:roundrect href=\"https://t.invalid/c/0/\" \
         arcsize=\"8%\"><w:anchorlock/><center>Go</center></v:roundrect><![endif]-->\
         <!--[if !mso]><!--><a  HREF='https://t.invalid/c/0/'\nstyle=\"x\">Go</a>\
         <!--<![endif]--><p>F</p>{P}</body>",
    );
    assert_eq!(result.links, [link(0, "https://a.example/go?x=1&y=2")]);
}

#[test]
fn image_map_areas_are_links() {
    let result = check(
        "<map name=m><area shape=rect href=https://a.example/n alt=N>\
         <AREA href=\"https://a.example/s\"><area href=\"#x\"></map>",
        "<map name=m><area shape=rect href=https://t.invalid/c/0/ alt=N>\
         <AREA href=\"https://t.invalid/c/1/\"><area href=\"#x\"></map><p>F</p>{P}",
    );
    assert_eq!(
        result.links,
        [
            link(0, "https://a.example/n"),
            link(1, "https://a.example/s")
        ]
    );
    assert_eq!(
        result.skipped,
        [SkippedLink {
            href: "#x".into(),
            reason: SkipReason::Scheme
        }]
    );
}

#[test]
fn ampersand_entity_in_query_is_decoded_once() {
    let result = check(
        "<a href=\"https://a.example/s?q=1&amp;r=a%20b&amp;amp;c#top\">x</a>",
        "<a href=\"https://t.invalid/c/0/\">x</a><p>F</p>{P}",
    );
    assert_eq!(
        result.links,
        [link(0, "https://a.example/s?q=1&r=a%20b&amp;c#top")]
    );
}

#[test]
fn idn_host_and_path_are_kept() {
    let result = check(
        "<a href=\"https://bücher.example/straße?q=1#x\">b</a>\
         <a href=\" https://b&uuml;cher.example/stra&#xDF;e?q=1#x\n\">b</a>",
        "<a href=\"https://t.invalid/c/0/\">b</a><a href=\"https://t.invalid/c/1/\">b</a>\
         <p>F</p>{P}",
    );
    let url = "https://bücher.example/straße?q=1#x";
    assert_eq!(result.links, [link(0, url), link(1, url)]);
}

#[test]
fn merge_tag_hrefs_are_left_alone() {
    let html = "<a href=\"{{action_url}}\">a</a><a href='https://a.example/?e=*|EMAIL|*'>b</a>\
                <a href=https://a.example/%UNSUB%>c</a>";
    let result = check(html, &format!("{html}<p>F</p>{{P}}"));
    assert!(result.links.is_empty());
    let reasons: Vec<_> = result.skipped.iter().map(|s| s.reason).collect();
    assert_eq!(reasons, [SkipReason::MergeTag; 3]);
    assert_eq!(result.skipped[0].href, "{{action_url}}");
}

#[test]
fn unsubscribe_no_track_and_schemes_are_reported() {
    let html = "<body><a href=\"https://t.invalid/u/1\">u</a><a data-no-track \
                href=\"https://a.example/\">n</a><a href=\"mailto:a@b.example\">m</a></body>";
    let result = check(html, &html.replace("</body>", "<p>F</p>{P}</body>"));
    let reasons: Vec<_> = result.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(reasons, ["unsubscribe", "no_track", "scheme"]);
}

#[test]
fn several_bodies_get_the_markup_before_the_last() {
    check(
        "<body>a</body>b</BODY>c<!--</body>--></body >d",
        "<body>a</body>b</BODY>c<!--</body>--><p>F</p>{P}</body >d",
    );
}

#[test]
fn honeypot_is_inserted_once_and_is_not_a_link() {
    let result = instrument_with(
        b"<body><a href=\"https://a.example/\">a</a></body>",
        None,
        Some("https://t.invalid/h"),
    );
    let expected =
        format!("<body><a href=\"https://t.invalid/c/0/\">a</a><p>F</p>{HONEYPOT}{PIXEL}</body>");
    assert_eq!(String::from_utf8(result.html).unwrap(), expected);
    assert_eq!(result.links, [link(0, "https://a.example/")]);
}

/// An email of about `size` bytes: a body of repeated paragraphs with one link.
fn email_of(size: usize) -> String {
    let mut html = String::from("<html><head><title>t</title></head><body class=\"b\">\n");
    html.push_str("<a href=\"https://a.example/\">a</a>\n");
    while html.len() < size {
        html.push_str("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n");
    }
    html.push_str("</body></html>\n");
    html
}

#[test]
fn large_email_gets_the_pixel_after_body_and_a_warning() {
    let html = email_of(150 * 1024);
    let result = instrument_with(html.as_bytes(), None, None);
    let out = String::from_utf8(result.html).unwrap();
    let body_open = "<body class=\"b\">";
    assert!(out.contains(&format!(
        "{body_open}{PIXEL}\n<a href=\"https://t.invalid/c/0/\">"
    )));
    assert!(out.ends_with("<p>F</p></body></html>\n"));
    assert_eq!(out.matches(PIXEL).count(), 1);
    assert_eq!(result.warnings.len(), 1);
    assert!(
        result.warnings[0].contains("102 KB"),
        "{:?}",
        result.warnings
    );
}

#[test]
fn small_email_gets_the_pixel_before_body_close() {
    let html = email_of(20 * 1024);
    let result = instrument_with(html.as_bytes(), None, None);
    let out = String::from_utf8(result.html).unwrap();
    assert!(out.ends_with(&format!("<p>F</p>{PIXEL}</body></html>\n")));
    assert_eq!(out.matches(PIXEL).count(), 1);
    assert!(result.warnings.is_empty());
}

#[test]
fn no_body_puts_everything_at_the_end() {
    check("<p>x</p>", "<p>x</p><p>F</p>{P}");
}

fn corpus_file(name: &str) -> Option<Vec<u8>> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/emails");
    let bytes = std::fs::read(dir.join(name)).ok();
    if bytes.is_none() {
        println!("note: corpus file {name} is absent; not checked");
    }
    bytes
}

#[test]
fn latin1_corpus_emails_stay_latin1() {
    let Some(outlook) = corpus_file("09-mimeparser-outlook2000-uppercase-latin1.html") else {
        return;
    };
    let result = instrument_with(&outlook, None, None);
    assert_eq!(result.charset, "iso-8859-1");
    let close = outlook.windows(7).rposition(|w| w == b"</BODY>").unwrap();
    let mut expected = outlook[..close].to_vec();
    expected.extend_from_slice(format!("<p>F</p>{PIXEL}").as_bytes());
    expected.extend_from_slice(&outlook[close..]);
    assert_eq!(result.html, expected);

    let Some(no_body) = corpus_file("39-mimeparser-latin1-no-body-tag.html") else {
        return;
    };
    assert!(
        std::str::from_utf8(&no_body).is_err(),
        "fixture should hold latin-1 bytes"
    );
    let result = instrument_with(&no_body, None, None);
    // No declaration and not UTF-8: read as Windows-1252; the bytes pass through untouched.
    assert_eq!(result.charset, "windows-1252");
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    let mut expected = no_body.clone();
    expected.extend_from_slice(format!("<p>F</p>{PIXEL}").as_bytes());
    assert_eq!(result.html, expected);
}

#[test]
fn latin1_href_is_decoded_in_its_charset() {
    let html: &[u8] = b"<meta charset=\"ISO-8859-1\"><body>Caf\xe9 \
                        <a href=\"https://a.example/caf\xe9\">x</a></body>";
    let result = instrument_with(html, None, None);
    assert_eq!(result.charset, "iso-8859-1");
    assert_eq!(result.links, [link(0, "https://a.example/caf\u{e9}")]);
    let mut expected =
        b"<meta charset=\"ISO-8859-1\"><body>Caf\xe9 <a href=\"https://t.invalid/c/0/\">x</a>"
            .to_vec();
    expected.extend_from_slice(format!("<p>F</p>{PIXEL}</body>").as_bytes());
    assert_eq!(result.html, expected);
}

#[test]
fn iso_8859_5_is_reported() {
    let Some(cyrillic) = corpus_file("32-premailer-iso-8859-5.html") else {
        return;
    };
    let result = instrument_with(&cyrillic, None, None);
    assert_eq!(result.charset, "iso-8859-5");
    assert!(result.html.starts_with(&cyrillic[..cyrillic.len() - 16]));
}

#[test]
fn text_part_reuses_html_positions_and_skips_unsubscribe() {
    let html =
        b"<a href=\"https://a.example/x?y=1&amp;z=2\">a</a><a href=\"https://b.example/\">b</a>";
    let text = "A: https://a.example/x?y=1&z=2.\nC: (https://c.example/p)\n\
                U: https://t.invalid/u/1\n\
                A again: https://a.example/x?y=1&z=2";
    let result = instrument_with(html, Some(text), None);
    assert_eq!(
        result.text.as_deref(),
        Some(
            "A: https://t.invalid/c/0/.\nC: (https://t.invalid/c/2/)\nU: https://t.invalid/u/1\n\
             A again: https://t.invalid/c/0/\nF"
        )
    );
    assert_eq!(result.links[2], link(2, "https://c.example/p"));
    assert_eq!(result.links.len(), 3);
    assert_eq!(
        result.skipped,
        [SkippedLink {
            href: UNSUB.into(),
            reason: SkipReason::Unsubscribe
        }]
    );
}

#[test]
fn tracking_off_adds_only_the_footers() {
    let settings = Settings {
        tracking: None,
        unsubscribe_url: UNSUB,
        footer_html: "<p>F</p>",
        footer_text: "\nF",
    };
    let html = b"<body><a href=\"https://a.example/\">a</a></body>";
    let email = Email {
        html,
        text: Some("see https://a.example/"),
        known_utf8: false,
    };
    let result = instrument(&email, &settings);
    assert_eq!(
        result.html,
        b"<body><a href=\"https://a.example/\">a</a><p>F</p></body>"
    );
    assert_eq!(result.text.as_deref(), Some("see https://a.example/\nF"));
    assert!(result.links.is_empty() && result.skipped.is_empty());
}

#[test]
fn broken_markup_does_not_panic() {
    for html in [
        &b"<a href=\"https://a.example/"[..],
        b"<a href",
        b"<!--[if mso]><v:rect href=",
        b"\xff\xfe<a\x00 href=x>",
        b"</body",
    ] {
        let result = instrument_with(html, Some("http://"), Some("https://t.invalid/h"));
        assert_eq!(
            common::count(&result.html, b"<img src=\"https://t.invalid/o.gif\""),
            1
        );
    }
}
