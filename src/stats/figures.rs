//! The figures of a set of sends, with rates over tracked sends only.

use serde::Serialize;

use crate::store::StatsRow;

/// What the summary cards and each table row show. See docs/metrics.md.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figures {
    /// Every send, tracked or not.
    pub sends: i64,
    /// Sends instrumented for tracking; the denominator of every rate.
    pub tracked: i64,
    /// Sends made while tracking was off.
    pub untracked: i64,
    /// Tracked sends a person opened (including opens inferred from a click).
    pub opened: i64,
    /// Of `opened`, those known only from a click (images blocked).
    pub opened_inferred: i64,
    /// Tracked sends a person clicked.
    pub clicked: i64,
    pub open_rate: f64,
    pub click_rate: f64,
    /// Counted opens and clicks, repeats within a short window counted once.
    pub opens: i64,
    pub clicks: i64,
    /// Opens fetched by Apple Mail Privacy Protection, never in `opens` or `opened`.
    pub mpp_opens: i64,
    /// The share of all opens that came from Apple's proxy: mpp_opens / (opens + mpp_opens).
    pub mpp_share: f64,
    /// Sends whose only opens came from Apple's proxy.
    pub mpp_only: i64,
    /// Hits by scanners, previews and bots, kept out of every other figure.
    pub filtered: i64,
    /// Sends that failed, bounced for good, or that their recipient reported as spam.
    pub failed: i64,
    /// Sends delayed by a temporary failure (Mailgun keeps trying) that has not turned
    /// into a permanent one.
    pub soft_bounced: i64,
    /// Sends whose recipient reported them as spam (from the provider's webhooks).
    pub complaints: i64,
    /// Sends whose recipient unsubscribed (from the provider's webhooks).
    pub unsubscribes: i64,
}

impl From<&StatsRow> for Figures {
    fn from(row: &StatsRow) -> Figures {
        Figures {
            sends: row.sends,
            tracked: row.tracked,
            untracked: row.sends - row.tracked,
            opened: row.opened,
            opened_inferred: row.opened_inferred,
            clicked: row.clicked,
            open_rate: ratio(row.opened, row.tracked),
            click_rate: ratio(row.clicked, row.tracked),
            opens: row.opens,
            clicks: row.clicks,
            mpp_opens: row.mpp_opens,
            mpp_share: ratio(row.mpp_opens, row.opens + row.mpp_opens),
            mpp_only: row.mpp_only,
            filtered: row.filtered,
            failed: row.failed,
            soft_bounced: row.soft_bounced,
            complaints: row.complaints,
            unsubscribes: row.unsubscribes,
        }
    }
}

/// `part / whole`, rounded to four places; 0 when there is no whole.
fn ratio(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
}
