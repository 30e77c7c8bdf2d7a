//! The CRM side (issue 5): contacts, templates, broadcast and drip campaigns, and the
//! scheduler that sends their steps. Everything it emails goes through `Mailer::send`,
//! rendered first (`render`), so CRM email is logged, instrumented and suppressed exactly
//! like email sent through the API.

pub mod csv_import;
pub mod render;
pub mod scheduler;

use std::collections::BTreeMap;

pub use scheduler::{Scheduler, SchedulerSettings, TickReport};

use crate::sending::{Draft, Mailer, Report, SendError};
pub use crate::sending::{is_display_name, normalise_email};
use crate::store::{Contact, Template, User};

/// The most custom fields one contact may carry, and their sizes.
pub const MAX_FIELDS: usize = 50;
pub const MAX_FIELD_NAME: usize = 64;
pub const MAX_FIELD_VALUE: usize = 1000;
/// The most tags one contact may carry, and their length.
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG: usize = 64;

/// Tags in stored form: trimmed, lower-case, deduplicated, sorted.
pub fn normalise_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > MAX_TAG || tag.contains([',', ';']) {
            return Err(format!(
                "tag {tag:?} must be at most {MAX_TAG} characters, without , or ;"
            ));
        }
        out.push(tag);
    }
    out.sort();
    out.dedup();
    if out.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags per contact"));
    }
    Ok(out)
}

/// Checks custom fields; they are merge fields, so names are plain and values bounded.
pub fn check_fields(fields: &BTreeMap<String, String>) -> Result<(), String> {
    if fields.len() > MAX_FIELDS {
        return Err(format!("at most {MAX_FIELDS} custom fields per contact"));
    }
    for (name, value) in fields {
        let plain = !name.is_empty()
            && name.len() <= MAX_FIELD_NAME
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain {
            return Err(format!(
                "custom field name {name:?} must be 1 to {MAX_FIELD_NAME} letters, digits or _"
            ));
        }
        if value.chars().count() > MAX_FIELD_VALUE {
            return Err(format!(
                "custom field {name:?} is longer than {MAX_FIELD_VALUE} characters"
            ));
        }
    }
    Ok(())
}

/// A delay in milliseconds from `500ms`, `90s`, `15m`, `2h` or `3d`; a bare number is
/// milliseconds. At most a year.
pub fn parse_delay(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let bad = || format!("delay {text:?} is not like 500ms, 90s, 15m, 2h or 3d");
    let amount: i64 = digits.parse().map_err(|_| bad())?;
    let unit_ms = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    let delay = amount.checked_mul(unit_ms).ok_or_else(bad)?;
    check_delay(delay)?;
    Ok(delay)
}

/// The longest wait a step may have.
pub const MAX_DELAY_MS: i64 = 366 * 86_400_000;

pub fn check_delay(delay_ms: i64) -> Result<(), String> {
    if !(0..=MAX_DELAY_MS).contains(&delay_ms) {
        return Err("a step's delay must be between 0 and 366 days".into());
    }
    Ok(())
}

/// What one CRM email is made of before it is rendered for its contact.
#[derive(Debug, Clone, Copy)]
pub enum Composition<'a> {
    /// A saved template; the send is grouped under it in the stats.
    Template(&'a Template),
    /// An email written for this send; merge fields work here too.
    Written(render::Parts<'a>),
}

/// Renders a composition for a contact into a draft for `Mailer::send`. `track` false
/// sends it untracked (a campaign or step that opted out); the contact's own opt-out is
/// applied by the send path.
pub fn draft_for(
    composition: Composition<'_>,
    contact: &Contact,
    campaign: Option<&str>,
    track: bool,
) -> Result<Draft, render::RenderError> {
    let (parts, template) = match composition {
        Composition::Template(t) => {
            let parts = render::Parts {
                subject: &t.subject,
                html: &t.html,
                text: t.text.as_deref(),
            };
            (parts, Some(t.name.clone()))
        }
        Composition::Written(parts) => (parts, None),
    };
    let rendered = render::render(&parts, contact)?;
    Ok(Draft {
        to: contact.email.clone(),
        to_name: contact.name.clone(),
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        campaign: campaign.map(str::to_string),
        template,
        track,
    })
}

/// Sends one CRM email to one contact as `sender`: refused with `Suppressed` (naming the
/// reason) when the contact may not be emailed, rendered, then through the send path.
/// `track` false sends it untracked.
pub async fn send_to_contact(
    mailer: &Mailer,
    sender: &User,
    contact: &Contact,
    composition: Composition<'_>,
    track: bool,
) -> Result<Report, SendError> {
    if !contact.is_active() {
        let reason = contact
            .status_reason
            .as_deref()
            .unwrap_or("no reason recorded");
        return Err(SendError::Suppressed(format!(
            "contact is {} ({reason})",
            contact.status
        )));
    }
    let draft = draft_for(composition, contact, None, track)
        .map_err(|e| SendError::Invalid(e.to_string()))?;
    mailer.send(sender, &draft).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays() {
        assert_eq!(parse_delay("250ms"), Ok(250));
        assert_eq!(parse_delay("250"), Ok(250));
        assert_eq!(parse_delay("90s"), Ok(90_000));
        assert_eq!(parse_delay("2h"), Ok(7_200_000));
        assert_eq!(parse_delay("3d"), Ok(259_200_000));
        assert!(parse_delay("-1s").is_err());
        assert!(parse_delay("400d").is_err());
        assert!(parse_delay("soon").is_err());
    }

    #[test]
    fn emails_and_tags() {
        assert_eq!(
            normalise_email(" Ada@Example.ORG "),
            Some("ada@example.org".into())
        );
        assert_eq!(normalise_email("ada@example"), None);
        assert_eq!(normalise_email("a b@example.org"), None);
        assert_eq!(
            normalise_tags(["Lead", " lead", "", "VIP"]),
            Ok(vec!["lead".to_string(), "vip".to_string()])
        );
        assert!(normalise_tags(["a,b"]).is_err());
    }
}
