//! Templates with bodies: a subject, an HTML and an optional text body, rendered per
//! contact by `crm::render`. They share the `templates` table with the bare names the sends
//! API records, so a template's sends are grouped under it in the stats; those bare names
//! have no subject and are not templates here.

use super::{Error, OwnerScope, Result, Store, now_ms, with_reader, with_writer};

/// A template as stored and shown.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Template {
    pub id: i64,
    pub org_id: i64,
    pub owner_id: Option<i64>,
    pub name: String,
    pub subject: String,
    pub html: String,
    pub text: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The parts of a template an author writes.
#[derive(Debug, Clone, Default)]
pub struct TemplateContent {
    pub name: String,
    pub subject: String,
    pub html: String,
    pub text: Option<String>,
}

/// What a template update changes; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct TemplatePatch {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub html: Option<String>,
    /// `Some(None)` removes the text body.
    pub text: Option<Option<String>>,
}

const TEMPLATE_COLUMNS: &str = "id, org_id, owner_id, name, subject, html, text_body AS text,
    created_at, COALESCE(updated_at, created_at) AS updated_at";

impl Store {
    /// Creates a template; `Conflict` when the organisation has one of that name.
    pub async fn create_template(
        &self,
        org_id: i64,
        owner_id: i64,
        content: &TemplateContent,
    ) -> Result<Template> {
        const INSERT: &str = "INSERT INTO templates (org_id, owner_id, name, subject, html,
                text_body, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id";
        let now = now_ms();
        let inserted: Result<i64> = with_writer!(self, |pool| {
            sqlx::query_scalar(INSERT)
                .bind(org_id)
                .bind(owner_id)
                .bind(&content.name)
                .bind(&content.subject)
                .bind(&content.html)
                .bind(&content.text)
                .bind(now)
                .fetch_one(pool)
                .await
                .map_err(Error::from)
        });
        match inserted {
            Ok(id) => self.template(id).await,
            Err(Error::Conflict(_)) => Err(name_taken(&content.name)),
            Err(e) => Err(e),
        }
    }

    /// One template by id, whatever its organisation: callers check scope.
    pub async fn template(&self, id: i64) -> Result<Template> {
        let sql = format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE id = $1 AND subject IS NOT NULL"
        );
        with_writer!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(pool)
                .await?)
        })
    }

    /// The templates of an organisation, by name.
    pub async fn templates(&self, org_id: i64) -> Result<Vec<Template>> {
        let sql = format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates
            WHERE org_id = $1 AND subject IS NOT NULL ORDER BY name, id"
        );
        with_reader!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .fetch_all(pool)
                .await?)
        })
    }

    /// Changes a template. Sends already made keep what they were sent with: their
    /// subject, and their links in `send_links`; nothing re-renders an old send.
    pub async fn update_template(&self, id: i64, patch: &TemplatePatch) -> Result<Template> {
        const UPDATE: &str = "UPDATE templates SET name = COALESCE($1, name),
                subject = COALESCE($2, subject), html = COALESCE($3, html),
                text_body = CASE WHEN $4 = 1 THEN $5 ELSE text_body END, updated_at = $6
            WHERE id = $7 AND subject IS NOT NULL";
        let (set_text, text) = match &patch.text {
            Some(text) => (1_i64, text.clone()),
            None => (0, None),
        };
        let updated: Result<u64> = with_writer!(self, |pool| {
            sqlx::query(UPDATE)
                .bind(&patch.name)
                .bind(&patch.subject)
                .bind(&patch.html)
                .bind(set_text)
                .bind(text)
                .bind(now_ms())
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
                .map_err(Error::from)
        });
        match updated {
            Ok(0) => Err(Error::NotFound),
            Ok(_) => self.template(id).await,
            Err(Error::Conflict(_)) => Err(name_taken(patch.name.as_deref().unwrap_or(""))),
            Err(e) => Err(e),
        }
    }

    /// Whether a template exists in an organisation and the scope may use it. Every
    /// template of the organisation may be used; see `http::templates`.
    pub async fn template_in_org(&self, scope: OwnerScope, id: i64) -> Result<Template> {
        let template = self.template(id).await?;
        if template.org_id != scope.org_id {
            return Err(Error::NotFound);
        }
        Ok(template)
    }
}

fn name_taken(name: &str) -> Error {
    Error::Conflict(format!(
        "the name {name:?} is taken by another template or a send"
    ))
}
