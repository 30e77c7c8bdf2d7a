//! `/api/v1/campaigns`: broadcast and drip campaigns, launching them to a tag, and their
//! enrollments. Callers manage the campaigns their role covers: owners and admins the
//! organisation's, everyone else their own, sent as themselves.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::contacts::{check_owner, visible_contact};
use super::json::{JsonBody, QueryParams};
use super::{ApiError, AppState};
use crate::crm;
use crate::store::{
    self, Campaign, CampaignCounts, CampaignKind, EnrollReport, Enrollment, NewCampaign, NewStep,
    OwnerScope, User,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/campaigns",
            get(list_campaigns).post(create_campaign),
        )
        .route("/api/v1/campaigns/{id}", get(show_campaign))
        .route("/api/v1/campaigns/{id}/launch", post(launch_campaign))
        .route(
            "/api/v1/campaigns/{id}/enrollments",
            get(list_enrollments).post(enroll),
        )
        .route(
            "/api/v1/campaigns/{id}/enrollments/{contact_id}",
            delete(unenroll),
        )
}

/// The most steps a drip may have, and contacts one enroll call may name.
const MAX_STEPS: usize = 20;
const MAX_ENROLL_IDS: usize = 1000;

#[derive(Serialize)]
struct CampaignList {
    campaigns: Vec<Campaign>,
}

async fn list_campaigns(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<CampaignList>, ApiError> {
    let campaigns = state.store.campaigns(OwnerScope::of(&user)).await?;
    Ok(Json(CampaignList { campaigns }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    kind: CampaignKind,
    /// A broadcast's template.
    template_id: Option<i64>,
    /// A drip's steps, in order.
    #[serde(default)]
    steps: Vec<StepBody>,
    /// Contacts with this tag are enrolled on launch.
    tag: Option<String>,
    /// The user the emails are sent as; the caller unless an owner or admin names another.
    sender_id: Option<i64>,
    /// `false` sends every email of the campaign untracked.
    track: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepBody {
    template_id: i64,
    /// Wait after the step before: `500ms`, `90s`, `15m`, `2h`, `3d`.
    delay: Option<String>,
    /// Or the same in milliseconds.
    delay_ms: Option<i64>,
    /// `false` sends this step's emails untracked.
    track: Option<bool>,
}

#[derive(Serialize)]
struct CampaignDetail {
    #[serde(flatten)]
    campaign: Campaign,
    counts: CampaignCounts,
}

async fn create_campaign(
    State(state): State<AppState>,
    Caller(user): Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<CampaignDetail>), ApiError> {
    let bad = |why: String| ApiError::BadRequest(why);
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(bad("`name` must be 1 to 200 characters".into()));
    }
    let steps = match (body.kind, body.template_id, body.steps.is_empty()) {
        (CampaignKind::Broadcast, Some(template_id), true) => vec![NewStep {
            template_id,
            delay_ms: 0,
            track: true,
        }],
        (CampaignKind::Broadcast, _, _) => {
            return Err(bad(
                "a broadcast takes a `template_id` and no `steps`".into()
            ));
        }
        (CampaignKind::Drip, None, false) if body.steps.len() <= MAX_STEPS => body
            .steps
            .iter()
            .map(|step| {
                Ok(NewStep {
                    template_id: step.template_id,
                    delay_ms: step_delay(step)?,
                    track: step.track.unwrap_or(true),
                })
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(bad)?,
        (CampaignKind::Drip, _, _) => {
            return Err(bad(format!(
                "a drip takes 1 to {MAX_STEPS} `steps` and no `template_id`"
            )));
        }
    };
    let tag = match body.tag.as_deref() {
        Some(tag) => crm::normalise_tags([tag]).map_err(bad)?.pop(),
        None => None,
    };
    let sender_id = match body.sender_id {
        Some(sender_id) => check_owner(&state, &user, sender_id).await?,
        None => user.id,
    };

    let new = NewCampaign {
        name,
        kind: body.kind,
        owner_id: user.id,
        sender_id,
        tag,
        track: body.track.unwrap_or(true),
        steps,
    };
    let campaign = match state.store.create_campaign(user.org_id, &new).await {
        Ok(campaign) => campaign,
        Err(store::Error::NotFound) => {
            return Err(bad(
                "a step's template is not one of this organisation's".into()
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(
        campaign.id = campaign.id,
        kind = campaign.kind.as_str(),
        steps = campaign.steps.len(),
        track = campaign.track,
        user.id = user.id,
        "campaign created"
    );
    let counts = state.store.campaign_counts(&campaign).await?;
    Ok((
        StatusCode::CREATED,
        Json(CampaignDetail { campaign, counts }),
    ))
}

fn step_delay(step: &StepBody) -> Result<i64, String> {
    match (&step.delay, step.delay_ms) {
        (Some(text), None) => crm::parse_delay(text),
        (None, Some(ms)) => crm::check_delay(ms).map(|()| ms),
        (None, None) => Ok(0),
        (Some(_), Some(_)) => Err("give a step's `delay` or `delay_ms`, not both".into()),
    }
}

async fn show_campaign(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignDetail>, ApiError> {
    let campaign = visible_campaign(&state, &user, &id).await?;
    let counts = state.store.campaign_counts(&campaign).await?;
    Ok(Json(CampaignDetail { campaign, counts }))
}

/// Enrolls every contact the caller manages that has the campaign's tag; the scheduler
/// then sends each step as it falls due. Launching again enrolls only newly tagged ones.
async fn launch_campaign(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<EnrollReport>, ApiError> {
    let campaign = visible_campaign(&state, &user, &id).await?;
    let Some(tag) = campaign.tag.as_deref() else {
        return Err(ApiError::Conflict(
            "the campaign has no tag; enroll contacts through its enrollments".into(),
        ));
    };
    let report = state
        .store
        .enroll_tag(campaign.id, OwnerScope::of(&user), tag)
        .await?;
    tracing::info!(
        campaign.id = campaign.id,
        enrolled = report.enrolled,
        already = report.already,
        "campaign launched"
    );
    Ok(Json(report))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct EnrollmentList {
    enrollments: Vec<Enrollment>,
    next_after: Option<i64>,
}

async fn list_enrollments(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    QueryParams(page): QueryParams<PageQuery>,
) -> Result<Json<EnrollmentList>, ApiError> {
    let campaign = visible_campaign(&state, &user, &id).await?;
    let limit = page.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest("`limit` must be 1 to 1000".into()));
    }
    let enrollments = state
        .store
        .enrollments(campaign.id, page.after, limit)
        .await?;
    let next_after = (enrollments.len() as i64 == limit)
        .then(|| enrollments.last().map(|e| e.id))
        .flatten();
    Ok(Json(EnrollmentList {
        enrollments,
        next_after,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrollBody {
    contact_ids: Option<Vec<i64>>,
    tag: Option<String>,
}

async fn enroll(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EnrollBody>,
) -> Result<Json<EnrollReport>, ApiError> {
    let campaign = visible_campaign(&state, &user, &id).await?;
    let report = match (body.contact_ids, body.tag) {
        (Some(ids), None) if (1..=MAX_ENROLL_IDS).contains(&ids.len()) => {
            for contact_id in &ids {
                visible_contact(&state, &user, &contact_id.to_string()).await?;
            }
            state.store.enroll(campaign.id, &ids).await?
        }
        (None, Some(tag)) => {
            let tag = crm::normalise_tags([tag.as_str()])
                .map_err(ApiError::BadRequest)?
                .pop()
                .ok_or_else(|| ApiError::BadRequest("`tag` is empty".into()))?;
            state
                .store
                .enroll_tag(campaign.id, OwnerScope::of(&user), &tag)
                .await?
        }
        _ => {
            return Err(ApiError::BadRequest(format!(
                "give either `contact_ids` (1 to {MAX_ENROLL_IDS}) or `tag`"
            )));
        }
    };
    tracing::info!(
        campaign.id = campaign.id,
        enrolled = report.enrolled,
        already = report.already,
        "contacts enrolled"
    );
    Ok(Json(report))
}

/// Stops one contact's way through one campaign at once.
async fn unenroll(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path((id, contact_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let campaign = visible_campaign(&state, &user, &id).await?;
    let contact = visible_contact(&state, &user, &contact_id).await?;
    match state.store.unenroll(campaign.id, contact.id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(store::Error::NotFound) => Err(ApiError::NotFound(format!(
            "contact {} has no active enrollment in campaign {}",
            contact.id, campaign.id
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn visible_campaign(state: &AppState, user: &User, id: &str) -> Result<Campaign, ApiError> {
    let not_found = || ApiError::NotFound(format!("no campaign {id}"));
    let campaign_id: i64 = id.parse().map_err(|_| not_found())?;
    let campaign = match state.store.campaign(campaign_id).await {
        Ok(campaign) => campaign,
        Err(store::Error::NotFound) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if !OwnerScope::of(user).covers(campaign.org_id, campaign.owner_id) {
        return Err(not_found());
    }
    Ok(campaign)
}
