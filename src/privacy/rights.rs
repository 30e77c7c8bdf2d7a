//! A recipient's rights: export of everything stored about one contact, and erasure of its
//! personal data while its anonymous counters stay, so campaign totals do not change. The
//! API (`/api/v1/contacts/{id}/export`, `/erase`) and the CLI (`mailtally contact export`,
//! `erase`) both come here; what is kept and what goes is in docs/privacy.md.

use crate::store::{self, ErasureReport, Store};
use crate::transport::Transport;

/// What an erasure did, in storage and in the transport's copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Erasure {
    #[serde(flatten)]
    pub store: ErasureReport,
    /// Copies of the contact's messages the transport kept (the outbox's `.eml` files).
    pub message_copies_deleted: u64,
}

/// Erases a contact: its personal data and raw events in one transaction, then any copy
/// of its messages the transport kept. Erasing again deletes whatever copies are left.
pub async fn erase(
    store: &Store,
    transport: &dyn Transport,
    contact_id: i64,
) -> Result<Erasure, store::Error> {
    let report = store.erase_contact(contact_id).await?;
    let send_ids = store.send_ids_of_contact(contact_id).await?;
    // The database no longer names the person; a file left behind is logged, not fatal,
    // and a second erasure removes it.
    let message_copies_deleted = match transport.forget(&send_ids).await {
        Ok(deleted) => deleted,
        Err(error) => {
            tracing::error!(
                contact.id = contact_id,
                %error,
                "copies of an erased contact's messages could not be deleted"
            );
            0
        }
    };
    Ok(Erasure {
        store: report,
        message_copies_deleted,
    })
}
