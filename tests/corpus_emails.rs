//! Every real email of the shared corpus (`../shared/corpus/emails/`, see its SOURCES.md),
//! sent through the API and fetched back over HTTP: each original http(s) link is reachable
//! through its tracked link with a 302 to the exact original URL, the pixel is there once,
//! and a `data-no-track` link and the unsubscribe link are untouched.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{HUMAN_UA, TestServer, backends, message_parts, tracked_urls};
use mailtally::store::Role;
use serde_json::{Value, json};

/// A link no one may track, added to each email before `</body>`.
const NO_TRACK: &str = "<a data-no-track href=\"https://example.com/private?a=1&amp;b=2\">x</a>";

fn corpus() -> Option<Vec<(String, Vec<u8>)>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/emails");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs the shared corpus beside the repository: {}",
            dir.display()
        );
        eprintln!(
            "NOTE: {} is absent: the corpus email test did not run",
            dir.display()
        );
        return None;
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    Some(files)
}

/// The email as Unicode text, read in the charset it declares (the API takes text).
fn as_text(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let label = head
        .split("charset=")
        .nth(1)
        .map(|rest| rest.trim_start_matches(['"', '\'']))
        .map(|rest| {
            rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .next()
                .unwrap()
        })
        .unwrap_or("windows-1252");
    let encoding =
        encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::WINDOWS_1252);
    encoding.decode(bytes).0.into_owned()
}

/// The http(s) hrefs an author wrote, read independently of the instrumenter: quoted
/// `href` values of `<a>` and `<area>`, `&amp;` decoded.
fn authored_links(html: &str) -> BTreeSet<String> {
    let mut links = BTreeSet::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("href=") {
        let start = at + i + 5;
        at = start;
        let Some(quote) = html[start..]
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
        else {
            continue;
        };
        let Some(len) = html[start + 1..].find(quote) else {
            break;
        };
        let value = html[start + 1..start + 1 + len]
            .trim()
            .replace("&amp;", "&");
        let tag_start = lower[..start].rfind('<').unwrap_or(0);
        let tag = &lower[tag_start..start];
        let is_link = tag.starts_with("<a ") || tag.starts_with("<a\n") || tag.starts_with("<area");
        let http = value.to_ascii_lowercase().starts_with("http://")
            || value.to_ascii_lowercase().starts_with("https://");
        let merge_tag = ["{{", "*|", "[[", "%"].iter().any(|m| value.contains(m));
        let in_comment = lower[..start].rfind("<!--") > lower[..start].rfind("-->");
        if is_link && http && !merge_tag && !value.contains('&') && !in_comment {
            links.insert(value);
        }
    }
    links
}

#[tokio::test]
async fn every_corpus_email_round_trips_through_the_tracker() {
    let Some(files) = corpus() else { return };
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let token = server
            .user("Acme", "owner@acme.test", Role::Owner, None)
            .await;
        let base = server.running.base_url.clone();
        let mut authored_total = 0;

        for (name, bytes) in &files {
            let mut html = as_text(bytes);
            match html.to_ascii_lowercase().rfind("</body>") {
                Some(i) => html.insert_str(i, NO_TRACK),
                None => html.push_str(NO_TRACK),
            }
            let sent = server
                .send(
                    &token,
                    json!({ "to": "r@example.org", "subject": name, "html": html }),
                )
                .await;
            let id = sent["id"].as_i64().unwrap();
            let reported: BTreeSet<String> = sent["instrumentation"]["rewritten"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["url"].as_str().unwrap().to_string())
                .collect();
            let authored = authored_links(&html);
            authored_total += authored.len();
            for link in authored {
                assert!(
                    reported.contains(&link),
                    "{name}: {link} was not tracked: {sent}"
                );
            }

            let (delivered, _) = message_parts(&server.outbox_message(id));
            let opens = tracked_urls(&delivered, &base, "open");
            assert_eq!(opens.len(), 1, "{name}: one pixel URL");
            assert_eq!(
                delivered.matches(opens[0].as_str()).count(),
                1,
                "{name}: pixel once"
            );
            assert!(
                delivered.contains(NO_TRACK),
                "{name}: the no-track link is untouched"
            );
            let unsubscribe = format!("{base}/unsubscribe/");
            assert!(
                delivered.contains(&unsubscribe),
                "{name}: the unsubscribe link is there"
            );

            let mut reached = BTreeSet::new();
            let mut honeypots = 0;
            for url in tracked_urls(&delivered, &base, "click") {
                let res = server
                    .http
                    .get(&url)
                    .header("user-agent", HUMAN_UA)
                    .send()
                    .await
                    .unwrap();
                match res.status().as_u16() {
                    302 => {
                        let location = res.headers()["location"].as_bytes();
                        reached.insert(String::from_utf8(location.to_vec()).unwrap());
                    }
                    // The hidden honeypot link answers an empty page, not a redirect.
                    200 => honeypots += 1,
                    other => panic!("{name}: {url} answered {other}"),
                }
            }
            assert_eq!(honeypots, 1, "{name}: one honeypot link");
            assert_eq!(
                reached, reported,
                "{name}: every tracked link leads to its original URL"
            );
        }

        // The corpus holds 21 distinct http(s) links (per file, summed); fewer means the
        // independent scan above broke and checked nothing.
        assert!(
            authored_total >= 20,
            "only {authored_total} authored links found"
        );
        let detail: Value = server.get(&token, "/api/v1/stats/summary?range=all").await;
        assert_eq!(
            detail["sends"].as_u64(),
            Some(files.len() as u64),
            "{}",
            backend.name()
        );
        server.stop().await;
    }
}
