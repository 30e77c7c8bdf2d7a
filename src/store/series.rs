//! Per-day series for the Stats tab's chart, and the last activity of a page of recipients.
//!
//! The chart reads counters, like every other figure: a tracked send counts once on the
//! day it was first opened and once on the day it was first clicked. Days are bucketed by
//! integer division of shifted unix milliseconds, which SQLite and PostgreSQL evaluate
//! alike for BIGINT, so one query serves both backends.

use super::stats::SCOPED;
use super::{Result, Scope, Store, Window, with_reader};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Opens and clicks of one day in the viewer's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct DayCount {
    /// Days since 1970-01-01 in the viewer's time zone.
    pub day: i64,
    /// Tracked sends first opened that day (people only, as in `opened`).
    pub opened: i64,
    /// Tracked sends first clicked that day.
    pub clicked: i64,
}

/// When a send last saw a counted hit, per the stored events.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct LastActivity {
    pub send_id: i64,
    pub at: i64,
}

impl Store {
    /// First opens and first clicks per day of the sends in scope and window; days with
    /// neither are left out. `offset_ms` is the viewer's offset from UTC.
    pub async fn stats_daily(
        &self,
        scope: Scope,
        window: Window,
        offset_ms: i64,
    ) -> Result<Vec<DayCount>> {
        let sql = format!(
            "SELECT day, CAST(SUM(opened) AS BIGINT) AS opened,
                CAST(SUM(clicked) AS BIGINT) AS clicked
            FROM (
                SELECT (s.first_opened_at + $5) / {DAY_MS} AS day, 1 AS opened, 0 AS clicked
                FROM sends s
                WHERE {SCOPED} AND s.tracked = 1 AND s.first_opened_at IS NOT NULL
                UNION ALL
                SELECT (s.first_clicked_at + $5) / {DAY_MS} AS day, 0 AS opened, 1 AS clicked
                FROM sends s
                WHERE {SCOPED} AND s.tracked = 1 AND s.first_clicked_at IS NOT NULL
            ) hits
            GROUP BY day ORDER BY day"
        );
        with_reader!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(scope.org_id)
                .bind(scope.sender_id)
                .bind(window.from)
                .bind(window.to)
                .bind(offset_ms)
                .fetch_all(pool)
                .await?)
        })
    }

    /// The time of the latest counted event of each of `send_ids` that has one.
    pub async fn last_activity(&self, send_ids: &[i64]) -> Result<Vec<LastActivity>> {
        if send_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=send_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT send_id, MAX(at) AS at FROM events
            WHERE counted = 1 AND send_id IN ({}) GROUP BY send_id",
            placeholders.join(", ")
        );
        with_reader!(self, |pool| {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for id in send_ids {
                query = query.bind(*id);
            }
            Ok(query.fetch_all(pool).await?)
        })
    }
}
