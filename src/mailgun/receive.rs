//! Deciding whether to trust a webhook, then acting on it once (issue 6, item 3).
//!
//! In order: find the send the event belongs to (the `send_id` user variable, else the
//! message id); take the keys of its tenant (team, else organisation, else platform); verify
//! the signature with them; refuse a stale timestamp; refuse a token seen before, in the
//! database so every node agrees; skip an event id already processed; apply the effects.
//! A failure to store anything releases the token and the event id, so Mailgun's retry of
//! the same webhook is accepted and applied.

use super::Mailgun;
use super::effects::{Effects, Outcome};
use super::signature::{self, Signed};
use super::webhook::Webhook;
use crate::store::{self, MailgunSend, now_ms};

/// How long processed event ids are remembered. Mailgun retries a webhook for about eight
/// hours; a week leaves a wide margin.
const EVENT_MEMORY_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// What became of an accepted webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Processed,
    /// Verified but deliberately not acted on.
    Ignored(&'static str),
    /// Its event id was processed before.
    Duplicate,
}

/// Why a webhook was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Not signed by a key of the event's tenant, stale, or replayed.
    #[error("{0}")]
    Untrusted(&'static str),
    /// Something on our side failed; the sender should retry.
    #[error("the webhook could not be processed just now")]
    Unavailable,
}

impl Mailgun {
    /// Verifies and applies one webhook.
    pub async fn receive(
        &self,
        effects: &Effects<'_>,
        hook: &Webhook,
    ) -> Result<Accepted, Refused> {
        let store = effects.store;
        let now = now_ms();
        let send = self.send_of(store, hook).await?;

        self.verify(hook, send.as_ref(), now).await?;
        let forget_tokens_before = now.saturating_sub(self.max_age_ms.saturating_mul(2));
        let token = &hook.signed.token;
        if !store
            .claim_webhook_token(token, forget_tokens_before)
            .await
            .map_err(unavailable)?
        {
            tracing::warn!(token = %token_hint(&hook.signed), "replayed mailgun token refused");
            return Err(Refused::Untrusted("replayed token"));
        }

        let Some(send) = send else {
            tracing::debug!(event = ?hook.event.kind, "mailgun event for no send of ours");
            return Ok(Accepted::Ignored("no send matches the event"));
        };
        if send.contact_erased {
            tracing::debug!(
                send.id = send.id,
                "mailgun event for an erased contact ignored"
            );
            return Ok(Accepted::Ignored("the recipient's data was erased"));
        }
        let outcome = self.apply_once(effects, &send, hook).await;
        if outcome.is_err() {
            // Let Mailgun's retry through; if this fails too, the retry is refused as a
            // replay, which the error log below tells an operator about.
            if let Err(error) = store.release_webhook_token(token).await {
                tracing::error!(%error, "could not release a mailgun webhook token");
            }
        }
        outcome
    }

    /// Checks the signature with the keys of the send's tenant, and the timestamp.
    async fn verify(
        &self,
        hook: &Webhook,
        send: Option<&MailgunSend>,
        now: i64,
    ) -> Result<(), Refused> {
        let keys = match send {
            Some(send) => {
                let keys = self.accounts.signing_keys(send.org_id, send.team_id, now);
                keys.await.map_err(|error| {
                    tracing::error!(%error, "webhook signing keys unavailable");
                    Refused::Untrusted("no key can verify this webhook")
                })?
            }
            None => self.accounts.platform_signing_keys(),
        };
        let verified = keys
            .keys
            .iter()
            .any(|key| signature::verify(key.expose().as_bytes(), &hook.signed));
        if !verified {
            tracing::debug!(
                send.id = send.map(|s| s.id),
                tier = ?keys.tier,
                keys = keys.keys.len(),
                "mailgun webhook signature refused"
            );
            return Err(Refused::Untrusted("bad signature"));
        }
        if !signature::is_fresh(&hook.signed.timestamp, now, self.max_age_ms) {
            tracing::warn!(timestamp = %hook.signed.timestamp, "stale mailgun webhook refused");
            return Err(Refused::Untrusted("stale timestamp"));
        }
        Ok(())
    }

    async fn apply_once(
        &self,
        effects: &Effects<'_>,
        send: &MailgunSend,
        hook: &Webhook,
    ) -> Result<Accepted, Refused> {
        let store = effects.store;
        let event_id = hook.event.id.as_deref();
        if let Some(id) = event_id {
            let forget_before = now_ms().saturating_sub(EVENT_MEMORY_MS);
            let first = store.claim_mailgun_event(id, send.id, forget_before).await;
            if !first.map_err(unavailable)? {
                tracing::debug!(send.id = send.id, "mailgun event already processed");
                return Ok(Accepted::Duplicate);
            }
        }

        match effects.apply(send, &hook.event).await {
            Ok(Outcome::Applied) => {
                let event = &hook.event.kind;
                tracing::info!(send.id = send.id, ?event, "mailgun event applied");
                Ok(Accepted::Processed)
            }
            Ok(Outcome::Ignored(why)) => Ok(Accepted::Ignored(why)),
            Err(error) => {
                tracing::error!(%error, send.id = send.id, "mailgun event effects failed");
                if let Some(id) = event_id
                    && let Err(error) = store.release_mailgun_event(id).await
                {
                    tracing::error!(%error, send.id = send.id, "could not release a mailgun event");
                }
                Err(Refused::Unavailable)
            }
        }
    }

    /// The send an event names: by its `send_id` user variable, else by message id.
    async fn send_of(
        &self,
        store: &store::Store,
        hook: &Webhook,
    ) -> Result<Option<MailgunSend>, Refused> {
        if let Some(send_id) = hook.event.send_id
            && let Some(send) = store.mailgun_send(send_id).await.map_err(unavailable)?
        {
            return Ok(Some(send));
        }
        match hook.event.message_id.as_deref() {
            Some(id) if !id.is_empty() => store
                .mailgun_send_by_message_id(id)
                .await
                .map_err(unavailable),
            _ => Ok(None),
        }
    }
}

fn unavailable(error: store::Error) -> Refused {
    tracing::error!(%error, "mailgun webhook storage failed");
    Refused::Unavailable
}

/// The first characters of a token, enough to match log lines, never the whole token.
fn token_hint(signed: &Signed) -> String {
    signed.token.chars().take(6).collect::<String>() + "…"
}
