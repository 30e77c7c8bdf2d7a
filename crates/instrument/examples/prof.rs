//! Scratch profiler (deleted before hand-off).
use lol_html::*;
use mailtally_instrument::{Email, Tracking, instrument};
use std::time::Instant;
fn ours(html: &[u8]) {
    let click_url = |position: u32| format!("https://t.example/c/abcdef0123456789/{position}");
    let tracking = Tracking {
        click_url: &click_url,
        open_url: "https://t.example/o.gif",
        honeypot_url: Some("https://t.example/h"),
    };
    let settings = mailtally_instrument::Settings {
        tracking: Some(tracking),
        unsubscribe_url: "https://t.example/u",
        footer_html: "<p>x</p>",
        footer_text: "",
    };
    std::hint::black_box(instrument(&Email { html, text: None }, &settings));
}
fn none(h: &[u8]) {
    let mut r = HtmlRewriter::new(Settings::new().with_strict(false), |_: &[u8]| {});
    r.write(h).unwrap();
    r.end().unwrap();
}
fn main() {
    let mut paths: Vec<_> = std::fs::read_dir("/work/shared/corpus/emails")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for p in paths {
        let e = std::fs::read(&p).unwrap();
        let mut r = vec![];
        for f in [none as fn(&[u8]), ours] {
            let start = Instant::now();
            let mut n = 0;
            while start.elapsed().as_secs_f64() < 0.1 {
                f(&e);
                n += 1;
            }
            r.push(e.len() as f64 * n as f64 / start.elapsed().as_secs_f64() / 1e6);
        }
        println!(
            "{:50} {:7} {:6.0} {:6.0} {:.2}",
            p.file_name().unwrap().to_string_lossy(),
            e.len(),
            r[0],
            r[1],
            r[1] / r[0]
        );
    }
}
