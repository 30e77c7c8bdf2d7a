//! The send path: log the send, instrument it, add the compliance footer and headers, and
//! hand it to the transport. Every email mailtally sends goes through `Mailer::send`.

mod footer;

use std::sync::Arc;

use mailtally_instrument::{self as instrument, SkippedLink, TrackedLink};

use crate::mailgun::accounts::team_of;
use crate::store::{self, NewSend, Store, User};
use crate::track::{TokenKey, Tracked};
use crate::transport::{Outgoing, Transport};

/// What a caller asks to send.
#[derive(Debug, Clone)]
pub struct Draft {
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub html: String,
    pub text: Option<String>,
    pub campaign: Option<String>,
    pub template: Option<String>,
    /// `false` opts this one send out of tracking. Tracking also needs
    /// `EMAIL_TRACKING_ENABLED` and a contact that did not opt out (see `Mailer::send`).
    pub track: bool,
}

/// What happened to a send, for the caller.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: i64,
    pub tracked: bool,
    pub status: String,
    pub error: Option<String>,
    pub links: Vec<TrackedLink>,
    pub skipped: Vec<SkippedLink>,
    pub warnings: Vec<String>,
}

/// Why a send was refused.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Invalid(String),
    #[error("the recipient may not be emailed: {0}")]
    Suppressed(String),
    #[error(transparent)]
    Store(store::Error),
}

impl From<store::Error> for SendError {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::Conflict(why) => SendError::Suppressed(why),
            other => SendError::Store(other),
        }
    }
}

/// Everything the send path needs. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    pub store: Store,
    pub tokens: TokenKey,
    pub base_url: String,
    pub tracking_enabled: bool,
    pub from: String,
    pub unsubscribe_mailto: Option<String>,
    pub transport: Arc<dyn Transport>,
}

impl Mailer {
    /// Sends one email as `sender`. A transport failure is recorded on the send and
    /// reported, not returned as an error: the send exists either way.
    ///
    /// The send is tracked only when tracking is enabled, the draft asks for it, and the
    /// contact has not opted out (`Store::insert_send` checks that in its transaction).
    pub async fn send(&self, sender: &User, draft: &Draft) -> Result<Report, SendError> {
        validate(draft)?;

        let row = self
            .store
            .insert_send(&NewSend {
                org_id: sender.org_id,
                sender_id: sender.id,
                to_email: &draft.to,
                to_name: &draft.to_name,
                subject: &draft.subject,
                campaign: draft.campaign.as_deref(),
                template: draft.template.as_deref(),
                tracked: self.tracking_enabled && draft.track,
            })
            .await?;
        let send_id = row.id;
        let tracked = row.tracked != 0;

        let unsubscribe_url = self.url("unsubscribe", Tracked::Unsubscribe { send_id });
        let done = self.instrument(send_id, tracked, &unsubscribe_url, draft);

        let links: Vec<(u32, &str)> = done
            .links
            .iter()
            .map(|l| (l.position, l.url.as_str()))
            .collect();
        self.store.insert_links(send_id, &links).await?;

        let outgoing = Outgoing {
            send_id,
            from: self.from.clone(),
            to_email: row.to_email.clone(),
            to_name: draft.to_name.clone(),
            subject: draft.subject.clone(),
            html: done.html,
            html_charset: done.charset,
            text: done.text,
            headers: self.list_headers(&unsubscribe_url, send_id),
            org_id: sender.org_id,
            team_id: team_of(sender),
        };
        let (status, error) = match self.transport.deliver(&outgoing).await {
            Ok(delivered) => {
                // The mail is out either way; without the id, webhooks still find the
                // send by its `send_id` variable.
                if let Some(id) = &delivered.provider_id
                    && let Err(error) = self.store.set_provider_message_id(send_id, id).await
                {
                    tracing::error!(%error, send.id = send_id, "provider id not stored");
                }
                ("sent", None)
            }
            Err(e) => {
                tracing::warn!(send.id = send_id, error = %e, "transport failed");
                ("failed", Some(e.to_string()))
            }
        };
        self.store
            .set_send_status(send_id, status, error.as_deref())
            .await?;
        tracing::debug!(
            send.id = send_id,
            tracked,
            links = links.len(),
            status,
            "send logged"
        );

        Ok(Report {
            id: send_id,
            tracked,
            status: status.to_string(),
            error,
            links: done.links,
            skipped: done.skipped,
            warnings: done.warnings,
        })
    }

    /// Instruments a draft; kept apart from `send` because its settings borrow closures
    /// that must not live across an await.
    fn instrument(
        &self,
        send_id: i64,
        tracked: bool,
        unsubscribe_url: &str,
        draft: &Draft,
    ) -> instrument::Instrumented {
        let open_url = self.url("track/open", Tracked::Open { send_id });
        let honeypot_url = self.url("track/click", Tracked::Honeypot { send_id });
        let click_url =
            |position: u32| self.url("track/click", Tracked::Click { send_id, position });
        let footer = footer::Footer::new(unsubscribe_url);
        let settings = instrument::Settings {
            tracking: tracked.then_some(instrument::Tracking {
                click_url: &click_url,
                open_url: &open_url,
                honeypot_url: Some(&honeypot_url),
            }),
            unsubscribe_url,
            footer_html: &footer.html,
            footer_text: &footer.text,
        };
        let email = instrument::Email {
            html: draft.html.as_bytes(),
            text: draft.text.as_deref(),
            known_utf8: true,
        };
        instrument::instrument(&email, &settings)
    }

    fn url(&self, path: &str, what: Tracked) -> String {
        format!("{}/{path}/{}", self.base_url, self.tokens.mint(what))
    }

    /// RFC 8058 one-click unsubscribe headers, with a mailto form where a mailbox is set.
    fn list_headers(&self, unsubscribe_url: &str, send_id: i64) -> Vec<(&'static str, String)> {
        let mut list = format!("<{unsubscribe_url}>");
        if let Some(mailbox) = &self.unsubscribe_mailto {
            list.push_str(&format!(
                ", <mailto:{mailbox}?subject=unsubscribe-{send_id}>"
            ));
        }
        vec![
            ("List-Unsubscribe", list),
            (
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_string(),
            ),
            ("X-Mailtally-Send-Id", send_id.to_string()),
        ]
    }
}

/// The stored form of an email address, or `None` when it does not look like one. Every
/// way in (the send API, contacts, CSV import) uses it, so all find the same contact.
pub fn normalise_email(email: &str) -> Option<String> {
    let email = email.trim();
    let looks_like_address = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c));
    looks_like_address.then(|| email.to_ascii_lowercase())
}

/// Whether a person's name can go into a `To` header and a page: at most 200 characters,
/// on one line, no control characters.
pub fn is_display_name(name: &str) -> bool {
    name.chars().count() <= 200 && !name.chars().any(char::is_control)
}

/// The most HTML one send may carry.
pub const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;

fn validate(draft: &Draft) -> Result<(), SendError> {
    let invalid = |why: &str| Err(SendError::Invalid(why.to_string()));
    if normalise_email(&draft.to).is_none() {
        return invalid("`to` is not an email address");
    }
    if draft.subject.trim().is_empty() {
        return invalid("`subject` is empty");
    }
    if draft.subject.chars().any(char::is_control) {
        return invalid("`subject` holds a line break or another control character");
    }
    if !is_display_name(&draft.to_name) {
        return invalid("`to_name` must be at most 200 characters, on one line");
    }
    if draft.html.trim().is_empty() {
        return invalid("`html` is empty");
    }
    if draft.html.len() > MAX_HTML_BYTES {
        return invalid("`html` is larger than 2 MiB");
    }
    for (field, name) in [(&draft.campaign, "campaign"), (&draft.template, "template")] {
        if field
            .as_ref()
            .is_some_and(|n| n.trim().is_empty() || n.len() > 200 || n.contains(char::is_control))
        {
            return Err(SendError::Invalid(format!(
                "`{name}` must be 1 to 200 characters, on one line"
            )));
        }
    }
    Ok(())
}
