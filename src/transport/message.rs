//! Builds the RFC 5322 message of an `Outgoing` with lettre's MIME builder.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart, SinglePart};

use super::{Outgoing, TransportError};

/// The complete message, `multipart/alternative` when there is a text part.
pub fn build_message(out: &Outgoing) -> Result<Vec<u8>, TransportError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| TransportError::Build(format!("{what}: {e}"));
    let from: Mailbox = out.from.parse().map_err(|e| bad("from address", &e))?;
    let to_address = out
        .to_email
        .parse()
        .map_err(|e| bad("recipient address", &e))?;
    let to_name = (!out.to_name.trim().is_empty()).then(|| out.to_name.trim().to_string());
    let to = Mailbox::new(to_name, to_address);

    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(out.subject.as_str());
    for (name, value) in &out.headers {
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(name),
            value.clone(),
        ));
    }

    let html_type = ContentType::parse(&format!("text/html; charset={}", out.html_charset))
        .map_err(|e| bad("html charset", &e))?;
    let html = SinglePart::builder()
        .header(html_type)
        .body(out.html.clone());
    let message = match &out.text {
        Some(text) => {
            let text = SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text.clone());
            builder.multipart(MultiPart::alternative().singlepart(text).singlepart(html))
        }
        None => builder.singlepart(html),
    };
    Ok(message.map_err(|e| bad("message", &e))?.formatted())
}
