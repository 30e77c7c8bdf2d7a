//! `GET`, `PUT` and `DELETE /api/v1/settings/mailgun`: the Mailgun webhook signing key and
//! sending account of the caller's organisation (owners, admins) or partner team (partners).
//! Every other role gets 403.
//!
//! Keys go in and never come out: answers say whether a key or account is set, since when,
//! whether a replaced key is still accepted, and whose key and account apply.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Caller;
use super::json::JsonBody;
use super::{ApiError, AppState};
use crate::mailgun::accounts::{self, NewAccount, SettingsView, Update};
use crate::mailgun::config::parse_base_url;
use crate::mailgun::{Region, Secret, Tenant};
use crate::store::now_ms;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/settings/mailgun",
        get(show_settings)
            .put(update_settings)
            .delete(delete_settings),
    )
}

/// Any of the fields; what is left out stays as it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    /// The domain's HTTP webhook signing key; a new one rotates the old one out.
    signing_key: Option<String>,
    domain: Option<String>,
    api_key: Option<String>,
    /// `us` (the default) or `eu`.
    region: Option<String>,
    /// Any API base URL, where the operator allows it.
    base_url: Option<String>,
}

fn tenant_of(caller: &Caller) -> Result<Tenant, ApiError> {
    Tenant::managed_by(&caller.0).ok_or_else(|| {
        ApiError::Forbidden("only owners, admins and partners manage Mailgun settings".into())
    })
}

#[tracing::instrument(skip_all, fields(user.id = caller.0.id))]
async fn show_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SettingsView>, ApiError> {
    let tenant = tenant_of(&caller)?;
    let view = state.mailgun.accounts.view(tenant, now_ms()).await;
    Ok(Json(view.map_err(accounts_error)?))
}

#[tracing::instrument(skip_all, fields(user.id = caller.0.id))]
async fn update_settings(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SettingsBody>,
) -> Result<Json<SettingsView>, ApiError> {
    let tenant = tenant_of(&caller)?;
    let update = validate(body, state.mailgun.accounts.tenant_base_urls())?;
    let (key_given, account_given) = (update.signing_key.is_some(), update.account.is_some());

    let accounts = &state.mailgun.accounts;
    let now = now_ms();
    accounts
        .update(tenant, update, now)
        .await
        .map_err(accounts_error)?;
    tracing::info!(
        ?tenant,
        signing_key = key_given,
        account = account_given,
        "mailgun settings saved"
    );
    Ok(Json(
        accounts.view(tenant, now).await.map_err(accounts_error)?,
    ))
}

#[tracing::instrument(skip_all, fields(user.id = caller.0.id))]
async fn delete_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    let tenant = tenant_of(&caller)?;
    let removed = state
        .mailgun
        .accounts
        .remove(tenant)
        .await
        .map_err(accounts_error)?;
    tracing::info!(?tenant, removed, "mailgun settings deleted");
    Ok(StatusCode::NO_CONTENT)
}

fn validate(body: SettingsBody, base_urls_allowed: bool) -> Result<Update, ApiError> {
    let bad = |why: &str| Err(ApiError::BadRequest(why.into()));
    let SettingsBody {
        signing_key,
        domain,
        api_key,
        region,
        base_url,
    } = body;

    let signing_key = match signing_key.as_deref().map(str::trim) {
        None => None,
        Some(key) if is_key_like(key) => Some(Secret::new(key)),
        Some(_) => return bad("`signing_key` must be 1 to 256 visible ASCII characters"),
    };
    let account = match (domain, api_key) {
        (None, None) => {
            if region.is_some() || base_url.is_some() {
                return bad("`region` and `base_url` go with `domain` and `api_key`");
            }
            None
        }
        (Some(domain), Some(api_key)) => {
            let domain = domain.trim().to_ascii_lowercase();
            if !is_domain(&domain) {
                return bad("`domain` is not a domain name");
            }
            if !is_key_like(api_key.trim()) {
                return bad("`api_key` must be 1 to 256 visible ASCII characters");
            }
            let region = match region.as_deref() {
                Some(region) => Some(region.parse::<Region>().map_err(ApiError::BadRequest)?),
                None => None,
            };
            let base_url = match base_url.as_deref() {
                None => None,
                Some(_) if !base_urls_allowed => {
                    return bad("this server lets teams choose a `region`, not a `base_url`");
                }
                Some(_) if region.is_some() => {
                    return bad("give either `region` or `base_url`, not both");
                }
                Some(url) => Some(
                    parse_base_url(url)
                        .map_err(|why| ApiError::BadRequest(format!("`base_url` {why}")))?,
                ),
            };
            Some(NewAccount {
                domain,
                api_key: Secret::new(api_key.trim()),
                region: region.unwrap_or(Region::Us),
                base_url,
            })
        }
        _ => return bad("`domain` and `api_key` are set together"),
    };
    if signing_key.is_none() && account.is_none() {
        return bad("nothing to set: give `signing_key`, or `domain` and `api_key`");
    }
    Ok(Update {
        signing_key,
        account,
    })
}

fn is_key_like(key: &str) -> bool {
    (1..=256).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn is_domain(domain: &str) -> bool {
    (3..=253).contains(&domain.len())
        && domain.contains('.')
        && domain
            .split('.')
            .all(|label| !label.is_empty() && label.len() <= 63)
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn accounts_error(error: accounts::Error) -> ApiError {
    match error {
        accounts::Error::Store(e) => e.into(),
        accounts::Error::Unsealable => ApiError::Internal(anyhow::anyhow!(
            "stored Mailgun keys do not decrypt under this server secret"
        )),
    }
}
