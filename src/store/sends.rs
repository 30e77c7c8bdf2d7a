//! Sends: one row per outbound email, its link positions, and its delivery status.

use super::{Result, Store, begin, now_ms, with_reader, with_writer};

/// What the sending pipeline logs before it instruments.
#[derive(Debug, Clone)]
pub struct NewSend<'a> {
    pub org_id: i64,
    pub sender_id: i64,
    pub to_email: &'a str,
    pub to_name: &'a str,
    pub subject: &'a str,
    pub campaign: Option<&'a str>,
    pub template: Option<&'a str>,
    /// Whether the send may be tracked; a contact that opted out turns it off.
    pub tracked: bool,
}

/// A send as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct SendRow {
    pub id: i64,
    pub org_id: i64,
    pub sender_id: i64,
    pub contact_id: i64,
    pub campaign_id: Option<i64>,
    pub template_id: Option<i64>,
    pub to_email: String,
    pub subject: String,
    pub tracked: i64,
    pub status: String,
    pub error: Option<String>,
    pub created_at: i64,
    pub opens: i64,
    pub clicks: i64,
    pub mpp_opens: i64,
    pub filtered: i64,
    pub first_opened_at: Option<i64>,
    pub first_clicked_at: Option<i64>,
    /// Raw events before this time (unix ms) were purged by the retention job, at
    /// `events_purged_at`; the counters above still include them.
    pub events_purged_before: Option<i64>,
    pub events_purged_at: Option<i64>,
}

/// A tracked link position of a send.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct LinkRow {
    pub position: i64,
    pub url: String,
    pub clicks: i64,
}

/// A link of some send that people clicked.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ClickedLink {
    pub send_id: i64,
    pub position: i64,
    pub url: String,
    pub clicks: i64,
}

pub(super) const SEND_COLUMNS: &str = "s.id, s.org_id, s.sender_id, s.contact_id, s.campaign_id,
    s.template_id, s.to_email, s.subject, s.tracked, s.status, s.error, s.created_at, s.opens,
    s.clicks, s.mpp_opens, s.filtered, s.first_opened_at, s.first_clicked_at,
    s.events_purged_before, s.events_purged_at";

impl Store {
    /// Logs a new send, creating its contact, campaign and template on first use.
    /// Fails with `Conflict` when the contact may not be emailed. The send is tracked only
    /// if `send.tracked` and the contact has not asked not to be (`no_track`).
    pub async fn insert_send(&self, send: &NewSend<'_>) -> Result<SendRow> {
        // A contact first met through a send belongs to its sender (see `OwnerScope`).
        const CONTACT: &str = "INSERT INTO contacts (org_id, email, name, created_at, owner_id)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, email) DO NOTHING";
        const CONTACT_ID: &str =
            "SELECT id, status, no_track FROM contacts WHERE org_id = $1 AND email = $2";
        const CAMPAIGN: &str = "INSERT INTO campaigns (org_id, name, created_at)
            VALUES ($1, $2, $3) ON CONFLICT (org_id, name) DO NOTHING";
        const CAMPAIGN_ID: &str = "SELECT id FROM campaigns WHERE org_id = $1 AND name = $2";
        const TEMPLATE: &str = "INSERT INTO templates (org_id, name, created_at)
            VALUES ($1, $2, $3) ON CONFLICT (org_id, name) DO NOTHING";
        const TEMPLATE_ID: &str = "SELECT id FROM templates WHERE org_id = $1 AND name = $2";
        const INSERT: &str = "INSERT INTO sends (org_id, sender_id, contact_id, campaign_id,
                template_id, to_email, subject, tracked, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";

        let now = now_ms();
        let email = send.to_email.trim().to_ascii_lowercase();
        let id: i64 = with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            sqlx::query(CONTACT)
                .bind(send.org_id)
                .bind(&email)
                .bind(send.to_name)
                .bind(now)
                .bind(send.sender_id)
                .execute(&mut *tx)
                .await?;
            let (contact_id, status, no_track): (i64, String, i64) = sqlx::query_as(CONTACT_ID)
                .bind(send.org_id)
                .bind(&email)
                .fetch_one(&mut *tx)
                .await?;
            if status != "active" {
                return Err(super::Error::Conflict(format!("contact is {status}")));
            }
            let mut campaign_id = None;
            if let Some(name) = send.campaign {
                sqlx::query(CAMPAIGN)
                    .bind(send.org_id)
                    .bind(name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                campaign_id = Some(
                    sqlx::query_scalar::<_, i64>(CAMPAIGN_ID)
                        .bind(send.org_id)
                        .bind(name)
                        .fetch_one(&mut *tx)
                        .await?,
                );
            }
            let mut template_id = None;
            if let Some(name) = send.template {
                sqlx::query(TEMPLATE)
                    .bind(send.org_id)
                    .bind(name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                template_id = Some(
                    sqlx::query_scalar::<_, i64>(TEMPLATE_ID)
                        .bind(send.org_id)
                        .bind(name)
                        .fetch_one(&mut *tx)
                        .await?,
                );
            }
            let id = sqlx::query_scalar(INSERT)
                .bind(send.org_id)
                .bind(send.sender_id)
                .bind(contact_id)
                .bind(campaign_id)
                .bind(template_id)
                .bind(&email)
                .bind(send.subject)
                .bind(i64::from(send.tracked && no_track == 0))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            id
        });
        self.send(id).await
    }

    /// One send by id, whatever its organisation: callers check scope.
    pub async fn send(&self, id: i64) -> Result<SendRow> {
        let sql = format!("SELECT {SEND_COLUMNS} FROM sends s WHERE s.id = $1");
        // Read through the writer on SQLite so a send is visible right after its insert.
        with_writer!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(pool)
                .await?)
        })
    }

    /// Stores the link positions of a send.
    pub async fn insert_links(&self, send_id: i64, links: &[(u32, &str)]) -> Result<()> {
        const INSERT: &str = "INSERT INTO send_links (send_id, position, url) VALUES ($1, $2, $3)";
        with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            for (position, url) in links {
                sqlx::query(INSERT)
                    .bind(send_id)
                    .bind(i64::from(*position))
                    .bind(*url)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The links of a send with their counted clicks.
    pub async fn links(&self, send_id: i64) -> Result<Vec<LinkRow>> {
        const SQL: &str = "SELECT position, url, clicks FROM send_links
            WHERE send_id = $1 ORDER BY position";
        with_reader!(self, |pool| {
            Ok(sqlx::query_as(SQL).bind(send_id).fetch_all(pool).await?)
        })
    }

    /// The clicked links of several sends, for a page of recipients.
    pub async fn clicked_links(&self, send_ids: &[i64]) -> Result<Vec<ClickedLink>> {
        if send_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=send_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT send_id, position, url, clicks FROM send_links
            WHERE clicks > 0 AND send_id IN ({}) ORDER BY send_id, position",
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

    /// Where a link position redirects.
    pub async fn link_url(&self, send_id: i64, position: u32) -> Result<String> {
        const SQL: &str = "SELECT url FROM send_links WHERE send_id = $1 AND position = $2";
        with_reader!(self, |pool| {
            Ok(sqlx::query_scalar(SQL)
                .bind(send_id)
                .bind(i64::from(position))
                .fetch_one(pool)
                .await?)
        })
    }

    /// Records what the transport did with a send.
    pub async fn set_send_status(&self, id: i64, status: &str, error: Option<&str>) -> Result<()> {
        const SQL: &str = "UPDATE sends SET status = $1, error = $2 WHERE id = $3";
        with_writer!(self, |pool| {
            sqlx::query(SQL)
                .bind(status)
                .bind(error)
                .bind(id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Unsubscribes the contact a send went to, and stops its campaigns.
    pub async fn unsubscribe_send(&self, send_id: i64) -> Result<()> {
        // An erased contact's sends keep the figures they had when it was erased.
        const MARK: &str = "UPDATE sends SET unsubscribed_at = $1
            WHERE id = $2 AND unsubscribed_at IS NULL AND NOT EXISTS (SELECT 1 FROM contacts c
                WHERE c.id = sends.contact_id AND c.erased_at IS NOT NULL)";
        let contact_id = self.send(send_id).await?.contact_id;
        with_writer!(self, |pool| {
            sqlx::query(MARK)
                .bind(now_ms())
                .bind(send_id)
                .execute(pool)
                .await?;
        });
        self.unsubscribe_contact(contact_id, "unsubscribe_link")
            .await?;
        self.unenroll_contact(contact_id).await
    }
}
