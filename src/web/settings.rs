//! Settings, Mailgun: the webhook signing key and the sending account of the organisation
//! (owners, admins) or the partner team (partners), through `crate::mailgun::Accounts`, the
//! same code as `/api/v1/settings/mailgun`.
//!
//! A saved key is never sent to the browser, not even masked: the field stays empty with
//! `•••` as its placeholder and a "saved" indicator beside it; an empty field keeps the
//! saved key. Show/Hide reveals what is being typed; Clear removes the saved key.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::error::{PageError, PageResult};
use super::layout::{Chrome, Tab};
use super::session::SignedIn;
use super::viewer::Tz;
use crate::http::AppState;
use crate::mailgun::accounts::{self, NewAccount, SettingsView, Update};
use crate::mailgun::{Region, Secret, Tenant, Tier};
use crate::store::now_ms;

pub const PATH: &str = "/settings/mailgun";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(show_settings).post(save_settings))
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    owner: &'static str,
    key_set: bool,
    key_since: String,
    key_previous_until: String,
    key_notice: String,
    account_set: bool,
    account_since: String,
    domain: String,
    region: String,
    sending_notice: String,
    saved: bool,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SettingsQuery {
    saved: Option<String>,
}

/// The form. Keys arrive here and go nowhere but the sealed store.
#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    signing_key: String,
    clear_signing_key: Option<String>,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    api_key: String,
    region: Option<String>,
    clear_account: Option<String>,
}

fn tenant_of(signed_in: &SignedIn) -> PageResult<Tenant> {
    Tenant::managed_by(&signed_in.user).ok_or_else(|| {
        PageError::Forbidden(
            "Only owners, admins and partners manage Mailgun settings. Ask one of them.".into(),
        )
    })
}

fn accounts_error(error: accounts::Error) -> PageError {
    match error {
        accounts::Error::Store(e) => e.into(),
        accounts::Error::Unsealable => PageError::Internal(anyhow::anyhow!(
            "stored Mailgun keys do not decrypt under this server secret"
        )),
    }
}

fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::PartnerTeam => "your partner team's",
        Tier::Organisation => "your organisation's",
        Tier::Platform => "the platform's",
    }
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    tz: Tz,
    saved: bool,
    error: Option<String>,
) -> PageResult<SettingsPage> {
    let tenant = tenant_of(signed_in)?;
    let view: SettingsView = state
        .mailgun
        .accounts
        .view(tenant, now_ms())
        .await
        .map_err(accounts_error)?;
    let when = |t: Option<i64>| t.map(|t| tz.datetime(t)).unwrap_or_default();
    let key_notice = match view.webhooks_verified_with {
        Some(Tier::Platform) => "No key of your own is saved: the platform's signing key \
            verifies your webhooks."
            .to_string(),
        Some(tier) if tier != view.tenant => {
            format!(
                "No key of your own is saved: {} key verifies your webhooks.",
                tier_name(tier)
            )
        }
        Some(_) => "Your key verifies your webhooks.".to_string(),
        None => "No signing key applies: Mailgun webhooks for your sends are refused until a \
            key is saved here or by the platform operator."
            .to_string(),
    };
    let sending_notice = match view.mail_sent_with {
        Some(tier) if tier == view.tenant => "Your mail goes out through this account.".into(),
        Some(tier) => format!("Your mail goes out through {} account.", tier_name(tier)),
        None => "No Mailgun account applies: mail is written to the server's outbox.".into(),
    };
    Ok(SettingsPage {
        chrome: Chrome::new(signed_in, Tab::Settings, "Mailgun settings"),
        owner: match tenant {
            Tenant::Organisation { .. } => "organisation",
            Tenant::Team { .. } => "partner team",
        },
        key_set: view.signing_key.set,
        key_since: when(view.signing_key.since),
        key_previous_until: when(view.signing_key.previous_accepted_until),
        key_notice,
        account_set: view.account.set,
        account_since: when(view.account.since),
        domain: view.account.domain.unwrap_or_default(),
        region: view.account.region.unwrap_or_else(|| "us".into()),
        sending_notice,
        saved,
        error,
    })
}

async fn show_settings(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
    Query(query): Query<SettingsQuery>,
) -> PageResult<Html<String>> {
    let tz = Tz::of_request(None, &headers);
    let saved = query.saved.is_some();
    let page = page(&state, &signed_in, tz, saved, None).await?;
    super::layout::render(&page)
}

#[tracing::instrument(skip_all, fields(user.id = signed_in.user.id))]
async fn save_settings(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
    Form(form): Form<SettingsForm>,
) -> PageResult<Response> {
    let tenant = tenant_of(&signed_in)?;
    let change = match Change::from_form(form) {
        Ok(change) => change,
        Err(why) => {
            let tz = Tz::of_request(None, &headers);
            let page = page(&state, &signed_in, tz, false, Some(why)).await?;
            let html = page.render()?;
            return Ok((StatusCode::BAD_REQUEST, Html(html)).into_response());
        }
    };

    let accounts = &state.mailgun.accounts;
    let now = now_ms();
    if change.clear_signing_key || change.clear_account {
        clear(
            &state,
            tenant,
            change.clear_signing_key,
            change.clear_account,
        )
        .await?;
    }
    let (key_given, account_given) = (
        change.update.signing_key.is_some(),
        change.update.account.is_some(),
    );
    if key_given || account_given {
        accounts
            .update(tenant, change.update, now)
            .await
            .map_err(accounts_error)?;
    }
    tracing::info!(
        ?tenant,
        signing_key = key_given,
        account = account_given,
        cleared_key = change.clear_signing_key,
        cleared_account = change.clear_account,
        "mailgun settings saved from the settings page"
    );
    Ok(Redirect::to(&format!("{PATH}?saved=1")).into_response())
}

/// What a submitted form asks for.
struct Change {
    update: Update,
    clear_signing_key: bool,
    clear_account: bool,
}

impl Change {
    fn from_form(form: SettingsForm) -> Result<Change, String> {
        let clear_signing_key = form.clear_signing_key.is_some();
        let clear_account = form.clear_account.is_some();
        let signing_key = form.signing_key.trim();
        let signing_key = match (clear_signing_key, signing_key.is_empty()) {
            (true, _) | (false, true) => None,
            (false, false) if is_key_like(signing_key) => Some(Secret::new(signing_key)),
            (false, false) => {
                return Err("The signing key must be 1 to 256 visible characters.".into());
            }
        };

        let api_key = form.api_key.trim();
        let domain = form.domain.trim().to_ascii_lowercase();
        let account = if clear_account || api_key.is_empty() {
            None
        } else {
            if !is_domain(&domain) {
                return Err(
                    "Enter the sending domain (like mg.example.com) with the API key.".into(),
                );
            }
            if !is_key_like(api_key) {
                return Err("The API key must be 1 to 256 visible characters.".into());
            }
            let region = form
                .region
                .as_deref()
                .unwrap_or("us")
                .parse::<Region>()
                .map_err(|why| format!("Region: {why}."))?;
            Some(NewAccount {
                domain,
                api_key: Secret::new(api_key),
                region,
                base_url: None,
            })
        };
        Ok(Change {
            update: Update {
                signing_key,
                account,
            },
            clear_signing_key,
            clear_account,
        })
    }
}

fn is_key_like(key: &str) -> bool {
    (1..=256).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn is_domain(domain: &str) -> bool {
    (3..=253).contains(&domain.len())
        && domain.contains('.')
        && domain
            .split('.')
            .all(|label| (1..=63).contains(&label.len()))
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Removes the saved signing key (and the replaced one still accepted), or the account, or
/// both, keeping the rest of the tenant's settings.
async fn clear(state: &AppState, tenant: Tenant, key: bool, account: bool) -> PageResult<()> {
    let (kind, id) = match tenant {
        Tenant::Organisation { org_id } => ("org", org_id),
        Tenant::Team { partner_id, .. } => ("team", partner_id),
    };
    let Some(mut row) = state.store.mailgun_settings(kind, id).await? else {
        return Ok(());
    };
    if key {
        row.signing_key = None;
        row.signing_key_set_at = None;
        row.previous_signing_key = None;
        row.previous_key_until = None;
    }
    if account {
        row.domain = None;
        row.api_key = None;
        row.region = None;
        row.base_url = None;
        row.account_set_at = None;
    }
    if row.signing_key.is_none() && row.api_key.is_none() {
        state
            .mailgun
            .accounts
            .remove(tenant)
            .await
            .map_err(accounts_error)?;
        return Ok(());
    }
    row.updated_at = now_ms();
    state.store.put_mailgun_settings(&row).await?;
    Ok(())
}
