//! Contacts: the people a CRM emails, and the state that decides whether it still may.

use super::{Result, Store, with_writer};

/// Why a contact may no longer be emailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockReason {
    HardBounce,
    Complaint,
    Manual,
}

impl BlockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockReason::HardBounce => "hard_bounce",
            BlockReason::Complaint => "complaint",
            BlockReason::Manual => "manual",
        }
    }
}

impl Store {
    /// Blocks a contact; a blocked contact is never emailed again.
    pub async fn block_contact(&self, contact_id: i64, reason: BlockReason) -> Result<()> {
        const SQL: &str =
            "UPDATE contacts SET status = 'blocked', status_reason = $1 WHERE id = $2";
        with_writer!(self, |pool| {
            sqlx::query(SQL)
                .bind(reason.as_str())
                .bind(contact_id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Unsubscribes a contact unless it is already blocked, which is the stronger state.
    pub async fn unsubscribe_contact(&self, contact_id: i64, how: &str) -> Result<()> {
        const SQL: &str = "UPDATE contacts SET status = 'unsubscribed', status_reason = $1
            WHERE id = $2 AND status = 'active'";
        with_writer!(self, |pool| {
            sqlx::query(SQL)
                .bind(how)
                .bind(contact_id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Stops every future campaign step for a contact.
    pub async fn unenroll_contact(&self, contact_id: i64) -> Result<()> {
        // Campaign enrollments arrive with the CRM tables; until then there is nothing to
        // stop, and blocking or unsubscribing already keeps every send away.
        let _ = contact_id;
        Ok(())
    }
}
