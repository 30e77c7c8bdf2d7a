//! The storage half of a CSV import: every row in one transaction, so a file with any bad
//! row imports nothing. Parsing and per-row validation live in `crm::csv_import`.

use std::collections::BTreeMap;

use super::contacts::{INSERT_TAG, fields_json};
use super::{OwnerScope, Result, Store, begin, now_ms, with_writer};

/// One valid row of an import.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The line of the file it came from, for error messages.
    pub line: u64,
    /// Lower-case, validated.
    pub email: String,
    /// Empty keeps an existing contact's name.
    pub name: String,
    /// Merged over an existing contact's fields.
    pub fields: BTreeMap<String, String>,
    /// Added to an existing contact's tags.
    pub tags: Vec<String>,
    /// "Don't track me"; `None` keeps an existing contact's choice (a new one is tracked).
    pub no_track: Option<bool>,
}

/// A row the import refused, by line of the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
}

/// An import either happened whole or not at all.
#[derive(Debug)]
pub enum ImportOutcome {
    Imported(ImportReport),
    Refused(Vec<RowError>),
}

impl Store {
    /// Creates or updates one contact per row, owned by `importer` when new. Contacts the
    /// scope does not cover are refused rows. Status is never changed by an import, so an
    /// import cannot bring back a contact that unsubscribed or bounced.
    pub async fn import_contacts(
        &self,
        scope: OwnerScope,
        importer: i64,
        rows: &[ImportRow],
    ) -> Result<ImportOutcome> {
        const FIND: &str =
            "SELECT id, owner_id, fields FROM contacts WHERE org_id = $1 AND email = $2";
        const INSERT: &str = "INSERT INTO contacts (org_id, email, name, owner_id, fields,
                created_at, no_track)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        const UPDATE: &str = "UPDATE contacts
            SET name = CASE WHEN $1 = '' THEN name ELSE $1 END, fields = $2,
                no_track = COALESCE($4, no_track)
            WHERE id = $3";

        let now = now_ms();
        let mut report = ImportReport::default();
        let mut refused = Vec::new();
        with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            for row in rows {
                let existing: Option<(i64, Option<i64>, String)> = sqlx::query_as(FIND)
                    .bind(scope.org_id)
                    .bind(&row.email)
                    .fetch_optional(&mut *tx)
                    .await?;
                let contact_id = match existing {
                    Some((_, owner_id, _)) if !scope.covers(scope.org_id, owner_id) => {
                        refused.push(RowError {
                            line: row.line,
                            message: format!("{} is managed by another user", row.email),
                        });
                        continue;
                    }
                    Some((id, _, fields)) => {
                        let mut merged: BTreeMap<String, String> =
                            serde_json::from_str(&fields).unwrap_or_default();
                        merged.extend(row.fields.clone());
                        sqlx::query(UPDATE)
                            .bind(&row.name)
                            .bind(fields_json(&merged))
                            .bind(id)
                            .bind(row.no_track.map(i64::from))
                            .execute(&mut *tx)
                            .await?;
                        report.updated += 1;
                        id
                    }
                    None => {
                        let id: i64 = sqlx::query_scalar(INSERT)
                            .bind(scope.org_id)
                            .bind(&row.email)
                            .bind(&row.name)
                            .bind(importer)
                            .bind(fields_json(&row.fields))
                            .bind(now)
                            .bind(i64::from(row.no_track.unwrap_or(false)))
                            .fetch_one(&mut *tx)
                            .await?;
                        report.created += 1;
                        id
                    }
                };
                for tag in &row.tags {
                    sqlx::query(INSERT_TAG)
                        .bind(contact_id)
                        .bind(tag)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            if !refused.is_empty() {
                tx.rollback().await?;
                return Ok(ImportOutcome::Refused(refused));
            }
            tx.commit().await?;
        });
        Ok(ImportOutcome::Imported(report))
    }
}
