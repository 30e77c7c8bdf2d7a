//! The drill-down from a Stats row: its recipients, a page at a time, and one recipient's
//! timeline of hits with the class of each and why it was counted or filtered.
//!
//! Recipients come from `stats_recipients` and `clicked_links`, the stats API's queries,
//! under the same scope; a send outside the viewer's scope is "not found", as in the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;

use super::error::{PageError, PageResult};
use super::layout::{self, Chrome, Tab};
use super::session::SignedIn;
use super::stats_page::{self, RangeControl, StatsQuery};
use super::table::{View, count};
use super::viewer::{Tz, today};
use crate::http::AppState;
use crate::store::{self, EventRow, RecipientRow, Scope, SendRow};

pub const PER_PAGE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/crm/stats/{view}/{id}", get(recipients))
        .route("/crm/sends/{id}", get(timeline))
}

#[derive(Debug, Deserialize)]
pub struct DrillQuery {
    pub page: Option<String>,
    #[serde(flatten)]
    pub stats: StatsQuery,
}

/// The campaign or template a drill-down is about, from its URL.
pub struct Group {
    pub view: View,
    /// `None` for the sends without a campaign or template.
    pub id: Option<i64>,
    pub key: String,
}

impl Group {
    pub fn parse(view: &str, id: &str) -> PageResult<Group> {
        let view = View::parse(Some(view)).map_err(|_| PageError::NotFound)?;
        let id = match id {
            "none" => None,
            id => Some(id.parse::<i64>().map_err(|_| PageError::NotFound)?),
        };
        let key = id.map_or_else(|| "none".to_string(), |id| id.to_string());
        Ok(Group { view, id, key })
    }
}

/// A recipient row as shown.
pub struct RecipientCells {
    pub email: String,
    pub href: String,
    pub status: String,
    pub tracked: bool,
    pub opens: i64,
    pub mpp_opens: i64,
    pub clicks: i64,
    pub first_opened: String,
    pub last_activity: String,
    pub clicked_links: Vec<String>,
}

#[derive(Template)]
#[template(path = "recipients.html")]
struct RecipientsPage {
    chrome: Chrome,
    name: String,
    noun: &'static str,
    back_href: String,
    csv_href: String,
    range: RangeControl,
    range_action: String,
    range_hidden: Vec<(&'static str, String)>,
    tz_label: String,
    summary: String,
    recipients: Vec<RecipientCells>,
    page: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
}

/// One page of recipients with their clicked links and last activity.
pub async fn load_recipients(
    state: &AppState,
    scope: Scope,
    window: store::Window,
    group: &Group,
    limit: i64,
    offset: i64,
) -> PageResult<Vec<(RecipientRow, Vec<String>, Option<i64>)>> {
    let rows = state
        .store
        .stats_recipients(scope, window, group.view.group(), group.id, limit, offset)
        .await?;
    let send_ids: Vec<i64> = rows.iter().map(|r| r.send_id).collect();
    let (clicked, last) = tokio::try_join!(
        state.store.clicked_links(&send_ids),
        state.store.last_activity(&send_ids),
    )?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let links = clicked
                .iter()
                .filter(|l| l.send_id == row.send_id)
                .map(|l| format!("{} ({}×)", l.url, l.clicks))
                .collect();
            let from_counters = row.first_opened_at.max(row.first_clicked_at);
            let from_events = last.iter().find(|a| a.send_id == row.send_id).map(|a| a.at);
            let last_activity = from_events.max(from_counters);
            (row, links, last_activity)
        })
        .collect())
}

#[tracing::instrument(skip_all, fields(user.id = signed_in.user.id))]
async fn recipients(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path((view, id)): Path<(String, String)>,
    Query(query): Query<DrillQuery>,
) -> PageResult<Html<String>> {
    let group = Group::parse(&view, &id)?;
    let stats = &query.stats;
    let resolution = stats.resolve(&headers)?;
    let (tz, window) = (resolution.tz, resolution.range.window);
    let page = match query.page.as_deref() {
        None | Some("") => 1,
        Some(page) => page
            .parse::<i64>()
            .ok()
            .filter(|p| (1..=1_000_000).contains(p))
            .ok_or_else(|| PageError::BadRequest("The page number is not valid.".into()))?,
    };
    let scope = signed_in.scope();

    let offset = (page - 1) * PER_PAGE;
    let (rows, mut recipients) = tokio::try_join!(
        async {
            let rows = state.store.stats_rows(scope, window, group.view.group());
            Ok::<_, PageError>(rows.await?)
        },
        load_recipients(&state, scope, window, &group, PER_PAGE + 1, offset),
    )?;
    let has_next = recipients.len() as i64 > PER_PAGE;
    recipients.truncate(PER_PAGE as usize);
    let row = rows.iter().find(|r| r.id == group.id);
    let name = match (row.and_then(|r| r.name.clone()), group.id) {
        (Some(name), _) => name,
        (None, None) => group.view.none_label().to_string(),
        (None, Some(id)) => format!("{} #{id}", group.view.noun()),
    };
    let summary = match row {
        Some(row) => format!(
            "{} sends · {} opened · {} clicked · {} failed or bounced",
            count(row.sends),
            count(row.opened),
            count(row.clicked),
            count(row.failed)
        ),
        None => "No sends in this range.".into(),
    };

    let path = format!("{}/{}/{}", stats_page::PATH, group.view.as_str(), group.key);
    let page_href = |p: i64| stats.href(&path, &[("page", p.to_string())]);
    let view_pair = [("view", group.view.as_str().to_string())];
    let recipients = recipients
        .into_iter()
        .map(|(row, links, last)| recipient_cells(stats, tz, row, links, last))
        .collect();
    let page = RecipientsPage {
        chrome: Chrome::new(&signed_in, Tab::Stats, format!("Recipients of {name}")),
        name,
        noun: group.view.noun(),
        back_href: stats.href(stats_page::PATH, &view_pair),
        csv_href: stats.href(&format!("{path}/recipients.csv"), &[]),
        range: RangeControl {
            choice: resolution.range.choice,
            from: resolution.range.from.clone(),
            to: resolution.range.to.clone(),
            max: today(tz, time::OffsetDateTime::now_utc()).to_string(),
            title: resolution.range.title.clone(),
        },
        range_action: path.clone(),
        range_hidden: stats.tz.clone().map(|tz| ("tz", tz)).into_iter().collect(),
        tz_label: tz.label(),
        summary,
        recipients,
        page,
        prev_href: (page > 1).then(|| page_href(page - 1)),
        next_href: has_next.then(|| page_href(page + 1)),
    };
    layout::render(&page)
}

fn recipient_cells(
    stats: &StatsQuery,
    tz: Tz,
    row: RecipientRow,
    clicked_links: Vec<String>,
    last_activity: Option<i64>,
) -> RecipientCells {
    let when = |t: Option<i64>| t.map_or_else(|| "—".to_string(), |t| tz.datetime(t));
    RecipientCells {
        href: stats.href(&format!("/crm/sends/{}", row.send_id), &[]),
        email: row.email,
        status: row.status,
        tracked: row.tracked,
        opens: row.opens,
        mpp_opens: row.mpp_opens,
        clicks: row.clicks,
        first_opened: when(row.first_opened_at),
        last_activity: when(last_activity),
        clicked_links,
    }
}

/// One hit in a recipient's timeline.
pub struct EventCells {
    pub at: String,
    pub kind: String,
    pub link: String,
    pub class: String,
    pub agent: String,
    pub counted: bool,
    /// How the hit counts: `counted`, `MPP` (reported apart), `repeat` (a person's hit
    /// counted once) or `filtered` (scanners, previews, bots).
    pub outcome: &'static str,
    pub reason: String,
    pub source: String,
    pub user_agent: String,
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    chrome: Chrome,
    send: SendRow,
    sent_at: String,
    tz_label: String,
    links: Vec<(i64, String, i64)>,
    events: Vec<EventCells>,
    back_href: String,
}

/// Whether a send is inside a scope: the rule every scoped stats query applies.
fn in_scope(send: &SendRow, scope: Scope) -> bool {
    send.org_id == scope.org_id && scope.sender_id.is_none_or(|id| id == send.sender_id)
}

#[tracing::instrument(skip_all, fields(user.id = signed_in.user.id))]
async fn timeline(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<StatsQuery>,
) -> PageResult<Html<String>> {
    let send_id: i64 = id.parse().map_err(|_| PageError::NotFound)?;
    let send = state.store.send(send_id).await?;
    if !in_scope(&send, signed_in.scope()) {
        return Err(PageError::NotFound);
    }
    let tz = Tz::of_request(query.tz.as_deref(), &headers);
    let (links, events) =
        tokio::try_join!(state.store.links(send_id), state.store.events(send_id),)?;

    let url_of = |position: Option<i64>| {
        let link = position.and_then(|p| links.iter().find(|l| l.position == p));
        link.map_or_else(String::new, |l| l.url.clone())
    };
    let events = events
        .into_iter()
        .map(|event| event_cells(tz, &url_of, event))
        .collect();
    let (view, key) = match (send.campaign_id, send.template_id) {
        (Some(id), _) => ("campaigns", id.to_string()),
        (None, Some(id)) => ("templates", id.to_string()),
        (None, None) => ("campaigns", "none".to_string()),
    };
    let back_href = query.href(&format!("{}/{view}/{key}", stats_page::PATH), &[]);
    let page = TimelinePage {
        chrome: Chrome::new(
            &signed_in,
            Tab::Stats,
            format!("Timeline of {}", send.to_email),
        ),
        sent_at: tz.datetime_seconds(send.created_at),
        tz_label: tz.label(),
        links: links
            .iter()
            .map(|l| (l.position, l.url.clone(), l.clicks))
            .collect(),
        events,
        back_href,
        send,
    };
    layout::render(&page)
}

fn event_cells(tz: Tz, url_of: &dyn Fn(Option<i64>) -> String, event: EventRow) -> EventCells {
    EventCells {
        at: tz.datetime_seconds(event.at),
        link: url_of(event.position),
        kind: event.kind,
        outcome: outcome(&event.class, event.counted == 1),
        class: event.class.replace('_', " "),
        agent: event.agent.unwrap_or_default(),
        counted: event.counted == 1,
        reason: event.reason,
        source: event.source,
        user_agent: event.user_agent,
    }
}

/// The badge of a hit: what docs/metrics.md says it counts as.
fn outcome(class: &str, counted: bool) -> &'static str {
    match (counted, class) {
        (true, _) => "counted",
        (false, "apple_mpp") => "MPP",
        (false, "human" | "image_proxy") => "repeat",
        (false, _) => "filtered",
    }
}
