//! `/api/v1/templates`: email templates with merge fields. Everyone in an organisation may
//! read and use its templates; their author, owners and admins may change them. A template
//! is checked by rendering it for a sample contact before it is saved.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Deserializer, Serialize};

use super::auth::Caller;
use super::contacts::visible_contact;
use super::json::JsonBody;
use super::{ApiError, AppState};
use crate::crm::render::{self, Parts};
use crate::sending::MAX_HTML_BYTES;
use crate::store::{self, OwnerScope, Template, TemplateContent, TemplatePatch, User};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/templates",
            get(list_templates).post(create_template),
        )
        .route(
            "/api/v1/templates/{id}",
            get(show_template).patch(update_template),
        )
        .route("/api/v1/templates/{id}/preview", post(preview_template))
}

#[derive(Serialize)]
struct TemplateList {
    templates: Vec<Template>,
}

async fn list_templates(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<TemplateList>, ApiError> {
    let templates = state.store.templates(user.org_id).await?;
    Ok(Json(TemplateList { templates }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    subject: String,
    html: String,
    text: Option<String>,
}

async fn create_template(
    State(state): State<AppState>,
    Caller(user): Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    let content = TemplateContent {
        name: body.name.trim().to_string(),
        subject: body.subject,
        html: body.html,
        text: body.text,
    };
    check(&content)?;
    let template = state
        .store
        .create_template(user.org_id, user.id, &content)
        .await?;
    tracing::info!(
        template.id = template.id,
        user.id = user.id,
        "template created"
    );
    Ok((StatusCode::CREATED, Json(template)))
}

async fn show_template(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(template_in_org(&state, &user, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    name: Option<String>,
    subject: Option<String>,
    html: Option<String>,
    /// `null` removes the text body; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    text: Option<Option<String>>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

async fn update_template(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<Template>, ApiError> {
    let current = template_in_org(&state, &user, &id).await?;
    let may_edit = OwnerScope::of(&user).covers(current.org_id, current.owner_id);
    if !may_edit {
        return Err(ApiError::Forbidden(
            "only its author, owners and admins change a template".into(),
        ));
    }

    let patch = TemplatePatch {
        name: body.name.map(|n| n.trim().to_string()),
        subject: body.subject,
        html: body.html,
        text: body.text,
    };
    let after = TemplateContent {
        name: patch.name.clone().unwrap_or(current.name),
        subject: patch.subject.clone().unwrap_or(current.subject),
        html: patch.html.clone().unwrap_or(current.html),
        text: patch.text.clone().unwrap_or(current.text),
    };
    check(&after)?;
    let template = state.store.update_template(current.id, &patch).await?;
    tracing::info!(
        template.id = template.id,
        user.id = user.id,
        "template updated"
    );
    Ok(Json(template))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    contact_id: i64,
}

#[derive(Serialize)]
struct Preview {
    subject: String,
    html: String,
    text: Option<String>,
}

/// Renders a template for one of the caller's contacts, without sending or instrumenting.
async fn preview_template(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PreviewBody>,
) -> Result<Json<Preview>, ApiError> {
    let template = template_in_org(&state, &user, &id).await?;
    let contact = visible_contact(&state, &user, &body.contact_id.to_string()).await?;
    let parts = Parts {
        subject: &template.subject,
        html: &template.html,
        text: template.text.as_deref(),
    };
    let rendered =
        render::render(&parts, &contact).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(Preview {
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
    }))
}

async fn template_in_org(state: &AppState, user: &User, id: &str) -> Result<Template, ApiError> {
    let not_found = || ApiError::NotFound(format!("no template {id}"));
    let template_id: i64 = id.parse().map_err(|_| not_found())?;
    match state
        .store
        .template_in_org(OwnerScope::of(user), template_id)
        .await
    {
        Ok(template) => Ok(template),
        Err(store::Error::NotFound) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

fn check(content: &TemplateContent) -> Result<(), ApiError> {
    let bad = |why: &str| Err(ApiError::BadRequest(why.to_string()));
    if content.name.is_empty() || content.name.chars().count() > 200 {
        return bad("`name` must be 1 to 200 characters");
    }
    if content.subject.trim().is_empty() || content.subject.len() > 2000 {
        return bad("`subject` must be 1 to 2000 characters");
    }
    if content.html.trim().is_empty() || content.html.len() > MAX_HTML_BYTES {
        return bad("`html` must be non-empty and at most 2 MiB");
    }
    if content
        .text
        .as_ref()
        .is_some_and(|t| t.len() > MAX_HTML_BYTES)
    {
        return bad("`text` must be at most 2 MiB");
    }
    let parts = Parts {
        subject: &content.subject,
        html: &content.html,
        text: content.text.as_deref(),
    };
    render::check(&parts).map_err(|e| ApiError::BadRequest(e.to_string()))
}
