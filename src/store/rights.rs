//! A recipient's rights in storage: everything stored about one contact, and its erasure.
//!
//! Erasure keeps the rows that carry counters (the contact, its sends, their link
//! positions, enrollments and campaign steps) so every campaign total stays as it was, and
//! removes what points at the person: address, name, fields, tags, subjects, delivery
//! errors, provider ids, link targets past their origin, and every raw event.

use super::{Contact, EventRow, LinkRow, Result, Store, begin, now_ms, with_writer};

/// Every send of a contact as stored, with the names of its campaign and template.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ExportedSendRow {
    pub id: i64,
    pub sender_id: i64,
    pub campaign_id: Option<i64>,
    pub campaign: Option<String>,
    pub template_id: Option<i64>,
    pub template: Option<String>,
    pub to_email: String,
    pub subject: String,
    pub tracked: bool,
    pub status: String,
    pub error: Option<String>,
    pub provider_message_id: Option<String>,
    pub created_at: i64,
    pub opens: i64,
    pub clicks: i64,
    pub mpp_opens: i64,
    pub filtered: i64,
    pub first_opened_at: Option<i64>,
    pub first_clicked_at: Option<i64>,
    pub soft_bounces: i64,
    pub complained_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
    pub events_purged_before: Option<i64>,
    pub events_purged_at: Option<i64>,
}

/// One send in an export: the row, its links with their clicks, its stored raw events and
/// the provider webhook events processed for it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportedSend {
    #[serde(flatten)]
    pub send: ExportedSendRow,
    pub links: Vec<LinkRow>,
    pub events: Vec<EventRow>,
    pub provider_events: Vec<ProviderEvent>,
}

/// A Mailgun webhook event id processed for a send (kept to ignore Mailgun's retries).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ProviderEvent {
    pub event_id: String,
    pub processed_at: i64,
}

/// One campaign the contact was enrolled in.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ExportedEnrollment {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign: String,
    pub status: String,
    pub stop_reason: Option<String>,
    pub next_step: i64,
    pub next_due_at: Option<i64>,
    pub enrolled_at: i64,
    pub updated_at: i64,
}

/// A campaign step the scheduler took for the contact.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ExportedStep {
    pub enrollment_id: i64,
    pub campaign_id: i64,
    pub step_index: i64,
    pub outcome: String,
    pub send_id: Option<i64>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Everything stored about one contact.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContactExport {
    pub exported_at: i64,
    /// With its tags, custom fields and tracking choice.
    pub contact: Contact,
    pub sends: Vec<ExportedSend>,
    pub enrollments: Vec<ExportedEnrollment>,
    pub campaign_steps: Vec<ExportedStep>,
}

/// What an erasure did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErasureReport {
    pub contact_id: i64,
    pub erased_at: i64,
    /// `true` when the contact had been erased before; nothing more was done.
    pub already_erased: bool,
    /// Sends whose address, subject and link targets were removed; their counters stay.
    pub sends: u64,
    pub events_deleted: u64,
    pub links_cut: u64,
    pub enrollments_stopped: u64,
    pub provider_events_deleted: u64,
}

/// The stand-in address of an erased contact: unique per contact, and in a reserved
/// domain (RFC 2606) that can never receive mail.
pub fn erased_email(contact_id: i64) -> String {
    format!("erased-{contact_id}@erased.invalid")
}

/// What is kept of a link target after erasure: its origin only (`https://host/`), since
/// paths and queries may carry a recipient's tokens or merge fields.
pub fn erased_url(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(parsed) => match parsed.origin() {
            origin @ url::Origin::Tuple(..) => format!("{}/", origin.ascii_serialization()),
            url::Origin::Opaque(_) => format!("{}:", parsed.scheme()),
        },
        Err(_) => String::new(),
    }
}

/// The sends of contact $1.
const SENDS_OF: &str = "SELECT id FROM sends WHERE contact_id = $1";

impl Store {
    /// Everything stored about a contact, whatever its organisation: callers check scope.
    pub async fn export_contact(&self, contact_id: i64) -> Result<ContactExport> {
        const SENDS: &str = "SELECT s.id, s.sender_id, s.campaign_id, k.name AS campaign,
                s.template_id, t.name AS template, s.to_email, s.subject,
                s.tracked = 1 AS tracked, s.status, s.error, s.provider_message_id,
                s.created_at, s.opens, s.clicks, s.mpp_opens, s.filtered, s.first_opened_at,
                s.first_clicked_at, s.soft_bounces, s.complained_at, s.unsubscribed_at,
                s.events_purged_before, s.events_purged_at
            FROM sends s LEFT JOIN campaigns k ON k.id = s.campaign_id
                LEFT JOIN templates t ON t.id = s.template_id
            WHERE s.contact_id = $1 ORDER BY s.created_at, s.id";
        const PROVIDER_EVENTS: &str = "SELECT event_id, processed_at FROM mailgun_events
            WHERE send_id = $1 ORDER BY processed_at, event_id";
        const ENROLLMENTS: &str = "SELECT e.id, e.campaign_id, k.name AS campaign, e.status,
                e.stop_reason, e.next_step, e.next_due_at, e.enrolled_at, e.updated_at
            FROM enrollments e JOIN campaigns k ON k.id = e.campaign_id
            WHERE e.contact_id = $1 ORDER BY e.id";
        const STEPS: &str = "SELECT enrollment_id, campaign_id, step_index, outcome, send_id,
                error, created_at, updated_at
            FROM step_sends WHERE contact_id = $1 ORDER BY enrollment_id, step_index";

        let contact = self.contact(contact_id).await?;
        let rows: Vec<ExportedSendRow>;
        let enrollments: Vec<ExportedEnrollment>;
        let campaign_steps: Vec<ExportedStep>;
        let mut provider_events = Vec::new();
        // Through the writer on SQLite, so the export sees the latest writes.
        with_writer!(self, |pool| {
            rows = sqlx::query_as(SENDS)
                .bind(contact_id)
                .fetch_all(pool)
                .await?;
            for row in &rows {
                let events: Vec<ProviderEvent> = sqlx::query_as(PROVIDER_EVENTS)
                    .bind(row.id)
                    .fetch_all(pool)
                    .await?;
                provider_events.push(events);
            }
            enrollments = sqlx::query_as(ENROLLMENTS)
                .bind(contact_id)
                .fetch_all(pool)
                .await?;
            campaign_steps = sqlx::query_as(STEPS)
                .bind(contact_id)
                .fetch_all(pool)
                .await?;
        });

        let mut sends = Vec::with_capacity(rows.len());
        for (send, provider_events) in rows.into_iter().zip(provider_events) {
            let links = self.links(send.id).await?;
            let events = self.events(send.id).await?;
            sends.push(ExportedSend {
                send,
                links,
                events,
                provider_events,
            });
        }
        Ok(ContactExport {
            exported_at: now_ms(),
            contact,
            sends,
            enrollments,
            campaign_steps,
        })
    }

    /// Erases a contact's personal data in one transaction, keeping its anonymous counters
    /// so campaign totals do not change. The contact is blocked for good under a stand-in
    /// address. Erasing an erased contact does nothing. `NotFound` for no such contact.
    pub async fn erase_contact(&self, contact_id: i64) -> Result<ErasureReport> {
        const FIND: &str = "SELECT erased_at FROM contacts WHERE id = $1";
        const CONTACT: &str = "UPDATE contacts SET email = $2, name = '', fields = '{}',
                status = 'blocked', status_reason = 'erased', no_track = 1, erased_at = $3
            WHERE id = $1";
        const TAGS: &str = "DELETE FROM contact_tags WHERE contact_id = $1";
        const EVENTS: &str =
            "DELETE FROM events WHERE send_id IN (SELECT id FROM sends WHERE contact_id = $1)";
        const PROVIDER_EVENTS: &str = "DELETE FROM mailgun_events
            WHERE send_id IN (SELECT id FROM sends WHERE contact_id = $1)";
        // Errors are the receiving server's words, which often quote the address.
        const SENDS: &str = "UPDATE sends SET to_email = $2, subject = '',
                error = CASE WHEN error IS NULL THEN NULL ELSE 'erased' END,
                provider_message_id = NULL, events_purged_before = $3, events_purged_at = $3,
                events_version = events_version + 1
            WHERE contact_id = $1";
        const LINKS: &str = "SELECT l.send_id, l.position, l.url FROM send_links l
            JOIN sends s ON s.id = l.send_id WHERE s.contact_id = $1";
        const CUT_LINK: &str =
            "UPDATE send_links SET url = $3 WHERE send_id = $1 AND position = $2";
        const STEP_ERRORS: &str = "UPDATE step_sends SET error = 'erased'
            WHERE contact_id = $1 AND error IS NOT NULL";

        let now = now_ms();
        let email = erased_email(contact_id);
        let mut report = ErasureReport {
            contact_id,
            erased_at: now,
            ..ErasureReport::default()
        };
        with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            let erased_at: Option<i64> = sqlx::query_scalar(FIND)
                .bind(contact_id)
                .fetch_one(&mut *tx)
                .await?;
            if let Some(erased_at) = erased_at {
                tx.rollback().await?;
                report.erased_at = erased_at;
                report.already_erased = true;
                return Ok(report);
            }
            sqlx::query(CONTACT)
                .bind(contact_id)
                .bind(&email)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(TAGS).bind(contact_id).execute(&mut *tx).await?;
            report.events_deleted = sqlx::query(EVENTS)
                .bind(contact_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            report.provider_events_deleted = sqlx::query(PROVIDER_EVENTS)
                .bind(contact_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            report.sends = sqlx::query(SENDS)
                .bind(contact_id)
                .bind(&email)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let links: Vec<(i64, i64, String)> = sqlx::query_as(LINKS)
                .bind(contact_id)
                .fetch_all(&mut *tx)
                .await?;
            for (send_id, position, url) in &links {
                let kept = erased_url(url);
                if kept == *url {
                    continue;
                }
                sqlx::query(CUT_LINK)
                    .bind(send_id)
                    .bind(position)
                    .bind(kept)
                    .execute(&mut *tx)
                    .await?;
                report.links_cut += 1;
            }
            report.enrollments_stopped = sqlx::query(super::enrollments::STOP_CONTACT)
                .bind(contact_id)
                .bind("erased")
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(STEP_ERRORS)
                .bind(contact_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        tracing::info!(
            contact.id = contact_id,
            sends = report.sends,
            events = report.events_deleted,
            links = report.links_cut,
            enrollments = report.enrollments_stopped,
            "contact erased"
        );
        Ok(report)
    }

    /// The ids of a contact's sends, such as those whose outbox copies an erasure removes.
    pub async fn send_ids_of_contact(&self, contact_id: i64) -> Result<Vec<i64>> {
        with_writer!(self, |pool| {
            Ok(sqlx::query_scalar(SENDS_OF)
                .bind(contact_id)
                .fetch_all(pool)
                .await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_origin_of_a_link() {
        assert_eq!(
            erased_url("https://Example.com/u/ada?token=abc#x"),
            "https://example.com/"
        );
        assert_eq!(
            erased_url("http://example.com:8080/a"),
            "http://example.com:8080/"
        );
        assert_eq!(erased_url("mailto:ada@example.org"), "mailto:");
        assert_eq!(erased_url("not a url"), "");
        assert_eq!(erased_email(42), "erased-42@erased.invalid");
    }
}
