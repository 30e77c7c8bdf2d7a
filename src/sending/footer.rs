//! The compliance footer every send carries, in HTML and text.

/// The footer of one send.
pub struct Footer {
    pub html: String,
    pub text: String,
}

impl Footer {
    /// The footer pointing at this send's unsubscribe URL. The URL is made of our base URL
    /// and a base64url token, so it needs no escaping beyond `&` and quotes.
    pub fn new(unsubscribe_url: &str) -> Footer {
        let href = unsubscribe_url.replace('&', "&amp;").replace('"', "&quot;");
        let html = format!(
            "<div class=\"mailtally-footer\" style=\"margin:24px 0 0;font-size:12px;\
             color:#6b7280;text-align:center\">Don't want these emails? \
             <a href=\"{href}\" style=\"color:#6b7280\">Unsubscribe</a>.</div>"
        );
        let text =
            format!("\n\n--\nTo stop receiving these emails, unsubscribe: {unsubscribe_url}\n");
        Footer { html, text }
    }
}
