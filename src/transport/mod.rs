//! Mail transports: where an instrumented email goes once it is built.
//!
//! The seam is `Transport::deliver`. This module holds the outbox, which writes each
//! message as an `.eml` file, and the Mailgun transport (`mailgun`).

pub mod mailgun;
mod message;
mod outbox;

use std::future::Future;
use std::pin::Pin;

pub use mailgun::{MailgunTransport, Retry};
pub use message::build_message;
pub use outbox::Outbox;

/// An email ready to leave: instrumented, with its footer and headers.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub send_id: i64,
    pub from: String,
    pub to_email: String,
    pub to_name: String,
    pub subject: String,
    /// The HTML part in `html_charset`.
    pub html: Vec<u8>,
    pub html_charset: String,
    pub text: Option<String>,
    /// Extra headers, such as `List-Unsubscribe`.
    pub headers: Vec<(&'static str, String)>,
    /// The sender's organisation and partner team, whose provider account carries the mail.
    pub org_id: i64,
    pub team_id: Option<i64>,
}

/// What a transport reports for a delivered message.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    /// The provider's id for the message, where it gives one.
    pub provider_id: Option<String>,
}

/// Why a message did not leave.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the transport failed: {0}")]
    Failed(String),
}

pub type DeliverFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Delivered, TransportError>> + Send + 'a>>;

pub type ForgetFuture<'a> = Pin<Box<dyn Future<Output = std::io::Result<u64>> + Send + 'a>>;

/// Hands messages to whatever carries them.
pub trait Transport: Send + Sync {
    fn deliver<'a>(&'a self, message: &'a Outgoing) -> DeliverFuture<'a>;

    /// Deletes every copy this transport kept of these sends' messages, for an erasure;
    /// returns how many it deleted. Transports that keep no copy delete nothing.
    fn forget<'a>(&'a self, _send_ids: &'a [i64]) -> ForgetFuture<'a> {
        Box::pin(async { Ok(0) })
    }
}
