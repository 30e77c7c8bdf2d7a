//! Scratch viewer (deleted before hand-off).
use mailtally_instrument::*;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let html = std::fs::read(path).unwrap();
    let click = |p: u32| format!("https://t.invalid/c/{p}/");
    let tracking = Tracking {
        click_url: &click,
        open_url: "https://t.invalid/o.gif",
        honeypot_url: Some("https://t.invalid/h"),
    };
    let settings = Settings {
        tracking: Some(tracking),
        unsubscribe_url: "https://t.invalid/u",
        footer_html: "<p>FOOTER</p>",
        footer_text: "",
    };
    let r = instrument(
        &Email {
            html: &html,
            text: None,
        },
        &settings,
    );
    std::fs::write("/tmp/out.html", &r.html).unwrap();
    println!(
        "{} {:#?} {:#?} {:?}",
        r.charset, r.links, r.skipped, r.warnings
    );
}
