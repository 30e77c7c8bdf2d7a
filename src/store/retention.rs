//! Deleting expired raw events, a batch at a time.

use super::{Result, Store, begin, now_ms, with_writer};

impl Store {
    /// Deletes up to `limit` of the oldest events older than `cutoff` (unix ms) and marks
    /// their sends as purged up to `cutoff`. Returns how many were deleted.
    pub async fn purge_events_before(&self, cutoff: i64, limit: i64) -> Result<u64> {
        const MARK: &str = "UPDATE sends SET events_purged_before = $1, events_purged_at = $3
            WHERE id IN (SELECT send_id FROM
                (SELECT send_id FROM events WHERE at < $1 ORDER BY at LIMIT $2) picked)
            AND (events_purged_before IS NULL OR events_purged_before < $1)";
        const DELETE: &str = "DELETE FROM events WHERE id IN
            (SELECT id FROM events WHERE at < $1 ORDER BY at LIMIT $2)";

        with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            sqlx::query(MARK)
                .bind(cutoff)
                .bind(limit)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            let deleted = sqlx::query(DELETE)
                .bind(cutoff)
                .bind(limit)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(deleted.rows_affected())
        })
    }
}

impl Store {
    /// Cuts up to `limit` full client addresses of events older than `cutoff` to their
    /// network. Returns how many were cut.
    pub async fn cut_full_addresses_before(&self, cutoff: i64, limit: i64) -> Result<u64> {
        const PICK: &str = "SELECT id, ip FROM events WHERE ip_full = 1 AND at < $1 LIMIT $2";
        const CUT: &str = "UPDATE events SET ip = $1, ip_full = 0 WHERE id = $2";

        with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            let full: Vec<(i64, Option<String>)> = sqlx::query_as(PICK)
                .bind(cutoff)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            for (id, ip) in &full {
                let cut = ip
                    .as_deref()
                    .and_then(|ip| ip.parse().ok())
                    .map(|ip| crate::privacy::truncate_ip(ip).to_string());
                sqlx::query(CUT)
                    .bind(cut)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(full.len() as u64)
        })
    }
}
