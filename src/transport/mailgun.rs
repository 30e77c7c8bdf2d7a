//! The Mailgun transport: `POST {base}/v3/{domain}/messages` as a multipart form with basic
//! auth `api:KEY` (Mailgun's "Sending messages" API), through the account of the send's
//! partner team, else its organisation's, else the platform's.
//!
//! Every message carries the send id as the user variable `v:send_id`, so webhooks find
//! their send, our headers as `h:` fields, and `o:tracking*=no`: the HTML is already
//! instrumented, and Mailgun must not wrap our tracked links a second time.
//!
//! 429 and 5xx answers are retried with exponential backoff (honouring a short
//! `Retry-After`), as are connections that could not be made. A request that may have
//! reached Mailgun (a timeout) is not retried, since a retry could send the email twice.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use super::{DeliverFuture, Delivered, Outgoing, Transport, TransportError};
use crate::mailgun::{Account, Accounts};

/// The longest `Retry-After` waited for; a longer one fails the send at once.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of Mailgun's error message kept on a send.
const MAX_ERROR_CHARS: usize = 300;

/// When and how often to try again.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The wait before the second try; it doubles for each try after.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl Retry {
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Sends through the Mailgun account of each send's tenant; sends of tenants with no
/// account anywhere go to `fallback` (the outbox), or fail when there is none.
#[derive(Clone)]
pub struct MailgunTransport {
    accounts: Accounts,
    http: reqwest::Client,
    retry: Retry,
    fallback: Option<Arc<dyn Transport>>,
}

impl MailgunTransport {
    pub fn new(accounts: Accounts, fallback: Option<Arc<dyn Transport>>) -> MailgunTransport {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("mailtally/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client with rustls and a timeout builds");
        MailgunTransport {
            accounts,
            http,
            retry: Retry::default(),
            fallback,
        }
    }

    pub fn with_retry(mut self, retry: Retry) -> MailgunTransport {
        self.retry = retry;
        self
    }

    /// Sends `message` through `account`, retrying what is worth retrying.
    pub async fn send_with(
        &self,
        account: &Account,
        message: &Outgoing,
    ) -> Result<Delivered, TransportError> {
        let url = messages_url(account)?;
        let mut attempt = 1;
        loop {
            let request = self
                .http
                .post(url.clone())
                .basic_auth("api", Some(account.api_key.expose()))
                .multipart(form(message)?);
            let wait = match request.send().await {
                Ok(response) if response.status().is_success() => {
                    return queued(response).await;
                }
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry_after(&response);
                    let error = answer_error(response).await;
                    let worth_retrying =
                        status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    if !worth_retrying || attempt >= self.retry.attempts {
                        return Err(error);
                    }
                    match retry_after {
                        Some(wait) if wait > MAX_RETRY_AFTER => {
                            let secs = wait.as_secs();
                            return Err(TransportError::Failed(format!(
                                "{error}; Mailgun asks to wait {secs} s before trying again"
                            )));
                        }
                        Some(wait) => wait,
                        None => self.retry.backoff(attempt),
                    }
                }
                Err(error) if error.is_connect() && attempt < self.retry.attempts => {
                    self.retry.backoff(attempt)
                }
                Err(error) => return Err(request_error(&error)),
            };
            tracing::warn!(
                send.id = message.send_id,
                domain = %account.domain,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "mailgun did not take the message; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

impl Transport for MailgunTransport {
    fn deliver<'a>(&'a self, message: &'a Outgoing) -> DeliverFuture<'a> {
        Box::pin(async move {
            let account = self
                .accounts
                .sending_account(message.org_id, message.team_id)
                .await
                .map_err(|e| TransportError::Failed(format!("mailgun account: {e}")))?;
            match (account, &self.fallback) {
                (Some((tier, account)), _) => {
                    tracing::debug!(send.id = message.send_id, ?tier, "sending through mailgun");
                    self.send_with(&account, message).await
                }
                (None, Some(fallback)) => fallback.deliver(message).await,
                (None, None) => Err(TransportError::Failed(
                    "no Mailgun account is set for this organisation or the platform".into(),
                )),
            }
        })
    }

    /// Mailgun keeps its own logs, which its account holder manages; only the fallback
    /// may hold copies here.
    fn forget<'a>(&'a self, send_ids: &'a [i64]) -> super::ForgetFuture<'a> {
        match &self.fallback {
            Some(fallback) => fallback.forget(send_ids),
            None => Box::pin(async { Ok(0) }),
        }
    }
}

fn messages_url(account: &Account) -> Result<reqwest::Url, TransportError> {
    let bad = |why: &str| TransportError::Failed(format!("mailgun base URL: {why}"));
    let mut url = reqwest::Url::parse(&account.base_url).map_err(|e| bad(&e.to_string()))?;
    url.path_segments_mut()
        .map_err(|_| bad("cannot hold a path"))?
        .pop_if_empty()
        .extend(["v3", account.domain.as_str(), "messages"]);
    Ok(url)
}

/// The form of one message; built again for each try, as a sent form is consumed.
fn form(message: &Outgoing) -> Result<Form, TransportError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| TransportError::Build(format!("{what}: {e}"));
    let address = message
        .to_email
        .parse()
        .map_err(|e| bad("recipient address", &e))?;
    let name = (!message.to_name.trim().is_empty()).then(|| message.to_name.trim().to_string());
    let to = Mailbox::new(name, address).to_string();
    let html = Part::bytes(message.html.clone())
        .mime_str(&format!("text/html; charset={}", message.html_charset))
        .map_err(|e| bad("html charset", &e))?;

    let mut form = Form::new()
        .text("from", message.from.clone())
        .text("to", to)
        .text("subject", message.subject.clone())
        .part("html", html);
    if let Some(text) = &message.text {
        form = form.text("text", text.clone());
    }
    for (name, value) in &message.headers {
        form = form.text(format!("h:{name}"), value.clone());
    }
    Ok(form
        .text("v:send_id", message.send_id.to_string())
        .text("o:tracking", "no")
        .text("o:tracking-clicks", "no")
        .text("o:tracking-opens", "no"))
}

/// Mailgun's id of a queued message, without angle brackets.
async fn queued(response: reqwest::Response) -> Result<Delivered, TransportError> {
    #[derive(serde::Deserialize)]
    struct Queued {
        id: Option<String>,
    }
    let queued: Queued = response.json().await.map_err(|e| {
        TransportError::Failed(format!(
            "mailgun accepted the message but its answer was odd: {e}"
        ))
    })?;
    let provider_id = queued.id.map(|id| {
        id.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string()
    });
    Ok(Delivered { provider_id })
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let secs: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// A refusal in Mailgun's words: its JSON `message` where it gives one.
async fn answer_error(response: reqwest::Response) -> TransportError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or(body);
    let message: String = message.trim().chars().take(MAX_ERROR_CHARS).collect();
    TransportError::Failed(format!("mailgun answered {status}: {message}"))
}

fn request_error(error: &reqwest::Error) -> TransportError {
    let what = if error.is_timeout() {
        "no answer in time; the message may or may not have been queued"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    // The error's URL holds the domain, never the key (basic auth travels in a header).
    TransportError::Failed(format!("mailgun: {what}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailgun::Secret;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = Retry::default();
        assert_eq!(retry.backoff(1), Duration::from_millis(500));
        assert_eq!(retry.backoff(2), Duration::from_secs(1));
        assert_eq!(retry.backoff(5), Duration::from_secs(8));
        assert_eq!(retry.backoff(40), Duration::from_secs(8));
    }

    #[test]
    fn messages_url_per_region_and_base() {
        let account = |base: &str| Account {
            domain: "mg.example.com".into(),
            api_key: Secret::new("k"),
            base_url: base.into(),
        };
        let url = messages_url(&account("https://api.eu.mailgun.net")).unwrap();
        assert_eq!(
            url.as_str(),
            "https://api.eu.mailgun.net/v3/mg.example.com/messages"
        );
        let url = messages_url(&account("http://127.0.0.1:9/fake/")).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/fake/v3/mg.example.com/messages"
        );
    }
}
