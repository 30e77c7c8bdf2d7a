//! The pass over the HTML part: finds every link and the `<body>` tags, and plans the edits.
//!
//! lol_html only observes here (its output is thrown away); each handler reads the raw tag
//! through its source location and records an edit for the href value alone. Handlers run
//! in document order, comments included, so positions come out in document order.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::LazyLock;

use encoding_rs::Encoding;
use lol_html::errors::RewritingError;
use lol_html::html_content::Element;
use lol_html::{
    AsciiCompatibleEncoding, ElementContentHandlers, HtmlRewriter, Selector, doc_comments, end_tag,
};

use crate::conditional::{self, LinkKind};
use crate::edits::Edit;
use crate::entities::{self, escape_attribute};
use crate::links::{self, Ledger};
use crate::{Settings, tag};

/// What the pass found.
#[derive(Debug, Default)]
pub struct Findings {
    pub ledger: Ledger,
    pub edits: Vec<Edit>,
    /// Just past the first `<body ...>` start tag.
    pub body_open_end: Option<usize>,
    /// The start of the `</body>` closing the first body element.
    pub body_close: Option<usize>,
}

struct Pass<'a> {
    html: &'a [u8],
    encoding: &'static Encoding,
    settings: &'a Settings<'a>,
    findings: Findings,
    /// Reused for escaping, to keep allocations per link down to the edit itself.
    scratch: String,
}

impl Pass<'_> {
    /// Records the link whose start tag spans `tag_start..` in the input, if it is one.
    fn link(&mut self, tag_start: usize, raw_tag: &[u8], kind: LinkKind) {
        let Some(tracking) = &self.settings.tracking else {
            return;
        };
        let Some(href) = tag::find(raw_tag, "href") else {
            return;
        };
        let no_track = tag::find(raw_tag, "data-no-track").is_some();

        let (value, _) = self
            .encoding
            .decode_without_bom_handling(&raw_tag[href.value.clone()]);
        let url = links::trim(&entities::decode_attribute(&value)).to_owned();
        let ledger = &mut self.findings.ledger;
        let is_anchor = kind == LinkKind::Anchor;
        if let Some(reason) = links::skip_reason(&url, no_track, self.settings.unsubscribe_url) {
            ledger.skip(url, reason, is_anchor);
            return;
        }

        let position = match kind {
            LinkKind::Vml => ledger.vml_button(url),
            LinkKind::Anchor | LinkKind::Area => ledger.link(url, is_anchor),
        };
        self.scratch.clear();
        escape_attribute(
            &(tracking.click_url)(position),
            href.quote,
            &mut self.scratch,
        );
        let (bytes, _, _) = self.encoding.encode(&self.scratch);
        let range = tag_start + href.value.start..tag_start + href.value.end;
        self.findings.edits.push(Edit {
            range,
            bytes: bytes.into_owned(),
        });
    }

    fn element(&mut self, range: std::ops::Range<usize>) {
        let raw_tag = &self.html[range.clone()];
        if let Some(kind) = LinkKind::of(raw_tag) {
            self.link(range.start, raw_tag, kind);
        }
    }

    fn comment(&mut self, range: std::ops::Range<usize>) {
        let html = self.html;
        let Some((body_offset, body)) = conditional::linkable_body(&html[range.clone()]) else {
            return;
        };
        let body_start = range.start + body_offset;
        for (tag_range, kind) in conditional::link_tags(body) {
            let tag_start = body_start + tag_range.start;
            self.link(tag_start, &body[tag_range], kind);
        }
    }
}

static LINKS_AND_BODY: LazyLock<Selector> = LazyLock::new(|| selector("a[href], area[href], body"));
static BODY: LazyLock<Selector> = LazyLock::new(|| selector("body"));

fn selector(text: &str) -> Selector {
    text.parse()
        .unwrap_or_else(|error| panic!("selector `{text}` should parse: {error}"))
}

/// Runs the pass over `html`, read in `encoding`.
pub fn scan(
    html: &[u8],
    encoding: &'static Encoding,
    settings: &Settings<'_>,
) -> Result<Findings, RewritingError> {
    let pass = RefCell::new(Pass {
        html,
        encoding,
        settings,
        findings: Findings::default(),
        scratch: String::new(),
    });
    let body_open_end = Cell::new(None);
    // End-tag handlers must be 'static, hence the shared cell.
    let body_close: Rc<Cell<Option<usize>>> = Rc::default();

    // One selector list, one handler: each extra handler costs a dispatch per match. The
    // selectors are parsed once per process; parsing them per email cost more than a small
    // email's whole pass.
    let selector = if settings.tracking.is_some() {
        &*LINKS_AND_BODY
    } else {
        &*BODY
    };
    let encoding_setting =
        AsciiCompatibleEncoding::new(encoding).unwrap_or_else(AsciiCompatibleEncoding::utf_8);
    let mut lol_settings = lol_html::Settings::new()
        .with_strict(false)
        .with_encoding(encoding_setting)
        .append_element_content_handler((
            Cow::Borrowed(selector),
            ElementContentHandlers::default().element(|el: &mut Element<'_, '_>| {
                let range = el.source_location().bytes();
                let is_body = tag::name(&html[range.clone()]).eq_ignore_ascii_case(b"body");
                if !is_body {
                    pass.borrow_mut().element(range);
                    return Ok(());
                }
                if body_open_end.get().is_some() {
                    return Ok(());
                }
                body_open_end.set(Some(range.end));
                let body_close = Rc::clone(&body_close);
                // A void or self-closed body has no end tag to watch; that is fine.
                let _ = el.on_end_tag(end_tag!(move |end| {
                    body_close.set(Some(end.source_location().bytes().start));
                    Ok(())
                }));
                Ok(())
            }),
        ));
    // Comments cost lol_html its fast path, so they are only read when one may hold a link.
    if settings.tracking.is_some() && conditional::may_hold_links(html) {
        lol_settings = lol_settings.append_document_content_handler(doc_comments!(|comment| {
            pass.borrow_mut().comment(comment.source_location().bytes());
            Ok(())
        }));
    }

    let mut rewriter = HtmlRewriter::new(lol_settings, |_: &[u8]| {});
    rewriter.write(html)?;
    rewriter.end()?;

    let mut findings = pass.into_inner().findings;
    findings.body_open_end = body_open_end.get();
    findings.body_close = body_close.get();
    Ok(findings)
}
