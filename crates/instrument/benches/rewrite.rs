//! Throughput of `instrument` over the shared corpus, against a lol_html pass with no
//! handlers over the same bytes in the same run (issue 3, item 8).
//!
//! Run with `cargo bench -p mailtally-instrument`. Prints MB/s for both and their ratio.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use lol_html::{HtmlRewriter, Settings};
use mailtally_instrument::{Email, Tracking, instrument};

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/emails");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries.map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

fn no_handlers(html: &[u8]) -> usize {
    let mut out = Vec::with_capacity(html.len());
    let settings = Settings::new().with_strict(false);
    let mut rewriter = HtmlRewriter::new(settings, |chunk: &[u8]| out.extend_from_slice(chunk));
    rewriter.write(html).unwrap();
    rewriter.end().unwrap();
    out.len()
}

fn instrumented(html: &[u8]) -> usize {
    let click_url = |position: u32| format!("https://t.example/c/abcdef0123456789/{position}");
    let tracking = Tracking {
        click_url: &click_url,
        open_url: "https://t.example/o/abcdef0123456789.gif",
        honeypot_url: Some("https://t.example/h/abcdef0123456789"),
    };
    let settings = mailtally_instrument::Settings {
        tracking: Some(tracking),
        unsubscribe_url: "https://t.example/u/abcdef0123456789",
        footer_html: "<p><a href=\"https://t.example/u/abcdef0123456789\">Unsubscribe</a></p>",
        footer_text: "\nUnsubscribe: https://t.example/u/abcdef0123456789\n",
    };
    instrument(
        &Email {
            html,
            text: None,
            known_utf8: false,
        },
        &settings,
    )
    .html
    .len()
}

/// MB/s of `run` over all of `emails`, repeated for at least `budget`.
fn throughput(emails: &[Vec<u8>], budget: Duration, run: fn(&[u8]) -> usize) -> f64 {
    let bytes: usize = emails.iter().map(Vec::len).sum();
    let start = Instant::now();
    let mut rounds = 0u32;
    while start.elapsed() < budget {
        for email in emails {
            black_box(run(black_box(email)));
        }
        rounds += 1;
    }
    (bytes as f64 * f64::from(rounds)) / start.elapsed().as_secs_f64() / 1e6
}

fn main() {
    let emails = corpus();
    if emails.is_empty() {
        println!("note: shared corpus absent; nothing to measure");
        return;
    }
    let total: usize = emails.iter().map(Vec::len).sum();
    println!("corpus: {} emails, {} bytes", emails.len(), total);

    // Warm up, then alternate so both sides see the same machine load.
    throughput(&emails, Duration::from_millis(300), instrumented);
    let (mut baseline, mut ours) = (0.0, 0.0);
    for _ in 0..3 {
        baseline += throughput(&emails, Duration::from_secs(1), no_handlers) / 3.0;
        ours += throughput(&emails, Duration::from_secs(1), instrumented) / 3.0;
    }
    println!("lol_html, no handlers: {baseline:8.1} MB/s");
    println!("instrument:            {ours:8.1} MB/s");
    println!("ratio:                 {:8.2}", ours / baseline);
}
