//! Scenario tests with exact counts (issue 4 item 5, and the rules of item 3).

mod common;

use common::*;
use mailtally_classify::{Class, Event, Tally, mpp_share, tally};

fn run(events: &mut [Event]) -> Tally {
    let t = tally(SENT, events);
    assert_partition(&t, events);
    t
}

#[test]
fn mpp_fetch_at_delivery_and_no_human_open() {
    let mut events = vec![open(MPP, "17.58.101.4", 3 * SECOND)];
    let t = run(&mut events);

    assert_eq!((t.opens, t.clicks, t.mpp_opens, t.filtered), (0, 0, 1, 0));
    assert_eq!(t.first_opened_at, None);
    assert!(!t.open_inferred);
    assert_eq!(mpp_share(t.opens, t.mpp_opens), Some(1.0));
    assert_eq!(events[0].verdict.class, Class::AppleMpp);
    assert!(!events[0].counted);
}

#[test]
fn scanner_burst_then_the_reader_clicks_one_link() {
    // Pixel and all five links from one address within one second, with a plain browser
    // user agent: only the behaviour gives it away.
    let scanner = "40.94.12.7";
    let mut events = vec![open(SCANNER_CHROME, scanner, 8 * SECOND)];
    for position in 0..5 {
        events.push(click(
            position,
            SCANNER_CHROME,
            scanner,
            8 * SECOND + 150 * (i64::from(position) + 1),
        ));
    }
    let reader_click_at = 8 * SECOND + 900 + MINUTE;
    events.push(click(2, IPHONE_SAFARI, "198.51.100.23", reader_click_at));
    let t = run(&mut events);

    assert_eq!(
        (t.opens, t.clicks, t.mpp_opens, t.filtered, t.deduped),
        (0, 1, 0, 6, 0)
    );
    assert_eq!(
        t.first_opened_at,
        Some(SENT + reader_click_at),
        "opened, inferred from the click"
    );
    assert!(t.open_inferred);
    assert_eq!(t.first_clicked_at, Some(SENT + reader_click_at));
    for event in &events[..6] {
        assert_eq!(
            event.verdict.class,
            Class::Scanner,
            "{}",
            event.verdict.reason
        );
        assert!(!event.counted);
    }
    assert!(
        events[1].verdict.reason.contains("5 different links"),
        "{}",
        events[1].verdict.reason
    );
    assert!(
        events[0].verdict.reason.contains("burst"),
        "{}",
        events[0].verdict.reason
    );
    assert_eq!(
        (events[6].verdict.class, events[6].counted),
        (Class::Human, true)
    );
}

#[test]
fn honeypot_follower_is_discounted_before_and_after() {
    let bot = "203.0.113.50";
    let reader = "198.51.100.80";
    let mut events = vec![
        open(DESKTOP_FIREFOX, bot, 30 * SECOND),
        click(1, DESKTOP_FIREFOX, bot, 40 * SECOND),
        honeypot(DESKTOP_FIREFOX, bot, 50 * SECOND),
        open(OUTLOOK, reader, 2 * 60 * MINUTE),
        click(0, DESKTOP_FIREFOX, reader, 2 * 60 * MINUTE + 5 * MINUTE),
        // The same visitor comes back the next day to check the link again.
        click(1, DESKTOP_FIREFOX, bot, 24 * 60 * MINUTE),
    ];
    let t = run(&mut events);

    assert_eq!(
        (t.opens, t.clicks, t.mpp_opens, t.filtered, t.deduped),
        (1, 1, 0, 4, 0)
    );
    assert_eq!(t.first_opened_at, Some(SENT + 2 * 60 * MINUTE));
    assert!(!t.open_inferred);
    for i in [0, 1, 2, 5] {
        assert_eq!(events[i].verdict.class, Class::Scanner);
        assert!(
            events[i].verdict.reason.contains("honeypot"),
            "{}",
            events[i].verdict.reason
        );
    }
}

#[test]
fn honeypot_hit_arriving_late_takes_back_counted_hits() {
    let bot = "203.0.113.50";
    let mut events = vec![
        open(DESKTOP_FIREFOX, bot, 30 * SECOND),
        click(1, DESKTOP_FIREFOX, bot, 10 * MINUTE),
    ];
    let before = run(&mut events);
    assert_eq!((before.opens, before.clicks, before.filtered), (1, 1, 0));

    events.push(honeypot(DESKTOP_FIREFOX, bot, 20 * MINUTE));
    let after = run(&mut events);
    let diff = after.diff(&before);
    assert_eq!((diff.opens, diff.clicks, diff.filtered), (-1, -1, 3));
    assert_eq!(after.first_opened_at, None);
}

#[test]
fn reader_opening_ten_times_in_a_minute_through_gmail() {
    let mut events: Vec<Event> = (0..10)
        .map(|k| {
            open(
                GMAIL_PROXY,
                &format!("66.102.8.{}", 10 + k),
                60 * MINUTE + k * 6 * SECOND,
            )
        })
        .collect();
    let t = run(&mut events);

    assert_eq!(
        (t.opens, t.clicks, t.mpp_opens, t.filtered, t.deduped),
        (1, 0, 0, 0, 9)
    );
    assert_eq!(t.first_opened_at, Some(SENT + 60 * MINUTE));
    assert_eq!(events[0].verdict.agent.as_deref(), Some("Gmail"));
    assert!(events[0].counted && events[1..].iter().all(|e| !e.counted));
}

#[test]
fn burst_found_after_the_first_click_was_counted() {
    let scanner = "40.94.12.7";
    let mut events = vec![click(0, SCANNER_CHROME, scanner, 5 * MINUTE + 20 * SECOND)];
    let before = run(&mut events);
    assert_eq!((before.clicks, before.filtered), (1, 0));

    events.push(click(3, SCANNER_CHROME, scanner, 5 * MINUTE + 21 * SECOND));
    let after = run(&mut events);
    let diff = after.diff(&before);
    assert_eq!((diff.clicks, diff.filtered), (-1, 2));
    assert_eq!(after.first_clicked_at, None);
}

#[test]
fn click_too_soon_after_sending_needs_a_second_signal() {
    // Four seconds after sending, nobody has opened from there: a scan.
    let mut fast = vec![click(0, SCANNER_CHROME, "40.94.1.1", 4 * SECOND)];
    let t = run(&mut fast);
    assert_eq!((t.clicks, t.filtered), (0, 1));
    assert!(
        fast[0].verdict.reason.contains("too soon"),
        "{}",
        fast[0].verdict.reason
    );

    // Twenty seconds after sending, nothing else: a person waiting for the mail.
    let mut waiting = vec![click(0, DESKTOP_FIREFOX, "198.51.100.4", 20 * SECOND)];
    let t = run(&mut waiting);
    assert_eq!((t.clicks, t.filtered), (1, 0));

    // Forty seconds after sending, then the reader clicks from elsewhere: the first was a
    // delivery-time scan.
    let mut scanned = vec![
        click(0, SCANNER_CHROME, "40.94.1.1", 40 * SECOND),
        click(0, IPHONE_SAFARI, "198.51.100.4", 25 * MINUTE),
    ];
    let t = run(&mut scanned);
    assert_eq!((t.clicks, t.filtered), (1, 1));
    assert!(
        scanned[0].verdict.reason.contains("from elsewhere"),
        "{}",
        scanned[0].verdict.reason
    );

    // Opened from the same address first: a person reading fast.
    let mut reader = vec![
        open(OUTLOOK, "198.51.100.4", 6 * SECOND),
        click(0, DESKTOP_FIREFOX, "198.51.100.4", 9 * SECOND),
    ];
    let t = run(&mut reader);
    assert_eq!((t.opens, t.clicks, t.filtered), (1, 1, 0));
}

#[test]
fn repeats_count_once_per_window_and_again_after_it() {
    let ip = "198.51.100.4";
    let mut events = vec![
        open(OUTLOOK, ip, 60 * MINUTE),
        open(OUTLOOK, ip, 60 * MINUTE + 30 * SECOND),
        open(OUTLOOK, ip, 60 * MINUTE + 61 * SECOND),
        click(4, DESKTOP_FIREFOX, ip, 62 * MINUTE),
        click(4, DESKTOP_FIREFOX, ip, 62 * MINUTE + 3 * SECOND),
        click(5, DESKTOP_FIREFOX, ip, 63 * MINUTE),
    ];
    let t = run(&mut events);
    assert_eq!((t.opens, t.clicks, t.filtered, t.deduped), (2, 2, 0, 2));
    assert!(events[1].verdict.reason.contains("counted once"));
    assert_eq!(
        events[1].verdict.class,
        Class::Human,
        "a repeat is still a person"
    );
}

#[test]
fn click_before_the_images_load_dates_the_open() {
    let ip = "198.51.100.4";
    let mut events = vec![
        click(0, DESKTOP_FIREFOX, ip, 10 * MINUTE),
        open(OUTLOOK, ip, 10 * MINUTE + 5 * SECOND),
    ];
    let t = run(&mut events);
    assert_eq!((t.opens, t.clicks), (1, 1));
    assert_eq!(t.first_opened_at, Some(SENT + 10 * MINUTE));
    assert!(!t.open_inferred);
}

#[test]
fn head_requests_and_mpp_repeats() {
    let mut events = vec![
        common::hit(
            mailtally_classify::Kind::Click { position: 0 },
            "HEAD",
            DESKTOP_FIREFOX,
            "198.51.100.9",
            2 * MINUTE,
        ),
        open(MPP, "172.225.10.1", 3 * SECOND),
        open(MPP, "172.225.99.1", 20 * SECOND),
        open(MPP, "172.225.99.1", 3 * 60 * MINUTE),
    ];
    let t = run(&mut events);
    assert_eq!(
        (t.opens, t.clicks, t.mpp_opens, t.filtered, t.deduped),
        (0, 0, 2, 1, 1)
    );
    assert_eq!(events[0].verdict.class, Class::Scanner);
    assert_eq!(mpp_share(t.opens, t.mpp_opens), Some(1.0));
}

#[test]
fn a_reader_sharing_a_network_with_a_scanner_keeps_the_open() {
    // Stored addresses are cut to their /24: the reader's phone and the company's gateway
    // look like one address. The gateway's burst must not take the reader's open with it.
    let network = "203.0.113.0";
    let mut events = vec![
        open(IPHONE_SAFARI, network, 20 * SECOND),
        click(0, SCANNER_CHROME, network, 24 * SECOND),
        click(1, SCANNER_CHROME, network, 24 * SECOND + 300),
    ];
    let t = run(&mut events);

    assert_eq!((t.opens, t.clicks, t.filtered), (1, 0, 2));
    assert_eq!(events[0].verdict.class, Class::Human);
    assert_eq!(events[1].verdict.class, Class::Scanner);
}
