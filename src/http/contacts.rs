//! `/api/v1/contacts`: list (with an `email` filter), create, show and update contacts,
//! import them from CSV, and send one a CRM email. Callers manage the contacts their role
//! covers: owners and admins the organisation's, everyone else the ones they own.
//!
//! A recipient's rights, for owners and admins only: `GET .../{id}/export` answers
//! everything stored about a contact, `POST .../{id}/erase` erases its personal data.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::json::{JsonBody, QueryParams};
use super::{ApiError, AppState};
use crate::crm::{self, Composition, csv_import, render};
use crate::privacy;
use crate::store::{
    self, BlockReason, Contact, ContactFilter, ContactPatch, ImportOutcome, NewContact, OwnerScope,
    User,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contacts", get(list_contacts).post(create_contact))
        .route("/api/v1/contacts/import", post(import_contacts))
        .route(
            "/api/v1/contacts/{id}",
            get(show_contact).patch(update_contact),
        )
        .route("/api/v1/contacts/{id}/send", post(send_to_contact))
        .route("/api/v1/contacts/{id}/export", get(export_contact))
        .route("/api/v1/contacts/{id}/erase", post(erase_contact))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    email: Option<String>,
    tag: Option<String>,
    status: Option<String>,
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct ContactList {
    contacts: Vec<Contact>,
    /// Pass as `after` for the next page; absent on the last page.
    next_after: Option<i64>,
}

async fn list_contacts(
    State(state): State<AppState>,
    Caller(user): Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<ContactList>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest("`limit` must be 1 to 1000".into()));
    }
    let filter = ContactFilter {
        email: query.email,
        tag: query.tag.map(|t| t.trim().to_lowercase()),
        status: query.status,
        after: query.after,
        limit,
    };
    let contacts = state.store.contacts(OwnerScope::of(&user), &filter).await?;
    let next_after = (contacts.len() as i64 == limit)
        .then(|| contacts.last().map(|c| c.id))
        .flatten();
    Ok(Json(ContactList {
        contacts,
        next_after,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    tags: Vec<String>,
    /// Owners and admins may give the contact to another user; it is the caller's otherwise.
    owner_id: Option<i64>,
    /// "Don't track me": every send to the contact goes untracked.
    #[serde(default)]
    no_track: bool,
}

async fn create_contact(
    State(state): State<AppState>,
    Caller(user): Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    let email = crm::normalise_email(&body.email)
        .ok_or_else(|| ApiError::BadRequest("`email` is not an email address".into()))?;
    check_name(&body.name)?;
    crm::check_fields(&body.fields).map_err(ApiError::BadRequest)?;
    let tags =
        crm::normalise_tags(body.tags.iter().map(String::as_str)).map_err(ApiError::BadRequest)?;
    let owner_id = match body.owner_id {
        Some(owner_id) => check_owner(&state, &user, owner_id).await?,
        None => user.id,
    };

    let new = NewContact {
        email,
        name: body.name.trim().to_string(),
        owner_id: Some(owner_id),
        fields: body.fields,
        tags,
        no_track: body.no_track,
    };
    let contact = state.store.create_contact(user.org_id, &new).await?;
    tracing::info!(
        contact.id = contact.id,
        user.id = user.id,
        "contact created"
    );
    Ok((StatusCode::CREATED, Json(contact)))
}

async fn show_contact(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(visible_contact(&state, &user, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    name: Option<String>,
    /// Replaces every custom field.
    fields: Option<BTreeMap<String, String>>,
    /// Replaces every tag.
    tags: Option<Vec<String>>,
    owner_id: Option<i64>,
    /// `blocked` or `unsubscribed` stop all email and every campaign; `active` lifts a
    /// manual block only.
    status: Option<String>,
    /// `true`: "don't track me", honoured by every later send; `false` lifts it.
    no_track: Option<bool>,
}

async fn update_contact(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<Contact>, ApiError> {
    let contact = visible_contact(&state, &user, &id).await?;
    if contact.erased_at.is_some() {
        return Err(ApiError::Conflict(format!(
            "contact {} was erased and cannot be changed",
            contact.id
        )));
    }
    if let Some(name) = &body.name {
        check_name(name)?;
    }
    if let Some(fields) = &body.fields {
        crm::check_fields(fields).map_err(ApiError::BadRequest)?;
    }
    let tags = match &body.tags {
        Some(tags) => Some(
            crm::normalise_tags(tags.iter().map(String::as_str)).map_err(ApiError::BadRequest)?,
        ),
        None => None,
    };
    let owner_id = match body.owner_id {
        Some(owner_id) => Some(check_owner(&state, &user, owner_id).await?),
        None => None,
    };

    if let Some(status) = body.status.as_deref() {
        set_status(&state, contact.id, status).await?;
    }
    let patch = ContactPatch {
        name: body.name.map(|n| n.trim().to_string()),
        fields: body.fields,
        tags,
        owner_id,
        no_track: body.no_track,
    };
    let contact = state.store.update_contact(contact.id, &patch).await?;
    tracing::info!(
        contact.id = contact.id,
        user.id = user.id,
        "contact updated"
    );
    Ok(Json(contact))
}

async fn set_status(state: &AppState, contact_id: i64, status: &str) -> Result<(), ApiError> {
    match status {
        "active" => state.store.reactivate_contact(contact_id).await?,
        "blocked" => {
            state
                .store
                .block_contact(contact_id, BlockReason::Manual)
                .await?;
            state.store.unenroll_contact(contact_id).await?;
        }
        "unsubscribed" => {
            state
                .store
                .unsubscribe_contact(contact_id, "manual")
                .await?;
            state.store.unenroll_contact(contact_id).await?;
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "`status` {other:?} must be active, blocked or unsubscribed"
            )));
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct ImportRefused {
    error: String,
    rows: Vec<store::RowError>,
}

/// Imports a `text/csv` body: 201 with counts, or 400 listing every bad row with nothing
/// imported.
async fn import_contacts(
    State(state): State<AppState>,
    Caller(user): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let is_csv = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/csv"));
    if !is_csv {
        return Err(ApiError::Unsupported(
            "send the file as `Content-Type: text/csv`".into(),
        ));
    }

    let refused = |rows: Vec<store::RowError>| {
        let error = format!("{} rows are not valid; nothing was imported", rows.len());
        tracing::debug!(user.id = user.id, bad_rows = rows.len(), "import refused");
        (StatusCode::BAD_REQUEST, Json(ImportRefused { error, rows })).into_response()
    };
    let rows = match csv_import::parse(&body) {
        Ok(rows) => rows,
        Err(errors) => return Ok(refused(errors)),
    };
    let scope = OwnerScope::of(&user);
    match state.store.import_contacts(scope, user.id, &rows).await? {
        ImportOutcome::Imported(report) => {
            tracing::info!(
                user.id = user.id,
                created = report.created,
                updated = report.updated,
                "contacts imported"
            );
            Ok((StatusCode::CREATED, Json(report)).into_response())
        }
        ImportOutcome::Refused(errors) => Ok(refused(errors)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    /// A saved template, or a written email in `subject`, `html` and `text`.
    template_id: Option<i64>,
    subject: Option<String>,
    html: Option<String>,
    text: Option<String>,
    /// `false` sends this one email untracked.
    track: Option<bool>,
}

#[derive(Serialize)]
struct SendAnswer {
    id: i64,
    tracked: bool,
    status: String,
    error: Option<String>,
    warnings: Vec<String>,
}

/// Sends one email to one contact, rendered for it: 409 with the reason when the contact
/// is blocked or unsubscribed.
async fn send_to_contact(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SendBody>,
) -> Result<(StatusCode, Json<SendAnswer>), ApiError> {
    let contact = visible_contact(&state, &user, &id).await?;
    let template = match body.template_id {
        Some(template_id) => {
            let scope = OwnerScope::of(&user);
            Some(state.store.template_in_org(scope, template_id).await?)
        }
        None => None,
    };
    let composition = match (&template, &body.subject, &body.html) {
        (Some(template), None, None) if body.text.is_none() => Composition::Template(template),
        (None, Some(subject), Some(html)) => Composition::Written(render::Parts {
            subject,
            html,
            text: body.text.as_deref(),
        }),
        _ => {
            return Err(ApiError::BadRequest(
                "give either `template_id`, or `subject` and `html` (and optionally `text`)".into(),
            ));
        }
    };

    let track = body.track.unwrap_or(true);
    let report = crm::send_to_contact(&state.mailer, &user, &contact, composition, track).await?;
    tracing::info!(
        contact.id = contact.id,
        send.id = report.id,
        user.id = user.id,
        "crm email sent"
    );
    Ok(answer(report))
}

fn answer(report: crate::sending::Report) -> (StatusCode, Json<SendAnswer>) {
    let answer = SendAnswer {
        id: report.id,
        tracked: report.tracked,
        status: report.status,
        error: report.error,
        warnings: report.warnings,
    };
    (StatusCode::CREATED, Json(answer))
}

/// Owners and admins answer for the organisation's data; nobody else exports or erases it.
fn check_rights_officer(user: &User) -> Result<(), ApiError> {
    if !user.role.sees_whole_org() {
        return Err(ApiError::Forbidden(
            "only owners and admins export or erase a contact's data".into(),
        ));
    }
    Ok(())
}

/// Everything stored about one contact, as JSON: the contact with its tags, fields and
/// tracking choice, every send with its counters, links and raw events, and enrollments.
async fn export_contact(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<store::ContactExport>, ApiError> {
    check_rights_officer(&user)?;
    let contact = visible_contact(&state, &user, &id).await?;
    let export = state.store.export_contact(contact.id).await?;
    tracing::info!(
        contact.id = contact.id,
        user.id = user.id,
        sends = export.sends.len(),
        "contact exported"
    );
    Ok(Json(export))
}

/// Erases a contact's personal data and raw events; its counters stay, so campaign totals
/// do not change, and it is blocked for good. Erasing again answers the same, with
/// `already_erased`.
async fn erase_contact(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<privacy::rights::Erasure>, ApiError> {
    check_rights_officer(&user)?;
    let contact = visible_contact(&state, &user, &id).await?;
    let erasure =
        privacy::rights::erase(&state.store, state.mailer.transport.as_ref(), contact.id).await?;
    tracing::info!(
        contact.id = contact.id,
        user.id = user.id,
        already = erasure.store.already_erased,
        "contact erasure requested"
    );
    Ok(Json(erasure))
}

/// The contact with this id, if the caller manages it; 404 otherwise, so callers cannot
/// probe for other people's contacts.
pub(super) async fn visible_contact(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<Contact, ApiError> {
    let not_found = || ApiError::NotFound(format!("no contact {id}"));
    let contact_id: i64 = id.parse().map_err(|_| not_found())?;
    let contact = match state.store.contact(contact_id).await {
        Ok(contact) => contact,
        Err(store::Error::NotFound) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if !OwnerScope::of(user).covers(contact.org_id, contact.owner_id) {
        return Err(not_found());
    }
    Ok(contact)
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if !crm::is_display_name(name) {
        return Err(ApiError::BadRequest(
            "`name` must be at most 200 characters, on one line".into(),
        ));
    }
    Ok(())
}

/// Only owners and admins hand contacts to others, and only to users of their organisation.
pub(super) async fn check_owner(
    state: &AppState,
    user: &User,
    owner_id: i64,
) -> Result<i64, ApiError> {
    if owner_id == user.id {
        return Ok(owner_id);
    }
    if !user.role.sees_whole_org() {
        return Err(ApiError::Forbidden(
            "only owners and admins assign records to other users".into(),
        ));
    }
    match state.store.user_by_id(owner_id).await {
        Ok(owner) if owner.org_id == user.org_id => Ok(owner_id),
        Ok(_) | Err(store::Error::NotFound) => Err(ApiError::BadRequest(format!(
            "no user {owner_id} in this organisation"
        ))),
        Err(e) => Err(e.into()),
    }
}
