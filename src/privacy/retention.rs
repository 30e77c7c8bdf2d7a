//! The retention job: deletes raw events older than the retention period in small
//! batches, so tracking requests never wait long for the database, and notes on each send
//! that its older events were purged. Counters are never touched, so no figure changes.

use std::time::Duration;

use tokio::sync::watch;

use crate::store::{Store, now_ms};

/// Events deleted per transaction; small enough that a tracking batch waits milliseconds.
pub const BATCH: i64 = 2000;
/// Pause between batches, leaving the writer free for tracking hits.
const PAUSE: Duration = Duration::from_millis(20);
/// How often the job inside `serve` looks for expired events and addresses.
const EVERY: Duration = Duration::from_secs(300);
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Deletes every event older than `retention_days`; returns how many went.
pub async fn purge(store: &Store, retention_days: u32) -> crate::store::Result<u64> {
    let cutoff = now_ms() - i64::from(retention_days) * DAY_MS;
    let mut total = 0;
    loop {
        let deleted = store.purge_events_before(cutoff, BATCH).await?;
        total += deleted;
        if deleted < BATCH as u64 {
            return Ok(total);
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// Cuts full client addresses older than `full_ip_hours` to their network.
pub async fn cut_addresses(store: &Store, full_ip_hours: u32) -> crate::store::Result<u64> {
    let cutoff = now_ms() - i64::from(full_ip_hours) * 3600 * 1000;
    let mut total = 0;
    loop {
        let cut = store.cut_full_addresses_before(cutoff, BATCH).await?;
        total += cut;
        if cut < BATCH as u64 {
            return Ok(total);
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// What the retention job keeps.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub retention_days: u32,
    /// 0 when addresses are cut as they are stored.
    pub full_ip_hours: u32,
}

/// Runs the purge (and the address cut) now and then every few minutes until `stop`.
pub async fn run_job(store: Store, retention: Retention, mut stop: watch::Receiver<bool>) {
    let retention_days = retention.retention_days;
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        match purge(&store, retention_days).await {
            Ok(0) => tracing::debug!(retention_days, "no events to purge"),
            Ok(deleted) => tracing::info!(deleted, retention_days, "purged old tracking events"),
            Err(error) => tracing::error!(%error, "purging old tracking events failed"),
        }
        if retention.full_ip_hours > 0 {
            match cut_addresses(&store, retention.full_ip_hours).await {
                Ok(cut) => tracing::debug!(cut, "cut full client addresses"),
                Err(error) => tracing::error!(%error, "cutting client addresses failed"),
            }
        }
    }
}
