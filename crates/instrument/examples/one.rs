//! Scratch profiler (deleted before hand-off).
use mailtally_instrument::{Email, Tracking, instrument};
fn main() {
    let e = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let n: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let click_url = |position: u32| format!("https://t.example/c/abcdef0123456789/{position}");
    for _ in 0..n {
        let tracking = Tracking { click_url: &click_url, open_url: "https://t.example/o.gif", honeypot_url: Some("https://t.example/h") };
        let settings = mailtally_instrument::Settings { tracking: Some(tracking), unsubscribe_url: "https://t.example/u", footer_html: "<p>x</p>", footer_text: "" };
        std::hint::black_box(instrument(&Email { html: &e, text: None }, &settings));
    }
}
