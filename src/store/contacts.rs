//! Contacts: the people a CRM emails, their owner, merge fields and tags, and the state that
//! decides whether they still may be emailed.

use std::collections::{BTreeMap, HashMap};

use super::{Error, Result, Store, User, begin, now_ms, with_reader, with_writer};

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

/// Whose CRM records (contacts, templates, campaigns) a caller manages: the whole
/// organisation's for owners and admins, only the ones it owns for everyone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerScope {
    pub org_id: i64,
    /// `Some(user)` narrows to records whose `owner_id` is that user.
    pub owner_id: Option<i64>,
}

impl OwnerScope {
    pub fn of(user: &User) -> OwnerScope {
        OwnerScope {
            org_id: user.org_id,
            owner_id: (!user.role.sees_whole_org()).then_some(user.id),
        }
    }

    /// Whether a record of `org_id` owned by `owner_id` is in this scope.
    pub fn covers(&self, org_id: i64, owner_id: Option<i64>) -> bool {
        org_id == self.org_id && self.owner_id.is_none_or(|me| owner_id == Some(me))
    }
}

/// A contact as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Contact {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub name: String,
    /// `active`, `unsubscribed` or `blocked`.
    pub status: String,
    /// For a blocked contact `hard_bounce`, `complaint` or `manual`; for an unsubscribed
    /// one, how it unsubscribed.
    pub status_reason: Option<String>,
    pub owner_id: Option<i64>,
    pub fields: BTreeMap<String, String>,
    pub tags: Vec<String>,
    /// The contact asked not to be tracked: every later send to it goes untracked.
    pub no_track: bool,
    /// When its personal data was erased; an erased contact is never emailed again.
    pub erased_at: Option<i64>,
    pub created_at: i64,
}

impl Contact {
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ContactRow {
    id: i64,
    org_id: i64,
    email: String,
    name: String,
    status: String,
    status_reason: Option<String>,
    owner_id: Option<i64>,
    fields: String,
    no_track: i64,
    erased_at: Option<i64>,
    created_at: i64,
}

impl ContactRow {
    fn into_contact(self, tags: Vec<String>) -> Contact {
        // The column is only ever written from a `BTreeMap`; an unreadable value would be
        // a hand edit, and showing no fields beats failing every read of the contact.
        let fields = serde_json::from_str(&self.fields).unwrap_or_default();
        Contact {
            id: self.id,
            org_id: self.org_id,
            email: self.email,
            name: self.name,
            status: self.status,
            status_reason: self.status_reason,
            owner_id: self.owner_id,
            fields,
            tags,
            no_track: self.no_track != 0,
            erased_at: self.erased_at,
            created_at: self.created_at,
        }
    }
}

pub(super) const CONTACT_COLUMNS: &str = "c.id, c.org_id, c.email, c.name, c.status,
    c.status_reason, c.owner_id, c.fields, c.no_track, c.erased_at, c.created_at";

/// A contact to create. The email must already be validated; it is stored lower-case.
#[derive(Debug, Clone, Default)]
pub struct NewContact {
    pub email: String,
    pub name: String,
    pub owner_id: Option<i64>,
    pub fields: BTreeMap<String, String>,
    pub tags: Vec<String>,
    /// "Don't track me": every send to the contact goes untracked.
    pub no_track: bool,
}

/// What an update changes; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactPatch {
    pub name: Option<String>,
    /// Replaces every custom field.
    pub fields: Option<BTreeMap<String, String>>,
    /// Replaces every tag.
    pub tags: Option<Vec<String>>,
    pub owner_id: Option<i64>,
    pub no_track: Option<bool>,
}

/// Which contacts a list shows, oldest first, `limit` after the id `after`.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub email: Option<String>,
    pub tag: Option<String>,
    pub status: Option<String>,
    pub after: i64,
    pub limit: i64,
}

impl Store {
    /// Creates a contact; `Conflict` when the organisation has one with this email.
    pub async fn create_contact(&self, org_id: i64, new: &NewContact) -> Result<Contact> {
        const INSERT: &str = "INSERT INTO contacts (org_id, email, name, owner_id, fields,
                created_at, no_track)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        let email = new.email.trim().to_ascii_lowercase();
        let fields = fields_json(&new.fields);
        // In an async block, so a unique violation comes back here to be worded.
        let inserted: Result<i64> = with_writer!(self, |pool| async {
            let mut tx = begin!(pool).await?;
            let id: i64 = sqlx::query_scalar(INSERT)
                .bind(org_id)
                .bind(&email)
                .bind(&new.name)
                .bind(new.owner_id)
                .bind(&fields)
                .bind(now_ms())
                .bind(i64::from(new.no_track))
                .fetch_one(&mut *tx)
                .await?;
            for tag in &new.tags {
                sqlx::query(INSERT_TAG)
                    .bind(id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(id)
        }
        .await);
        match inserted {
            Ok(id) => self.contact(id).await,
            Err(Error::Conflict(_)) => Err(Error::Conflict(format!(
                "a contact with the email {email} exists"
            ))),
            Err(e) => Err(e),
        }
    }

    /// One contact by id, whatever its organisation: callers check scope.
    pub async fn contact(&self, id: i64) -> Result<Contact> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = $1");
        // Through the writer on SQLite, so a contact reads back right after a write.
        let (row, tags) = with_writer!(self, |pool| {
            let row: ContactRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(pool)
                .await?;
            let tags: Vec<String> = sqlx::query_scalar(
                "SELECT tag FROM contact_tags WHERE contact_id = $1 ORDER BY tag",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            (row, tags)
        });
        Ok(row.into_contact(tags))
    }

    /// The contacts in scope that pass the filter, by id.
    pub async fn contacts(
        &self,
        scope: OwnerScope,
        filter: &ContactFilter,
    ) -> Result<Vec<Contact>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c
            WHERE c.org_id = $1 AND ($2 IS NULL OR c.owner_id = $2)
                AND ($3 IS NULL OR c.email = $3) AND ($4 IS NULL OR c.status = $4)
                AND ($5 IS NULL OR EXISTS (SELECT 1 FROM contact_tags t
                    WHERE t.contact_id = c.id AND t.tag = $5))
                AND c.id > $6
            ORDER BY c.id LIMIT $7"
        );
        // Tags of the page's id range in one query, kept for the page's own rows.
        const TAGS: &str = "SELECT t.contact_id, t.tag FROM contact_tags t
            JOIN contacts c ON c.id = t.contact_id
            WHERE c.org_id = $1 AND t.contact_id >= $2 AND t.contact_id <= $3
            ORDER BY t.tag";
        let email = filter
            .email
            .as_deref()
            .map(|e| e.trim().to_ascii_lowercase());
        let (rows, tags) = with_reader!(self, |pool| {
            let rows: Vec<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(scope.org_id)
                .bind(scope.owner_id)
                .bind(&email)
                .bind(&filter.status)
                .bind(&filter.tag)
                .bind(filter.after)
                .bind(filter.limit)
                .fetch_all(pool)
                .await?;
            let (first, last) = match (rows.first(), rows.last()) {
                (Some(first), Some(last)) => (first.id, last.id),
                _ => return Ok(Vec::new()),
            };
            let tags: Vec<(i64, String)> = sqlx::query_as(TAGS)
                .bind(scope.org_id)
                .bind(first)
                .bind(last)
                .fetch_all(pool)
                .await?;
            (rows, tags)
        });
        let mut by_contact: HashMap<i64, Vec<String>> = HashMap::new();
        for (contact_id, tag) in tags {
            by_contact.entry(contact_id).or_default().push(tag);
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let tags = by_contact.remove(&row.id).unwrap_or_default();
                row.into_contact(tags)
            })
            .collect())
    }

    /// Changes a contact's name, fields, tags, owner or tracking choice.
    pub async fn update_contact(&self, id: i64, patch: &ContactPatch) -> Result<Contact> {
        const UPDATE: &str = "UPDATE contacts SET name = COALESCE($1, name),
                fields = COALESCE($2, fields), owner_id = COALESCE($3, owner_id),
                no_track = COALESCE($5, no_track)
            WHERE id = $4";
        const CLEAR_TAGS: &str = "DELETE FROM contact_tags WHERE contact_id = $1";
        let fields = patch.fields.as_ref().map(fields_json);
        with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            let updated = sqlx::query(UPDATE)
                .bind(&patch.name)
                .bind(&fields)
                .bind(patch.owner_id)
                .bind(id)
                .bind(patch.no_track.map(i64::from))
                .execute(&mut *tx)
                .await?;
            if updated.rows_affected() == 0 {
                return Err(Error::NotFound);
            }
            if let Some(tags) = &patch.tags {
                sqlx::query(CLEAR_TAGS).bind(id).execute(&mut *tx).await?;
                for tag in tags {
                    sqlx::query(INSERT_TAG)
                        .bind(id)
                        .bind(tag)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
        });
        self.contact(id).await
    }

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

    /// Lifts a manual block. Bounces, complaints and unsubscribes are the recipient's
    /// word and are never lifted here: `Conflict` for those.
    pub async fn reactivate_contact(&self, contact_id: i64) -> Result<()> {
        const SQL: &str = "UPDATE contacts SET status = 'active', status_reason = NULL
            WHERE id = $1 AND (status = 'active'
                OR (status = 'blocked' AND status_reason = 'manual'))";
        let changed = with_writer!(self, |pool| {
            sqlx::query(SQL)
                .bind(contact_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if changed == 0 {
            return Err(Error::Conflict(
                "only a manual block can be lifted; the recipient's unsubscribe, bounce or \
                 complaint stands"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Stops every future campaign step for a contact, in every campaign, at once. A step
    /// already handed to the send path finishes; nothing after it is sent.
    pub async fn unenroll_contact(&self, contact_id: i64) -> Result<()> {
        let stopped = with_writer!(self, |pool| {
            sqlx::query(super::enrollments::STOP_CONTACT)
                .bind(contact_id)
                .bind("unenrolled")
                .bind(now_ms())
                .execute(pool)
                .await?
                .rows_affected()
        });
        tracing::info!(
            contact.id = contact_id,
            enrollments = stopped,
            "contact unenrolled"
        );
        Ok(())
    }
}

pub(super) const INSERT_TAG: &str =
    "INSERT INTO contact_tags (contact_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING";

pub(super) fn fields_json(fields: &BTreeMap<String, String>) -> String {
    serde_json::to_string(fields).unwrap_or_else(|_| "{}".into())
}
