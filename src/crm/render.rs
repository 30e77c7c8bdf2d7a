//! Rendering templates per contact with minijinja, before the send path instruments them.
//!
//! Merge fields are Jinja expressions: `{{ first_name }}`, any custom field by name
//! (`{{ company }}`, or `{{ fields["Company name"] }}` for names that are not identifiers),
//! and fallbacks with the `default` filter: `{{ first_name | default("there") }}`. Empty
//! values are left out of the context, so a fallback also covers a blank field.
//!
//! The HTML body autoescapes, so contact data always renders as text there (a name
//! `<script>` becomes `&lt;script&gt;`); the subject and the text body do not escape, as
//! they are not HTML. Templates are authored by users, so rendering runs on fuel: a
//! template that loops for ever fails instead of holding the scheduler.

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::store::Contact;

/// The parts of an email to render.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    pub subject: &'a str,
    pub html: &'a str,
    pub text: Option<&'a str>,
}

/// An email rendered for one contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: Option<String>,
}

/// Why a template did not render; names the part and, where known, the line.
#[derive(Debug, thiserror::Error)]
#[error("the {part} does not render: {message}")]
pub struct RenderError {
    pub part: &'static str,
    pub message: String,
}

/// Enough steps for any real email, few enough that a runaway loop ends at once.
const FUEL: u64 = 100_000;

/// Renders the parts for `contact`.
pub fn render(parts: &Parts<'_>, contact: &Contact) -> Result<Rendered, RenderError> {
    let env = environment();
    let context = merge_context(contact);
    let one = |part: &'static str, name: &'static str, source: &str| {
        env.render_named_str(name, source, context.clone())
            .map_err(|e| RenderError {
                part,
                message: e.to_string(),
            })
    };

    // A line break in a subject would end the header; contact data may hold one.
    let subject = one("subject", "subject.txt", parts.subject)?
        .replace(['\r', '\n'], " ")
        .trim()
        .to_string();
    let html = one("html body", "body.html", parts.html)?;
    let text = match parts.text {
        Some(text) => Some(one("text body", "body.txt", text)?),
        None => None,
    };
    Ok(Rendered {
        subject,
        html,
        text,
    })
}

/// Checks that the parts compile and render for a sample contact, so an author hears of a
/// mistake when saving, not when a step falls due.
pub fn check(parts: &Parts<'_>) -> Result<(), RenderError> {
    let sample = Contact {
        id: 0,
        org_id: 0,
        email: "ada@example.com".into(),
        name: "Ada Lovelace".into(),
        status: "active".into(),
        status_reason: None,
        owner_id: None,
        fields: BTreeMap::new(),
        tags: Vec::new(),
        no_track: false,
        erased_at: None,
        created_at: 0,
    };
    render(parts, &sample).map(|_| ())
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    // A missing field renders empty, so one contact without `company` does not stop a
    // campaign; `default(...)` gives it a better value.
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_fuel(Some(FUEL));
    env
}

/// The merge fields of a contact: custom fields, then `first_name` and `last_name` from
/// the name unless custom fields give them, then `email`, `name` and the `fields` map,
/// which custom fields cannot shadow.
fn merge_context(contact: &Contact) -> Value {
    let mut context: BTreeMap<String, Value> = BTreeMap::new();
    let mut put = |key: &str, value: &str| {
        if !value.trim().is_empty() {
            context.insert(key.to_string(), Value::from(value));
        }
    };

    for (key, value) in &contact.fields {
        put(key, value);
    }
    let name = contact.name.trim();
    let (first, last) = name.split_once(char::is_whitespace).unwrap_or((name, ""));
    for (key, value) in [("first_name", first), ("last_name", last.trim())] {
        let given = contact
            .fields
            .get(key)
            .is_some_and(|v| !v.trim().is_empty());
        if !given {
            put(key, value);
        }
    }
    put("name", name);
    put("email", &contact.email);

    let fields: BTreeMap<String, Value> = contact
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    context.insert("fields".into(), Value::from(fields));
    Value::from(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(name: &str, fields: &[(&str, &str)]) -> Contact {
        Contact {
            id: 1,
            org_id: 1,
            email: "reader@example.org".into(),
            name: name.into(),
            status: "active".into(),
            status_reason: None,
            owner_id: None,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            tags: Vec::new(),
            no_track: false,
            erased_at: None,
            created_at: 0,
        }
    }

    fn check(subject: &str, html: &str, text: &str, who: &Contact) -> Rendered {
        let parts = Parts {
            subject,
            html,
            text: Some(text),
        };
        render(&parts, who).unwrap()
    }

    #[test]
    fn merge_fields_and_fallbacks() {
        let ada = contact("Ada Lovelace", &[("company", "Analytical Engines")]);
        let out = check(
            "Hi {{ first_name }}",
            "<p>{{ company }} / {{ last_name }}</p>",
            "{{ fields.company }} {{ email }}",
            &ada,
        );
        assert_eq!(out.subject, "Hi Ada");
        assert_eq!(out.html, "<p>Analytical Engines / Lovelace</p>");
        assert_eq!(out.text.unwrap(), "Analytical Engines reader@example.org");

        let nobody = contact("", &[("company", "  ")]);
        let out = check(
            "Hi {{ first_name | default(\"there\") }}",
            "<p>{{ company | default(\"your team\") }}</p>",
            "{{ missing }}.",
            &nobody,
        );
        assert_eq!(out.subject, "Hi there");
        assert_eq!(out.html, "<p>your team</p>");
        assert_eq!(out.text.unwrap(), ".");
    }

    #[test]
    fn contact_data_is_escaped_in_html_only() {
        let mallory = contact("<script>alert(1)</script> Evil", &[("x", "\"&'")]);
        let out = check(
            "{{ first_name }}",
            "<p title=\"{{ x }}\">{{ name }}</p>",
            "{{ name }}",
            &mallory,
        );
        assert!(!out.html.contains("<script>"), "{}", out.html);
        assert!(out.html.contains("&lt;script&gt;"), "{}", out.html);
        assert!(
            out.html.contains("title=\"&quot;&amp;&#x27;\""),
            "{}",
            out.html
        );
        assert_eq!(out.subject, "<script>alert(1)</script>");
        assert_eq!(out.text.unwrap(), "<script>alert(1)</script> Evil");
    }

    #[test]
    fn subject_line_breaks_become_spaces() {
        let odd = contact("Ada\r\nBcc: x@example.com", &[]);
        let out = check("Hi {{ name }}", "<p>x</p>", "x", &odd);
        assert_eq!(out.subject, "Hi Ada  Bcc: x@example.com");
    }

    #[test]
    fn mistakes_are_reported_with_their_part() {
        let parts = Parts {
            subject: "ok",
            html: "<p>{{ name | nosuchfilter }}</p>",
            text: None,
        };
        let error = super::check(&parts).unwrap_err();
        assert_eq!(error.part, "html body");

        let parts = Parts {
            subject: "{% for x in y %}",
            html: "<p></p>",
            text: None,
        };
        assert_eq!(super::check(&parts).unwrap_err().part, "subject");
    }

    #[test]
    fn runaway_templates_run_out_of_fuel() {
        let parts = Parts {
            subject: "s",
            html: "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}\
                   {% endfor %}",
            text: None,
        };
        assert!(super::check(&parts).is_err());
    }
}
