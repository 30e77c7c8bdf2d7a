//! Stage 1: what one request is, from what it carries alone.
//!
//! The signals, strongest first: a honeypot hit, a `HEAD`/`OPTIONS` method, a user agent
//! that names a bot, Apple's bare `Mozilla/5.0`, Mailgun's own bot flag, a prefetch header,
//! an image proxy's user agent, and an Apple Mail user agent from an Apple relay address.
//! Anything else is a person. Behaviour across requests (bursts, timing, honeypot followers)
//! is stage 2, in `tally`.

use crate::address::AppleRelayRanges;
use crate::rules::{self, Rule};
use crate::{Class, Kind, Request, Source, Verdict};

/// User agents are cut to this many bytes before matching: real ones are far shorter, and a
/// bound keeps the cost of a hostile header flat.
const MAX_USER_AGENT_BYTES: usize = 1024;

const MPP_AGENT: &str = "Apple Mail Privacy Protection";

/// Classifies with the built-in Apple relay ranges.
pub fn classify(request: &Request) -> Verdict {
    classify_with(request, AppleRelayRanges::built_in())
}

/// Classifies with the given Apple relay ranges (for instance Apple's published egress list,
/// loaded at start).
pub fn classify_with(request: &Request, relay: &AppleRelayRanges) -> Verdict {
    let ua = normalized_user_agent(&request.user_agent);
    let rule = rules::find(&ua);
    let bot_rule = rule.filter(|rule| rule.class.is_bot());
    let is_open = request.kind == Kind::Open;

    if request.kind == Kind::Honeypot {
        let reason = "followed the hidden honeypot link, which no person can see".to_string();
        return bot_verdict(bot_rule, reason);
    }
    if request.method.eq_ignore_ascii_case("HEAD") || request.method.eq_ignore_ascii_case("OPTIONS")
    {
        let method = request.method.to_ascii_uppercase();
        let reason = format!("{method} request: link checkers send these, browsers do not");
        return bot_verdict(bot_rule, reason);
    }
    if let Some(rule) = bot_rule {
        return from_rule(rule);
    }

    let is_bare_mozilla = rule.is_some_and(|rule| rule.class == Class::AppleMpp);
    if is_bare_mozilla && is_open {
        let from_relay = request.ip.is_some_and(|ip| relay.contains(ip));
        let reason = if from_relay {
            "bare \"Mozilla/5.0\" user agent from an Apple relay address: Apple Mail Privacy \
             Protection loading images, not a person reading"
        } else {
            "bare \"Mozilla/5.0\" user agent: Apple Mail Privacy Protection loading images, not \
             a person reading"
        };
        return verdict(Class::AppleMpp, Some(MPP_AGENT), reason.to_string());
    }
    if is_bare_mozilla {
        let reason = "bare \"Mozilla/5.0\" user agent on a link: Apple's proxy only loads \
                      images and no browser sends this";
        return verdict(Class::OtherBot, None, reason.to_string());
    }
    if let Source::Mailgun { flagged_bot: true } = request.source {
        return verdict(Class::OtherBot, None, "Mailgun flagged as bot".to_string());
    }
    if request.prefetch {
        let reason = "fetched ahead of time (prefetch header), not opened by a person";
        return verdict(Class::PreviewBot, None, reason.to_string());
    }
    if let Some(rule) = rule.filter(|rule| rule.class == Class::ImageProxy) {
        return from_rule(rule);
    }

    let relay_mail = is_open
        && rules::is_apple_mail_shape(&ua)
        && request.ip.is_some_and(|ip| relay.contains(ip));
    if relay_mail {
        let reason = "Apple Mail user agent from an Apple relay address: Mail Privacy \
                      Protection loading images, not a person reading";
        return verdict(Class::AppleMpp, Some(MPP_AGENT), reason.to_string());
    }

    match rule.filter(|rule| rule.class == Class::Human) {
        Some(rule) => from_rule(rule),
        None => verdict(Class::Human, None, "no bot signal".to_string()),
    }
}

/// The user agent trimmed, bounded and lower-cased: the one allocation per request.
fn normalized_user_agent(user_agent: &str) -> String {
    let trimmed = user_agent.trim();
    let mut end = trimmed.len().min(MAX_USER_AGENT_BYTES);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    trimmed[..end].to_ascii_lowercase()
}

/// A bot verdict for a behaviour signal: the user agent's bot class and name where it has
/// one, a scanner otherwise (a browser-like visitor that checks links is what scanners do).
fn bot_verdict(bot_rule: Option<&Rule>, reason: String) -> Verdict {
    match bot_rule {
        Some(rule) => verdict(rule.class, named(rule.agent), reason),
        None => verdict(Class::Scanner, None, reason),
    }
}

fn from_rule(rule: &Rule) -> Verdict {
    let agent = named(rule.agent);
    let reason = match (rule.class, agent) {
        (Class::OtherBot, _) if rule.pattern.text().is_empty() => "no user agent".to_string(),
        (Class::ImageProxy, Some(name)) => {
            format!("user agent of {name}'s image proxy, which loads images for the reader")
        }
        (class, Some(name)) => format!("user agent of {}: {name}", describe(class)),
        (class, None) => format!("user agent of {}", describe(class)),
    };
    verdict(rule.class, agent, reason)
}

fn describe(class: Class) -> &'static str {
    match class {
        Class::Human => "a mail client",
        Class::AppleMpp => "Apple's Mail Privacy Protection proxy",
        Class::ImageProxy => "an image proxy",
        Class::Scanner => "a security scanner",
        Class::PreviewBot => "a link preview",
        Class::OtherBot => "a bot or script",
    }
}

fn named(agent: &'static str) -> Option<&'static str> {
    (!agent.is_empty()).then_some(agent)
}

fn verdict(class: Class, agent: Option<&str>, reason: String) -> Verdict {
    Verdict {
        class,
        agent: agent.map(str::to_string),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                          (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36";
    const APPLE_MAIL: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) \
                              AppleWebKit/605.1.15 (KHTML, like Gecko)";

    fn request(kind: Kind, method: &str, ua: &str, ip: Option<&str>) -> Request {
        Request {
            kind,
            source: Source::Direct,
            method: method.to_string(),
            user_agent: ua.to_string(),
            ip: ip.map(|ip| ip.parse::<IpAddr>().unwrap()),
            prefetch: false,
            at: 0,
        }
    }

    fn open(ua: &str) -> Request {
        request(Kind::Open, "GET", ua, Some("203.0.113.9"))
    }

    fn click(ua: &str) -> Request {
        request(Kind::Click { position: 1 }, "GET", ua, Some("203.0.113.9"))
    }

    #[test]
    fn bare_mozilla_is_mpp_on_opens_only() {
        let v = classify(&open("  Mozilla/5.0 "));
        assert_eq!(
            (v.class, v.agent.as_deref()),
            (Class::AppleMpp, Some(MPP_AGENT))
        );
        assert_eq!(classify(&click("Mozilla/5.0")).class, Class::OtherBot);
    }

    #[test]
    fn apple_mail_counts_as_a_person_unless_it_comes_from_apple_relays() {
        assert_eq!(classify(&open(APPLE_MAIL)).class, Class::Human);
        let relayed = request(Kind::Open, "GET", APPLE_MAIL, Some("17.58.0.1"));
        assert_eq!(classify(&relayed).class, Class::AppleMpp);
        let relayed_click = request(
            Kind::Click { position: 0 },
            "GET",
            APPLE_MAIL,
            Some("17.1.1.1"),
        );
        assert_eq!(classify(&relayed_click).class, Class::Human);
    }

    #[test]
    fn head_and_options_are_scanners() {
        for method in ["HEAD", "OPTIONS", "head"] {
            let v = classify(&request(Kind::Click { position: 2 }, method, CHROME, None));
            assert_eq!(v.class, Class::Scanner);
            assert!(
                v.reason.starts_with(&method.to_ascii_uppercase()),
                "{}",
                v.reason
            );
        }
    }

    #[test]
    fn prefetch_and_mailgun_flag_are_not_people() {
        let mut prefetch = click(CHROME);
        prefetch.prefetch = true;
        assert_eq!(classify(&prefetch).class, Class::PreviewBot);

        let mut flagged = open(CHROME);
        flagged.source = Source::Mailgun { flagged_bot: true };
        let v = classify(&flagged);
        assert_eq!(
            (v.class, v.reason.as_str()),
            (Class::OtherBot, "Mailgun flagged as bot")
        );

        let mut clean = open(CHROME);
        clean.source = Source::Mailgun { flagged_bot: false };
        assert_eq!(classify(&clean).class, Class::Human);
    }

    #[test]
    fn honeypot_is_a_bot_named_by_its_user_agent_where_known() {
        let v = classify(&request(Kind::Honeypot, "GET", CHROME, None));
        assert_eq!(v.class, Class::Scanner);
        assert!(v.reason.contains("honeypot"));
        let v = classify(&request(
            Kind::Honeypot,
            "GET",
            "python-requests/2.31",
            None,
        ));
        assert_eq!(v.class, Class::OtherBot);
    }

    #[test]
    fn empty_and_named_user_agents() {
        let v = classify(&open("   "));
        assert_eq!(
            (v.class, v.reason.as_str()),
            (Class::OtherBot, "no user agent")
        );
        let gmail = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com \
                     GoogleImageProxy)";
        let v = classify(&open(gmail));
        assert_eq!(
            (v.class, v.agent.as_deref()),
            (Class::ImageProxy, Some("Gmail"))
        );
        let outlook = "Microsoft Office/16.0 (Microsoft Outlook 16.0.17328; Pro)";
        let v = classify(&open(outlook));
        assert_eq!(
            (v.class, v.agent.as_deref()),
            (Class::Human, Some("Microsoft Outlook"))
        );
    }

    #[test]
    fn very_long_user_agents_are_cut_at_a_char_boundary() {
        let long = format!(
            "{}é{}",
            "a".repeat(MAX_USER_AGENT_BYTES - 1),
            "b".repeat(5000)
        );
        assert_eq!(normalized_user_agent(&long).len(), MAX_USER_AGENT_BYTES - 1);
    }
}
