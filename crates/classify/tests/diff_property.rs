//! The recorder adds `tally(after) - tally(before)` to stored counters. These tests feed a
//! send's events one batch at a time, in the same vector the recorder would reuse (so the
//! verdicts a previous run wrote are still in it), and check that the summed differences
//! equal one run over everything, and that a run ignores what earlier runs wrote.

mod common;

use common::*;
use mailtally_classify::{Event, Kind, Tally, tally};

/// A small deterministic generator, so failures replay.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

/// A busy send: people, proxies, Apple, scanners in bursts, a honeypot follower, repeats.
fn mixed_stream(seed: u64, len: usize) -> Vec<Event> {
    let mut rng = Lcg(seed);
    let uas = [
        IPHONE_SAFARI,
        SCANNER_CHROME,
        DESKTOP_FIREFOX,
        OUTLOOK,
        GMAIL_PROXY,
        MPP,
    ];
    let ips = [
        "198.51.100.1",
        "198.51.100.2",
        "40.94.1.1",
        "66.102.8.1",
        "17.58.0.9",
    ];
    let mut at = 0;
    let mut events = Vec::new();
    for _ in 0..len {
        // Mostly close together, so bursts, repeats and the early window all happen.
        at += match rng.next(4) {
            0 => rng.next(1_500) as i64,
            1 => rng.next(20_000) as i64,
            2 => rng.next(120_000) as i64,
            _ => rng.next(3_600_000) as i64,
        };
        let ua = uas[rng.next(uas.len() as u64) as usize];
        let ip = ips[rng.next(ips.len() as u64) as usize];
        let kind = match rng.next(10) {
            0..=4 => Kind::Open,
            5..=8 => Kind::Click {
                position: rng.next(4) as u32,
            },
            _ => Kind::Honeypot,
        };
        let method = if rng.next(15) == 0 { "HEAD" } else { "GET" };
        events.push(hit(kind, method, ua, ip, at));
    }
    events
}

fn counters(t: &Tally) -> [i64; 5] {
    [t.opens, t.clicks, t.mpp_opens, t.filtered, t.deduped]
}

/// Appends `stream` in batches of `batch`, as the recorder does, and sums the differences.
fn summed_diffs(stream: &[Event], batch: usize) -> ([i64; 5], Tally) {
    let mut events: Vec<Event> = Vec::new();
    let mut sum = [0; 5];
    let mut before = tally(SENT, &mut events);
    for chunk in stream.chunks(batch) {
        events.extend(chunk.iter().cloned());
        let after = tally(SENT, &mut events);
        let diff = after.diff(&before);
        for (total, d) in sum.iter_mut().zip(counters(&diff)) {
            *total += d;
        }
        before = after;
    }
    (sum, before)
}

#[test]
fn summed_differences_equal_one_run_over_everything() {
    for seed in 1..=40 {
        let stream = mixed_stream(seed, 60);
        let mut whole = stream.clone();
        let expected = tally(SENT, &mut whole);
        assert_partition(&expected, &whole);

        for batch in [1, 3, 7] {
            let (sum, last) = summed_diffs(&stream, batch);
            assert_eq!(sum, counters(&expected), "seed {seed}, batch {batch}");
            assert_eq!(last, expected, "seed {seed}, batch {batch}");
        }
    }
}

#[test]
fn a_run_ignores_verdicts_written_by_earlier_runs() {
    for seed in 1..=20 {
        let mut reused = mixed_stream(seed, 50);
        let mut fresh = reused.clone();
        for event in &mut reused {
            event.counted = true;
            event.verdict.reason = "stale".into();
        }
        let first = tally(SENT, &mut reused);
        let again = tally(SENT, &mut reused);
        assert_eq!(first, tally(SENT, &mut fresh), "seed {seed}");
        assert_eq!(first, again, "seed {seed}");
        for (a, b) in reused.iter().zip(&fresh) {
            assert_eq!(
                (&a.verdict, a.counted),
                (&b.verdict, b.counted),
                "seed {seed}"
            );
        }
    }
}

#[test]
fn a_hit_that_arrives_late_is_placed_by_its_time() {
    // The recorder appends a late hit after newer ones; the rules read events by time.
    let reader = "198.51.100.1";
    let mut in_order = vec![
        open(OUTLOOK, reader, 10 * MINUTE),
        open(OUTLOOK, reader, 10 * MINUTE + 20 * SECOND),
    ];
    let mut late = vec![in_order[1].clone(), in_order[0].clone()];
    let a = tally(SENT, &mut in_order);
    let b = tally(SENT, &mut late);
    assert_eq!(a, b);
    assert!(
        late[1].counted && !late[0].counted,
        "the earlier hit is the one counted"
    );
}
