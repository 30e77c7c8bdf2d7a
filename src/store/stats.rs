//! Aggregate queries behind the stats API, always scoped to what the caller may see.

use super::{Result, Store, with_reader};

/// The sends a caller may see: an organisation, narrowed to one sender unless the caller
/// sees the whole organisation. Built only from an authenticated user.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub org_id: i64,
    pub sender_id: Option<i64>,
}

/// Sends whose send time falls in `[from, to)`, unix milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

/// How the stats table groups sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Campaign,
    Template,
}

impl GroupBy {
    fn table(self) -> (&'static str, &'static str) {
        match self {
            GroupBy::Campaign => ("campaigns", "campaign_id"),
            GroupBy::Template => ("templates", "template_id"),
        }
    }
}

/// The figures of a set of sends; see docs/metrics.md.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct StatsRow {
    /// The campaign or template; `None` for sends without one, and for the summary.
    pub id: Option<i64>,
    pub name: Option<String>,
    pub sends: i64,
    pub tracked: i64,
    pub opened: i64,
    pub opened_inferred: i64,
    pub clicked: i64,
    pub opens: i64,
    pub clicks: i64,
    pub mpp_opens: i64,
    pub mpp_only: i64,
    pub filtered: i64,
    pub failed: i64,
    pub soft_bounced: i64,
    pub complaints: i64,
    pub unsubscribes: i64,
}

impl StatsRow {
    /// The figures of several rows together: the summary of a table, without a second
    /// pass over the sends.
    pub fn total(rows: &[StatsRow]) -> StatsRow {
        let mut total = StatsRow::default();
        for row in rows {
            total.sends += row.sends;
            total.tracked += row.tracked;
            total.opened += row.opened;
            total.opened_inferred += row.opened_inferred;
            total.clicked += row.clicked;
            total.opens += row.opens;
            total.clicks += row.clicks;
            total.mpp_opens += row.mpp_opens;
            total.mpp_only += row.mpp_only;
            total.filtered += row.filtered;
            total.failed += row.failed;
            total.soft_bounced += row.soft_bounced;
            total.complaints += row.complaints;
            total.unsubscribes += row.unsubscribes;
        }
        total
    }
}

/// One recipient of a campaign or template.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct RecipientRow {
    pub send_id: i64,
    pub email: String,
    pub status: String,
    pub tracked: bool,
    pub sent_at: i64,
    pub opens: i64,
    pub mpp_opens: i64,
    pub clicks: i64,
    pub filtered: i64,
    pub first_opened_at: Option<i64>,
    pub first_clicked_at: Option<i64>,
}

/// `SUM` that answers a BIGINT on both backends (PostgreSQL sums BIGINT to NUMERIC).
macro_rules! sum {
    ($expr:literal) => {
        concat!("CAST(COALESCE(SUM(", $expr, "), 0) AS BIGINT)")
    };
}

const FIGURES: &str = concat!(
    "COUNT(*) AS sends, ",
    sum!("s.tracked"),
    " AS tracked, ",
    sum!("CASE WHEN s.tracked = 1 AND s.first_opened_at IS NOT NULL THEN 1 ELSE 0 END"),
    " AS opened, ",
    sum!(
        "CASE WHEN s.tracked = 1 AND s.first_opened_at IS NOT NULL AND s.opens = 0 \
          THEN 1 ELSE 0 END"
    ),
    " AS opened_inferred, ",
    sum!("CASE WHEN s.tracked = 1 AND s.first_clicked_at IS NOT NULL THEN 1 ELSE 0 END"),
    " AS clicked, ",
    sum!("s.opens"),
    " AS opens, ",
    sum!("s.clicks"),
    " AS clicks, ",
    sum!("s.mpp_opens"),
    " AS mpp_opens, ",
    sum!("CASE WHEN s.mpp_opens > 0 AND s.first_opened_at IS NULL THEN 1 ELSE 0 END"),
    " AS mpp_only, ",
    sum!("s.filtered"),
    " AS filtered, ",
    sum!(
        "CASE WHEN s.status IN ('failed', 'bounced') OR s.complained_at IS NOT NULL \
          THEN 1 ELSE 0 END"
    ),
    " AS failed, ",
    sum!(
        "CASE WHEN s.soft_bounces > 0 AND s.status NOT IN ('failed', 'bounced') \
          THEN 1 ELSE 0 END"
    ),
    " AS soft_bounced, ",
    sum!("CASE WHEN s.complained_at IS NOT NULL THEN 1 ELSE 0 END"),
    " AS complaints, ",
    sum!("CASE WHEN s.unsubscribed_at IS NOT NULL THEN 1 ELSE 0 END"),
    " AS unsubscribes",
);

/// The scope and window filter; binds $1 org, $2 sender or NULL, $3 from, $4 to.
pub(super) const SCOPED: &str = "s.org_id = $1 AND ($2 IS NULL OR s.sender_id = $2)
    AND s.created_at >= $3 AND s.created_at < $4";

impl Store {
    /// The figures of every send in scope and window.
    pub async fn stats_summary(&self, scope: Scope, window: Window) -> Result<StatsRow> {
        let sql = format!(
            "SELECT CAST(NULL AS BIGINT) AS id, CAST(NULL AS TEXT) AS name, {FIGURES}
            FROM sends s WHERE {SCOPED}"
        );
        with_reader!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(scope.org_id)
                .bind(scope.sender_id)
                .bind(window.from)
                .bind(window.to)
                .fetch_one(pool)
                .await?)
        })
    }

    /// One row of figures per campaign or template, sends without one in a row of their own.
    pub async fn stats_rows(
        &self,
        scope: Scope,
        window: Window,
        group: GroupBy,
    ) -> Result<Vec<StatsRow>> {
        let (table, column) = group.table();
        // Aggregate by id first and name the groups after: grouping by the joined name
        // as well made the database carry it through every row.
        let sql = format!(
            "SELECT agg.*, g.name AS name FROM (
                SELECT s.{column} AS id, {FIGURES} FROM sends s
                WHERE {SCOPED} GROUP BY s.{column}
            ) agg LEFT JOIN {table} g ON g.id = agg.id
            ORDER BY agg.sends DESC, g.name"
        );
        with_reader!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(scope.org_id)
                .bind(scope.sender_id)
                .bind(window.from)
                .bind(window.to)
                .fetch_all(pool)
                .await?)
        })
    }

    /// The recipients of one campaign or template, newest first; `group_id` `None` lists
    /// sends that have none.
    pub async fn stats_recipients(
        &self,
        scope: Scope,
        window: Window,
        group: GroupBy,
        group_id: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<RecipientRow>> {
        let (_, column) = group.table();
        let sql = format!(
            "SELECT s.id AS send_id, s.to_email AS email, s.status,
                s.tracked = 1 AS tracked, s.created_at AS sent_at, s.opens, s.mpp_opens,
                s.clicks, s.filtered, s.first_opened_at, s.first_clicked_at
            FROM sends s
            WHERE {SCOPED} AND (($5 IS NULL AND s.{column} IS NULL) OR s.{column} = $5)
            ORDER BY s.created_at DESC, s.id DESC LIMIT $6 OFFSET $7"
        );
        with_reader!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(scope.org_id)
                .bind(scope.sender_id)
                .bind(window.from)
                .bind(window.to)
                .bind(group_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?)
        })
    }
}
