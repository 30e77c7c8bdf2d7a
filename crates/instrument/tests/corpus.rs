//! Every email of the shared corpus, and the hand-written fixtures, instrumented and undone.
//!
//! For each file: every http(s) link a reader can click (found here by an independent
//! lol_html pass, VML in conditional comments included) is rewritten and maps back through
//! `links` to its decoded URL; links that must stay (no-track, unsubscribe, merge tags,
//! other schemes) stay and are reported; the pixel appears once; and removing what was
//! inserted and restoring the href values gives back the input byte for byte.

mod common;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use encoding_rs::Encoding;
use lol_html::{AsciiCompatibleEncoding, HtmlRewriter, Settings, doc_comments, element};
use mailtally_instrument::SkipReason;

use common::{UNSUB, count, decode_simple, looks_merged, pixel_start, restore, run};

/// An href the oracle found: its value as written and whether `data-no-track` is set.
#[derive(Debug)]
struct Found {
    raw: String,
    no_track: bool,
}

/// Lists link hrefs in document order with lol_html, including those in `<!--[if` comments.
fn oracle(html: &[u8], encoding: &'static Encoding) -> Vec<Found> {
    let found = RefCell::new(Vec::new());
    let settings = Settings::new()
        .with_strict(false)
        .with_encoding(AsciiCompatibleEncoding::new(encoding).unwrap())
        .append_element_content_handler(element!("a[href], area[href]", |el| {
            let raw = el.get_attribute("href").unwrap();
            let no_track = el.has_attribute("data-no-track");
            found.borrow_mut().push(Found { raw, no_track });
            Ok(())
        }))
        .append_document_content_handler(doc_comments!(|comment| {
            let text = comment.text();
            if text.starts_with("[if") {
                found.borrow_mut().extend(oracle_in_comment(&text));
            }
            Ok(())
        }));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    rewriter.write(html).unwrap();
    rewriter.end().unwrap();
    found.into_inner()
}

fn oracle_in_comment(text: &str) -> Vec<Found> {
    let found = RefCell::new(Vec::new());
    let settings = Settings::new()
        .with_strict(false)
        .append_element_content_handler(element!("[href]", |el| {
            let name = el.tag_name();
            if name == "a" || name == "area" || name.starts_with("v:") {
                let raw = el.get_attribute("href").unwrap();
                let no_track = el.has_attribute("data-no-track");
                found.borrow_mut().push(Found { raw, no_track });
            }
            Ok(())
        }));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    rewriter.write(text.as_bytes()).unwrap();
    rewriter.end().unwrap();
    found.into_inner()
}

fn expect_tracked(found: &Found) -> bool {
    let url = decode_simple(&found.raw);
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let web = lower.starts_with("http://") || lower.starts_with("https://");
    web && !found.no_track && !looks_merged(url) && url != UNSUB
}

fn check_file(path: &Path) -> Result<(), String> {
    let input = std::fs::read(path).map_err(|e| e.to_string())?;
    let result = run(&input, None);
    let encoding = Encoding::for_label(result.charset.as_bytes()).unwrap();

    let pixels = count(&result.html, pixel_start().as_bytes());
    if pixels != 1 {
        return Err(format!("the pixel appears {pixels} times"));
    }
    let restored = restore(&input, &result.html)?;

    let found = oracle(&input, encoding);
    let expected: Vec<&Found> = found.iter().filter(|f| expect_tracked(f)).collect();
    for (index, want) in expected.iter().enumerate() {
        let Some(got) = restored.get(index) else {
            return Err(format!("link {:?} was not rewritten", want.raw));
        };
        let (original, _) = encoding.decode_without_bom_handling(&got.original);
        if original != want.raw {
            return Err(format!("link {:?} came back as {original:?}", want.raw));
        }
        let url = decode_simple(&want.raw).trim().to_owned();
        let link = result.links.get(got.position as usize);
        if link.map(|link| &link.url) != Some(&url) {
            return Err(format!(
                "link {:?} maps to {link:?}, expected {url:?}",
                want.raw
            ));
        }
    }
    if restored.len() != expected.len() {
        let extra = &restored[expected.len()..];
        return Err(format!("unexpected rewrites: {extra:?}"));
    }

    let left_alone = found.len() - expected.len();
    if result.skipped.len() != left_alone {
        return Err(format!(
            "{left_alone} links left alone but skipped = {:?}",
            result.skipped
        ));
    }
    let no_track = found.iter().filter(|f| f.no_track).count();
    let reported = result
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::NoTrack)
        .count();
    if no_track != reported {
        return Err(format!(
            "{no_track} data-no-track links, {reported} reported"
        ));
    }
    Ok(())
}

fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
        .collect();
    files.sort();
    files
}

fn check_all(files: &[PathBuf]) {
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            check_file(path)
                .err()
                .map(|error| format!("{name}: {error}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn shared_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/emails");
    if !dir.is_dir() {
        println!(
            "note: {} is absent; shared corpus not checked",
            dir.display()
        );
        return;
    }
    let files = html_files(&dir);
    assert!(!files.is_empty(), "no emails in {}", dir.display());
    check_all(&files);
}

#[test]
fn hand_written_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let files = html_files(&dir);
    assert!(files.len() >= 5, "fixtures missing in {}", dir.display());
    check_all(&files);
}
