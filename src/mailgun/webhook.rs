//! Reading a Mailgun webhook body into one `Webhook`, whether it is the JSON body of today's
//! webhooks (`signature` and `event-data`) or the form-encoded body of the legacy ones (every
//! field at the top level, user variables among them).
//!
//! Parsing is lenient about what it does not use and strict about what it needs: a body
//! without the three signature fields or an event name is malformed.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::signature::Signed;

/// The longest field of the signature block accepted; Mailgun's tokens are 50 characters.
const MAX_SIGNATURE_FIELD: usize = 256;
/// The most of an SMTP answer kept on a send.
const MAX_REASON_CHARS: usize = 500;
/// The longest user agent kept, as for direct hits.
const MAX_USER_AGENT: usize = 512;

/// What happened, as far as mailtally acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `failed` with severity `permanent`, or a legacy `bounced` or `dropped`.
    PermanentFailure,
    /// `failed` with severity `temporary`.
    TemporaryFailure,
    Complained,
    Unsubscribed,
    Opened,
    Clicked,
    /// Anything else (`accepted`, `delivered`, `rejected`, `stored`, ...), by name.
    Other(String),
}

/// One webhook, signature and event.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub signed: Signed,
    pub event: Event,
}

/// The parts of an event mailtally uses.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    /// Mailgun's event id; legacy bodies have none.
    pub id: Option<String>,
    /// When it happened, unix ms.
    pub at: Option<i64>,
    /// The `send_id` user variable we set on every message.
    pub send_id: Option<i64>,
    /// The message id, without angle brackets.
    pub message_id: Option<String>,
    /// For clicks, the URL followed.
    pub url: Option<String>,
    pub ip: Option<IpAddr>,
    pub user_agent: String,
    /// Mailgun's own verdict that a bot opened or clicked.
    pub flagged_bot: bool,
    /// For failures, the receiving server's answer or Mailgun's reason.
    pub reason: Option<String>,
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("malformed webhook: {0}")]
    Malformed(String),
    #[error("send the webhook as application/json or application/x-www-form-urlencoded")]
    Unsupported,
}

fn malformed(why: &str) -> ParseError {
    ParseError::Malformed(why.to_string())
}

/// Reads a body by its content type.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Webhook, ParseError> {
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match media.as_str() {
        "application/json" => parse_json(body),
        "application/x-www-form-urlencoded" => parse_form(body),
        _ => Err(ParseError::Unsupported),
    }
}

/// Today's body: `{"signature": {...}, "event-data": {...}}`.
pub fn parse_json(body: &[u8]) -> Result<Webhook, ParseError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| malformed("not JSON"))?;
    let signature = value
        .get("signature")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("no `signature` object"))?;
    let signed = signed_from(|name| signature.get(name).and_then(scalar_text))?;
    let data = value
        .get("event-data")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("no `event-data` object"))?;
    Ok(Webhook {
        signed,
        event: event_from_json(data)?,
    })
}

fn event_from_json(data: &Map<String, Value>) -> Result<Event, ParseError> {
    let text = |value: Option<&Value>| value.and_then(scalar_text);
    let name = text(data.get("event")).ok_or_else(|| malformed("no `event` name"))?;
    let severity = text(data.get("severity")).unwrap_or_default();
    let kind = match name.as_str() {
        "failed" if severity == "permanent" => EventKind::PermanentFailure,
        "failed" if severity == "temporary" => EventKind::TemporaryFailure,
        _ => kind_of(&name),
    };

    let message_id = data
        .get("message")
        .and_then(|m| m.get("headers"))
        .and_then(|h| h.get("message-id"))
        .and_then(scalar_text);
    let user_variables = data.get("user-variables").and_then(Value::as_object);
    let send_id = user_variables
        .and_then(|vars| vars.get("send_id"))
        .and_then(scalar_text)
        .and_then(|id| parse_send_id(&id));
    let client = data.get("client-info").and_then(Value::as_object);
    let client_text = |name: &str| client.and_then(|c| c.get(name)).and_then(scalar_text);
    let flagged_bot = client.is_some_and(|c| is_flagged(c.get("bot")))
        || is_flagged(data.get("bot"))
        || client_text("client-type").is_some_and(|t| t.eq_ignore_ascii_case("robot"));

    let status = data.get("delivery-status");
    let status_text = |name: &str| status.and_then(|s| s.get(name)).and_then(scalar_text);
    let reason = [
        status_text("message"),
        status_text("description"),
        data.get("reject")
            .and_then(|r| r.get("reason"))
            .and_then(scalar_text),
        text(data.get("reason")),
    ]
    .into_iter()
    .flatten()
    .find(|r| !r.trim().is_empty())
    .map(|r| with_code(status_text("code"), &r));

    Ok(Event {
        kind,
        id: text(data.get("id")).filter(|id| !id.is_empty() && id.len() <= 256),
        at: data.get("timestamp").and_then(Value::as_f64).and_then(ms),
        send_id,
        message_id: message_id.map(|m| bare_message_id(&m)),
        url: text(data.get("url")),
        ip: text(data.get("ip")).and_then(|ip| ip.trim().parse().ok()),
        user_agent: clip(
            client_text("user-agent").unwrap_or_default(),
            MAX_USER_AGENT,
        ),
        flagged_bot,
        reason: reason.map(|r| clip(r, MAX_REASON_CHARS)),
    })
}

/// The legacy body: form fields, repeated names allowed (`tag`).
pub fn parse_form(body: &[u8]) -> Result<Webhook, ParseError> {
    if std::str::from_utf8(body).is_err() {
        return Err(malformed("the form is not UTF-8"));
    }
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    // Legacy bodies mix user variables with Mailgun's own fields, so a name may repeat;
    // the first of each name is taken. Our only variable, `send_id`, clashes with none.
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let signed = signed_from(field)?;
    let name = field("event").ok_or_else(|| malformed("no `event` field"))?;
    let kind = match name.as_str() {
        "bounced" | "dropped" => EventKind::PermanentFailure,
        _ => kind_of(&name),
    };
    let send_id = field("send_id")
        .and_then(|id| parse_send_id(&id))
        .or_else(|| {
            let vars: Value = serde_json::from_str(&field("X-Mailgun-Variables")?).ok()?;
            parse_send_id(&scalar_text(vars.get("send_id")?)?)
        });
    let flagged_bot = field("client-type").is_some_and(|t| t.eq_ignore_ascii_case("robot"))
        || field("bot").is_some_and(|b| !matches!(b.trim(), "" | "false" | "0" | "no"));
    let reason = ["error", "description", "reason", "notification"]
        .into_iter()
        .filter_map(field)
        .find(|r| !r.trim().is_empty())
        .map(|r| with_code(field("code"), &r));

    Ok(Webhook {
        signed,
        event: Event {
            kind,
            id: None,
            at: None,
            send_id,
            message_id: field("Message-Id").map(|m| bare_message_id(&m)),
            url: field("url"),
            ip: field("ip").and_then(|ip| ip.trim().parse().ok()),
            user_agent: clip(field("user-agent").unwrap_or_default(), MAX_USER_AGENT),
            flagged_bot,
            reason: reason.map(|r| clip(r, MAX_REASON_CHARS)),
        },
    })
}

fn signed_from(field: impl Fn(&str) -> Option<String>) -> Result<Signed, ParseError> {
    let fits = |part: &String| part.len() <= MAX_SIGNATURE_FIELD;
    match ["timestamp", "token", "signature"].map(field) {
        [Some(timestamp), Some(token), Some(signature)]
            if fits(&timestamp) && fits(&token) && fits(&signature) =>
        {
            Ok(Signed {
                timestamp,
                token,
                signature,
            })
        }
        _ => Err(malformed(
            "the signature needs timestamp, token and signature",
        )),
    }
}

fn kind_of(name: &str) -> EventKind {
    match name {
        "complained" => EventKind::Complained,
        "unsubscribed" => EventKind::Unsubscribed,
        "opened" => EventKind::Opened,
        "clicked" => EventKind::Clicked,
        other => EventKind::Other(clip(other.to_string(), 64)),
    }
}

/// A string as is, a number or boolean in its JSON form; nothing for objects and arrays.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Mailgun's `bot` marker: `true`, or a non-empty name of the bot.
fn is_flagged(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(name)) => !matches!(name.trim(), "" | "false" | "0" | "no"),
        _ => false,
    }
}

fn parse_send_id(text: &str) -> Option<i64> {
    text.trim().parse().ok().filter(|&id: &i64| id > 0)
}

fn ms(seconds: f64) -> Option<i64> {
    let ms = seconds * 1000.0;
    (ms.is_finite() && ms > 0.0 && ms < 1e15).then_some(ms as i64)
}

fn bare_message_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

fn with_code(code: Option<String>, reason: &str) -> String {
    let reason = reason.trim();
    match code {
        Some(code) if !code.is_empty() && !reason.starts_with(code.as_str()) => {
            format!("{code} {reason}")
        }
        _ => reason.to_string(),
    }
}

fn clip(mut text: String, max: usize) -> String {
    if text.len() > max {
        let cut = (0..=max).rev().find(|&i| text.is_char_boundary(i));
        text.truncate(cut.unwrap_or(0));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_permanent_failure() {
        let body = br#"{"signature": {"timestamp": "1", "token": "t", "signature": "s"},
            "event-data": {"event": "failed", "severity": "permanent", "id": "e1",
            "timestamp": 1534110422.389832, "user-variables": {"send_id": "42"},
            "message": {"headers": {"message-id": "a@b"}},
            "delivery-status": {"code": 550, "message": "5.1.1 no such user"}}}"#;
        let hook = parse(Some("application/json; charset=utf-8"), body).unwrap();
        assert_eq!(hook.signed.token, "t");
        let e = hook.event;
        assert_eq!(e.kind, EventKind::PermanentFailure);
        assert_eq!(e.send_id, Some(42));
        assert_eq!(e.message_id.as_deref(), Some("a@b"));
        assert_eq!(e.at, Some(1_534_110_422_389));
        assert_eq!(e.reason.as_deref(), Some("550 5.1.1 no such user"));
    }

    #[test]
    fn reads_a_legacy_form() {
        let body = b"event=clicked&token=tok&timestamp=1&signature=s&tag=a&tag=b\
            &url=http%3A%2F%2Fx.test%2F&send_id=7&client-type=robot&Message-Id=%3Cm%40x%3E";
        let hook = parse(Some("application/x-www-form-urlencoded"), body).unwrap();
        assert_eq!(hook.signed.token, "tok");
        assert_eq!(hook.event.kind, EventKind::Clicked);
        assert_eq!(hook.event.send_id, Some(7));
        assert_eq!(hook.event.url.as_deref(), Some("http://x.test/"));
        assert_eq!(hook.event.message_id.as_deref(), Some("m@x"));
        assert!(hook.event.flagged_bot);
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        let json = Some("application/json");
        for body in [
            &b""[..],
            b"[]",
            b"{\"event-data\": {\"event\": \"opened\"}}",
            b"{\"signature\": {\"token\": \"t\", \"signature\": \"s\"}, \"event-data\": {}}",
            b"{\"signature\": {\"timestamp\": \"1\", \"token\": \"t\", \"signature\": \"s\"}}",
        ] {
            assert!(matches!(parse(json, body), Err(ParseError::Malformed(_))));
        }
        assert!(matches!(
            parse(Some("text/plain"), b"{}"),
            Err(ParseError::Unsupported)
        ));
        assert!(matches!(parse(None, b"{}"), Err(ParseError::Unsupported)));
    }
}
