//! Property test: generated email HTML with links in every form issue 3 lists. Whatever the
//! mix, removing what mailtally added and restoring the hrefs gives back the input, each
//! trackable link maps to its decoded URL, and everything else is left alone.

mod common;

use proptest::prelude::*;

use common::{UNSUB, count, pixel_start, restore, run};

/// A piece of markup and, for each href it holds, the URL it should redirect to (`None`
/// when it must be left alone). A VML button and its twin share one expected URL entry.
#[derive(Debug, Clone)]
struct Piece {
    markup: String,
    tracked: Vec<Option<String>>,
}

/// An href as written and its meaning: `Some(url)` for a trackable link.
fn href() -> impl Strategy<Value = (String, Option<String>)> {
    let tracked = |raw: &str, url: &str| (raw.to_owned(), Some(url.to_owned()));
    let kept = |raw: &str| (raw.to_owned(), None);
    prop_oneof![
        (0u32..1000).prop_map(move |n| tracked(
            &format!("https://a.example/p{n}"),
            &format!("https://a.example/p{n}")
        )),
        Just(tracked(
            "https://a.example/s?q=1&amp;r=2",
            "https://a.example/s?q=1&r=2"
        )),
        Just(tracked(
            "HTTP://A.example/%20x?y=%C3%A9#frag",
            "HTTP://A.example/%20x?y=%C3%A9#frag"
        )),
        Just(tracked(
            "https://bücher.example/straße?q=1#x",
            "https://bücher.example/straße?q=1#x"
        )),
        Just(tracked(
            "https://b&#xFC;cher.example/?a=&lt;1&gt;",
            "https://bücher.example/?a=<1>"
        )),
        Just(tracked(
            " https://a.example/trim\n",
            "https://a.example/trim"
        )),
        Just(tracked(
            "https://a.example/?copy&copy=1",
            "https://a.example/?copy&copy=1"
        )),
        Just(kept("mailto:a@b.example")),
        Just(kept("tel:+15550100")),
        Just(kept("sms:+15550100")),
        Just(kept("javascript:alert(1)")),
        Just(kept("data:text/html,x")),
        Just(kept("#top")),
        Just(kept("relative/page.html")),
        Just(kept("{{ action_url }}")),
        Just(kept("https://a.example/*|ID|*")),
        Just(kept("https://a.example/%FNAME%")),
        Just(kept("[[link]]")),
        Just(kept(UNSUB)),
        Just(kept("")),
    ]
}

/// Writes `value` as an attribute value quoted one of three ways, when that is possible.
fn quoted(value: &str, style: u8) -> String {
    match style {
        0 if !value.contains('"') => format!("\"{value}\""),
        1 if !value.contains('\'') => format!("'{value}'"),
        2 if !value.is_empty() && !value.contains(|c: char| " \t\n\"'=<>`".contains(c)) => {
            value.to_owned()
        }
        _ => format!("\"{}\"", value.replace('"', "&quot;")),
    }
}

fn link_piece() -> impl Strategy<Value = Piece> {
    (href(), 0u8..3, 0u8..4, any::<bool>(), "[ \n]{1,2}").prop_map(
        |((raw, url), quote, form, no_track, space)| {
            let value = quoted(&raw, quote);
            let opt_out = if no_track { " data-no-track" } else { "" };
            let url = if no_track { None } else { url };
            let markup = match form {
                0 => format!("<a{space}href={value}{opt_out}>x</a>"),
                1 => format!("<A class=\"b\"{opt_out}{space}HREF = {value} >x</A>"),
                2 => format!("<area shape=rect{opt_out} href={value}{space}/>"),
                _ => format!("<p><a title='t' href={value}{opt_out}><img src=i.png></a></p>"),
            };
            Piece {
                markup,
                tracked: vec![url],
            }
        },
    )
}

fn vml_piece() -> impl Strategy<Value = Piece> {
    (href(), 0u8..3).prop_map(|((raw, url), quote)| {
        let value = quoted(&raw, quote);
        let markup = format!(
            "<!--[if mso]><v:roundrect href={value} arcsize=\"8%\"><center>Go</center>\
             </v:roundrect><![endif]--><!--[if !mso]><!--><a href={value}>Go</a><!--<![endif]-->"
        );
        Piece {
            markup,
            tracked: vec![url.clone(), url],
        }
    })
}

fn filler_piece() -> impl Strategy<Value = Piece> {
    let markup = prop_oneof![
        Just("<p>Hello &amp; welcome</p>\n".to_owned()),
        Just("<!-- a comment with <a href=\"https://c.example/\"> -->".to_owned()),
        Just("<table cellpadding=0><tr><td>cell</td></tr></table>".to_owned()),
        Just("<title>x</body></title>".to_owned()),
        Just("</body>".to_owned()),
        Just("<BODY bgcolor=#fff>".to_owned()),
        Just("<!--[if mso]><style>td{}</style><![endif]-->".to_owned()),
        Just("<unknown-tag a=1>".to_owned()),
        Just("<br/>\t ".to_owned()),
        Just("a < b, c<1 ".to_owned()),
        // No `<` here: text ending in `<a` would swallow the next piece's tag.
        "[a-z &>\n]{0,20}",
    ];
    markup.prop_map(|markup| Piece {
        markup,
        tracked: Vec::new(),
    })
}

fn document() -> impl Strategy<Value = Vec<Piece>> {
    prop::collection::vec(
        prop_oneof![3 => link_piece(), 1 => vml_piece(), 3 => filler_piece()],
        0..25,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn removing_what_was_added_gives_back_the_input(pieces in document()) {
        let html: String = pieces.iter().map(|piece| piece.markup.as_str()).collect();
        let result = run(html.as_bytes(), None);

        prop_assert_eq!(count(&result.html, pixel_start().as_bytes()), 1);
        let restored = restore(html.as_bytes(), &result.html);
        prop_assert!(restored.is_ok(), "{:?}", restored);
        let restored = restored.unwrap();

        let expected: Vec<String> =
            pieces.iter().flat_map(|p| p.tracked.iter().flatten().cloned()).collect();
        prop_assert_eq!(restored.len(), expected.len());
        for (got, url) in restored.iter().zip(&expected) {
            prop_assert_eq!(&result.links[got.position as usize].url, url);
        }

        // A tracked VML button and its twin share one position; every other link has its own.
        let is_twin = |p: &&Piece| p.tracked.len() == 2 && p.tracked[0].is_some();
        let twins = pieces.iter().filter(is_twin).count();
        prop_assert_eq!(result.links.len(), expected.len() - twins);
    }
}
