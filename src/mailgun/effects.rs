//! What a verified Mailgun event does to its send, the send's contact and the tracking
//! counters (issue 6, item 4).
//!
//! - permanent failure: the send is `bounced`, the contact blocked (`hard_bounce`);
//! - temporary failure: counted on the send (`soft_bounces`), the contact stays active;
//! - complaint: noted on the send, the contact blocked (`complaint`) and unenrolled;
//! - unsubscribe: noted on the send, the contact unsubscribed and unenrolled;
//! - open and click: one more tracking hit, through the same recorder and counting rules as
//!   the pixel and the redirector, so a reader seen by both counts once;
//! - anything else: acknowledged and left alone.

use mailtally_classify::{self as classify, Kind, Source};

use super::webhook::{Event, EventKind};
use crate::store::{self, BlockReason, MailgunSend, NewEvent, Store, now_ms};
use crate::track::recorder::NotRecorded;
use crate::track::{Recorder, TokenKey, Tracked};

/// How a contact that unsubscribed through Mailgun is marked.
const UNSUBSCRIBED_HOW: &str = "mailgun";

/// What the event came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Deliberately not acted on, and why.
    Ignored(&'static str),
}

/// The effects could not all be stored; the event should be retried.
#[derive(Debug, thiserror::Error)]
pub enum EffectError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    NotRecorded(#[from] NotRecorded),
}

/// What applying an event needs.
pub struct Effects<'a> {
    pub store: &'a Store,
    pub recorder: &'a Recorder,
    pub tokens: &'a TokenKey,
    /// The public base URL our tracked links start with.
    pub base_url: &'a str,
}

impl Effects<'_> {
    /// Applies `event` to `send`. Each effect is idempotent except the soft-bounce count
    /// and tracking hits, which the caller guards with the event id.
    pub async fn apply(&self, send: &MailgunSend, event: &Event) -> Result<Outcome, EffectError> {
        let now = now_ms();
        // Mailgun's time, kept between the send's creation and now so a skewed clock can
        // neither date a hit before the email existed nor in the future.
        let at = event.at.map_or(now, |at| at.max(send.created_at).min(now));

        match &event.kind {
            EventKind::PermanentFailure => {
                let why = event
                    .reason
                    .as_deref()
                    .unwrap_or("permanent failure reported by Mailgun");
                self.store.mark_send_bounced(send.id, why).await?;
                self.store
                    .block_contact(send.contact_id, BlockReason::HardBounce)
                    .await?;
            }
            EventKind::TemporaryFailure => self.store.add_soft_bounce(send.id).await?,
            EventKind::Complained => {
                self.store.mark_send_complained(send.id, at).await?;
                self.store
                    .block_contact(send.contact_id, BlockReason::Complaint)
                    .await?;
                self.store.unenroll_contact(send.contact_id).await?;
            }
            EventKind::Unsubscribed => {
                self.store.mark_send_unsubscribed(send.id, at).await?;
                self.store
                    .unsubscribe_contact(send.contact_id, UNSUBSCRIBED_HOW)
                    .await?;
                self.store.unenroll_contact(send.contact_id).await?;
            }
            EventKind::Opened => self.record(send, Kind::Open, event, at).await?,
            EventKind::Clicked => {
                let url = event.url.as_deref().unwrap_or_default();
                let Some(kind) = self.clicked(send, url).await? else {
                    tracing::debug!(send.id = send.id, "mailgun click on no link of the send");
                    return Ok(Outcome::Ignored(
                        "the clicked URL is not a link of the send",
                    ));
                };
                self.record(send, kind, event, at).await?;
            }
            EventKind::Other(_) => return Ok(Outcome::Ignored("event type not acted on")),
        }
        Ok(Outcome::Applied)
    }

    async fn record(
        &self,
        send: &MailgunSend,
        kind: Kind,
        event: &Event,
        at: i64,
    ) -> Result<(), NotRecorded> {
        let request = classify::Request {
            kind,
            source: Source::Mailgun {
                flagged_bot: event.flagged_bot,
            },
            // Mailgun does not say how its tracker was fetched; a reader's fetch is a GET.
            method: "GET".to_string(),
            user_agent: event.user_agent.clone(),
            ip: event.ip,
            prefetch: false,
            at,
        };
        let base = classify::classify(&request);
        self.recorder
            .record(NewEvent {
                send_id: send.id,
                request,
                base,
            })
            .await
    }

    /// The link a Mailgun click followed: one of our tracked URLs (if Mailgun saw the
    /// instrumented HTML), or the author's URL of one of the send's links.
    async fn clicked(&self, send: &MailgunSend, url: &str) -> Result<Option<Kind>, store::Error> {
        let url = url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let tracked_prefix = format!("{}/track/click/", self.base_url);
        if let Some(rest) = url.strip_prefix(&tracked_prefix) {
            let token = rest.split(['?', '#']).next().unwrap_or_default();
            return Ok(match self.tokens.verify(token) {
                Some(Tracked::Click { send_id, position }) if send_id == send.id => {
                    Some(Kind::Click { position })
                }
                Some(Tracked::Honeypot { send_id }) if send_id == send.id => Some(Kind::Honeypot),
                _ => None,
            });
        }

        let wanted = normalized(url);
        let links = self.store.links(send.id).await?;
        let link = links
            .iter()
            .find(|link| link.url == url || (wanted.is_some() && normalized(&link.url) == wanted));
        Ok(link.and_then(|link| {
            let position = u32::try_from(link.position).ok()?;
            Some(Kind::Click { position })
        }))
    }
}

/// A URL as the URL standard serialises it (host case, default port, empty path), so
/// spellings of one address compare equal.
fn normalized(url: &str) -> Option<String> {
    url::Url::parse(url.trim()).ok().map(String::from)
}
