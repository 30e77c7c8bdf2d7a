//! Mailgun's side of storage: tenant settings (keys sealed by the caller), the send an event
//! belongs to, delivery outcomes on sends, and the webhook tokens and event ids already seen.

use super::{Result, Role, Store, now_ms, with_reader, with_writer};

/// A tenant's Mailgun settings as stored; secret columns hold sealed bytes only.
#[derive(Clone, Default, sqlx::FromRow)]
pub struct MailgunSettingsRow {
    /// `org` or `team`.
    pub tenant_kind: String,
    /// The organisation's id, or the partner's user id for a team.
    pub tenant_id: i64,
    pub org_id: i64,
    pub signing_key: Option<Vec<u8>>,
    pub signing_key_set_at: Option<i64>,
    pub previous_signing_key: Option<Vec<u8>>,
    pub previous_key_until: Option<i64>,
    pub domain: Option<String>,
    pub api_key: Option<Vec<u8>>,
    pub region: Option<String>,
    pub base_url: Option<String>,
    pub account_set_at: Option<i64>,
    pub updated_at: i64,
}

/// What the webhook needs to know of a send: whose it is and where it went.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailgunSend {
    pub id: i64,
    pub org_id: i64,
    /// The partner team the sender belongs to: a partner's own id, a sales rep's partner.
    pub team_id: Option<i64>,
    pub contact_id: i64,
    pub created_at: i64,
    /// The contact's personal data was erased: the event is verified, then ignored.
    pub contact_erased: bool,
}

/// A send's delivery outcome as Mailgun reported it, with its contact's state.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DeliveryState {
    pub send_id: i64,
    pub status: String,
    pub error: Option<String>,
    pub provider_message_id: Option<String>,
    pub soft_bounces: i64,
    pub complained_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
    pub contact_status: String,
    pub contact_status_reason: Option<String>,
}

/// The one value an outcome update sets.
enum Value<'a> {
    Text(&'a str),
    Time(i64),
}

const SETTINGS_COLUMNS: &str = "tenant_kind, tenant_id, org_id, signing_key,
    signing_key_set_at, previous_signing_key, previous_key_until, domain, api_key, region,
    base_url, account_set_at, updated_at";

/// The send columns plus its partner team, from the sender's role, and whether its contact
/// was erased.
const SEND_SELECT: &str = "SELECT s.id, s.org_id,
        CASE WHEN u.role = $1 THEN u.id WHEN u.role = $2 THEN u.partner_id END AS team_id,
        s.contact_id, s.created_at, c.erased_at IS NOT NULL AS contact_erased
    FROM sends s JOIN users u ON u.id = s.sender_id JOIN contacts c ON c.id = s.contact_id";

impl Store {
    /// The Mailgun settings of one tenant, if it has any.
    pub async fn mailgun_settings(
        &self,
        tenant_kind: &str,
        tenant_id: i64,
    ) -> Result<Option<MailgunSettingsRow>> {
        let sql = format!(
            "SELECT {SETTINGS_COLUMNS} FROM mailgun_settings
            WHERE tenant_kind = $1 AND tenant_id = $2"
        );
        // Through the writer on SQLite, so a key is used right after it is saved.
        with_writer!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(tenant_kind)
                .bind(tenant_id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Writes a tenant's whole settings row.
    pub async fn put_mailgun_settings(&self, row: &MailgunSettingsRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO mailgun_settings ({SETTINGS_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            ON CONFLICT (tenant_kind, tenant_id) DO UPDATE SET
                org_id = excluded.org_id, signing_key = excluded.signing_key,
                signing_key_set_at = excluded.signing_key_set_at,
                previous_signing_key = excluded.previous_signing_key,
                previous_key_until = excluded.previous_key_until, domain = excluded.domain,
                api_key = excluded.api_key, region = excluded.region,
                base_url = excluded.base_url, account_set_at = excluded.account_set_at,
                updated_at = excluded.updated_at"
        );
        with_writer!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&row.tenant_kind)
                .bind(row.tenant_id)
                .bind(row.org_id)
                .bind(&row.signing_key)
                .bind(row.signing_key_set_at)
                .bind(&row.previous_signing_key)
                .bind(row.previous_key_until)
                .bind(&row.domain)
                .bind(&row.api_key)
                .bind(&row.region)
                .bind(&row.base_url)
                .bind(row.account_set_at)
                .bind(row.updated_at)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Removes a tenant's settings; whether there were any.
    pub async fn delete_mailgun_settings(&self, tenant_kind: &str, tenant_id: i64) -> Result<bool> {
        const SQL: &str = "DELETE FROM mailgun_settings WHERE tenant_kind = $1 AND tenant_id = $2";
        with_writer!(self, |pool| {
            let done = sqlx::query(SQL)
                .bind(tenant_kind)
                .bind(tenant_id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// The send with this id, for a webhook.
    pub async fn mailgun_send(&self, send_id: i64) -> Result<Option<MailgunSend>> {
        let sql = format!("{SEND_SELECT} WHERE s.id = $3");
        with_writer!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(Role::Partner.as_str())
                .bind(Role::SalesRep.as_str())
                .bind(send_id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// The send Mailgun knows by this message id (without angle brackets).
    pub async fn mailgun_send_by_message_id(
        &self,
        message_id: &str,
    ) -> Result<Option<MailgunSend>> {
        let sql = format!("{SEND_SELECT} WHERE s.provider_message_id = $3 ORDER BY s.id LIMIT 1");
        with_writer!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(Role::Partner.as_str())
                .bind(Role::SalesRep.as_str())
                .bind(message_id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Stores the id the provider gave a send's message.
    pub async fn set_provider_message_id(&self, send_id: i64, message_id: &str) -> Result<()> {
        const SQL: &str = "UPDATE sends SET provider_message_id = $1 WHERE id = $2";
        with_writer!(self, |pool| {
            sqlx::query(SQL)
                .bind(message_id)
                .bind(send_id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Remembers a webhook token; `false` when it was seen before. Forgets tokens seen
    /// before `forget_before` (ms) on the way, which are too old to verify anyway.
    pub async fn claim_webhook_token(&self, token: &str, forget_before: i64) -> Result<bool> {
        const PRUNE: &str = "DELETE FROM mailgun_webhook_tokens WHERE seen_at < $1";
        const CLAIM: &str = "INSERT INTO mailgun_webhook_tokens (token, seen_at) VALUES ($1, $2)
            ON CONFLICT (token) DO NOTHING";
        with_writer!(self, |pool| {
            sqlx::query(PRUNE).bind(forget_before).execute(pool).await?;
            let done = sqlx::query(CLAIM)
                .bind(token)
                .bind(now_ms())
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Forgets a token whose event could not be processed, so Mailgun's retry is accepted.
    pub async fn release_webhook_token(&self, token: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM mailgun_webhook_tokens WHERE token = $1";
        with_writer!(self, |pool| {
            sqlx::query(SQL).bind(token).execute(pool).await?;
            Ok(())
        })
    }

    /// Marks a Mailgun event id as processed; `false` when it already was. Forgets ids
    /// processed before `forget_before` (ms).
    pub async fn claim_mailgun_event(
        &self,
        event_id: &str,
        send_id: i64,
        forget_before: i64,
    ) -> Result<bool> {
        const PRUNE: &str = "DELETE FROM mailgun_events WHERE processed_at < $1";
        const CLAIM: &str = "INSERT INTO mailgun_events (event_id, send_id, processed_at)
            VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING";
        with_writer!(self, |pool| {
            sqlx::query(PRUNE).bind(forget_before).execute(pool).await?;
            let done = sqlx::query(CLAIM)
                .bind(event_id)
                .bind(send_id)
                .bind(now_ms())
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Forgets an event id whose effects could not be stored, so a retry applies them.
    pub async fn release_mailgun_event(&self, event_id: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM mailgun_events WHERE event_id = $1";
        with_writer!(self, |pool| {
            sqlx::query(SQL).bind(event_id).execute(pool).await?;
            Ok(())
        })
    }

    /// A permanent failure: the send bounced, with the receiving server's words.
    pub async fn mark_send_bounced(&self, send_id: i64, error: &str) -> Result<()> {
        const SQL: &str = "UPDATE sends SET status = 'bounced', error = $1 WHERE id = $2";
        self.update_send(SQL, Value::Text(error), send_id).await
    }

    /// A temporary failure: counted on the send, which may still be delivered.
    pub async fn add_soft_bounce(&self, send_id: i64) -> Result<()> {
        const SQL: &str = "UPDATE sends SET soft_bounces = soft_bounces + 1 WHERE id = $1";
        with_writer!(self, |pool| {
            sqlx::query(SQL).bind(send_id).execute(pool).await?;
            Ok(())
        })
    }

    /// The recipient reported the send as spam (the first report's time is kept).
    pub async fn mark_send_complained(&self, send_id: i64, at: i64) -> Result<()> {
        const SQL: &str =
            "UPDATE sends SET complained_at = COALESCE(complained_at, $1) WHERE id = $2";
        self.update_send(SQL, Value::Time(at), send_id).await
    }

    /// The recipient unsubscribed through Mailgun (the first time is kept).
    pub async fn mark_send_unsubscribed(&self, send_id: i64, at: i64) -> Result<()> {
        const SQL: &str =
            "UPDATE sends SET unsubscribed_at = COALESCE(unsubscribed_at, $1) WHERE id = $2";
        self.update_send(SQL, Value::Time(at), send_id).await
    }

    async fn update_send(&self, sql: &'static str, value: Value<'_>, send_id: i64) -> Result<()> {
        with_writer!(self, |pool| {
            let query = sqlx::query(sql);
            let query = match value {
                Value::Text(text) => query.bind(text),
                Value::Time(at) => query.bind(at),
            };
            query.bind(send_id).execute(pool).await?;
            Ok(())
        })
    }

    /// A send's delivery outcome and its contact's state.
    pub async fn delivery_state(&self, send_id: i64) -> Result<DeliveryState> {
        const SQL: &str = "SELECT s.id AS send_id, s.status, s.error, s.provider_message_id,
                s.soft_bounces, s.complained_at, s.unsubscribed_at, c.status AS contact_status,
                c.status_reason AS contact_status_reason
            FROM sends s JOIN contacts c ON c.id = s.contact_id WHERE s.id = $1";
        with_reader!(self, |pool| {
            Ok(sqlx::query_as(SQL).bind(send_id).fetch_one(pool).await?)
        })
    }
}
