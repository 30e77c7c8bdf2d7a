//! What every signed-in page shares: the portal header, the navigation and sign-out, and
//! rendering a template into a response.

use askama::Template;
use axum::response::Html;

use super::error::PageResult;
use super::session::{Portal, SignedIn};
use crate::store::Role;

/// The tabs of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Stats,
    Settings,
}

/// The frame around a signed-in page, read by `base.html`.
pub struct Chrome {
    pub title: String,
    pub portal: &'static str,
    pub email: String,
    pub role: &'static str,
    pub csrf: String,
    pub tab: Tab,
    /// The Mailgun settings link shows for those who may change them.
    pub can_settings: bool,
}

impl Chrome {
    pub fn new(signed_in: &SignedIn, tab: Tab, title: impl Into<String>) -> Chrome {
        let portal = signed_in.portal();
        Chrome {
            title: title.into(),
            portal: portal.title(),
            email: signed_in.user.email.clone(),
            role: signed_in.user.role.as_str(),
            csrf: signed_in.csrf.clone(),
            tab,
            can_settings: may_manage_mailgun(signed_in.user.role),
        }
    }

    pub fn is_admin_portal(&self) -> bool {
        self.portal == Portal::Admin.title()
    }

    pub fn on_stats(&self) -> bool {
        self.tab == Tab::Stats
    }

    pub fn on_settings(&self) -> bool {
        self.tab == Tab::Settings
    }
}

/// Owners and admins manage the organisation's Mailgun settings, partners their team's.
pub fn may_manage_mailgun(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin | Role::Partner)
}

/// Renders a page template.
pub fn render(page: &impl Template) -> PageResult<Html<String>> {
    Ok(Html(page.render()?))
}
