//! The user-agent rules, as data compiled into the binary.
//!
//! Each rule is one line of [`USER_AGENT_RULES`]: a pattern, the class it gives, the agent it
//! names and the source that backs it. Patterns are written in lower case and matched against
//! the user agent trimmed and lower-cased once (case can change in logging stacks, see
//! scanner-notes.md §2). The first matching rule wins, so the table runs from the most
//! specific products to the generic conventions, and ends with rules that only name a real
//! mail client (they never turn a bot into a person: a bot rule earlier in the table has
//! already matched).
//!
//! To add a rule: pick the narrowest pattern that names the product (a token such as
//! `googleimageproxy`, not a whole user agent), put it in the group of its class, and cite
//! where the behaviour is described. Section numbers refer to
//! `shared/corpus/scanner-notes.md`.

use crate::Class;

/// How a rule's text is compared with the lower-cased user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// The whole (trimmed) user agent.
    Exact(&'static str),
    Prefix(&'static str),
    Suffix(&'static str),
    Contains(&'static str),
    /// A word (a run of ASCII letters and digits) that ends with the text, e.g. `bot` finds
    /// `googlebot/2.1` and `petalbot;` but not `bottle`. Words in [`NOT_BOT_WORDS`] are skipped.
    WordEnd(&'static str),
}

impl Pattern {
    /// The pattern's text.
    pub fn text(self) -> &'static str {
        match self {
            Pattern::Exact(s)
            | Pattern::Prefix(s)
            | Pattern::Suffix(s)
            | Pattern::Contains(s)
            | Pattern::WordEnd(s) => s,
        }
    }

    /// Whether the pattern matches `ua`, which must already be trimmed and lower-cased.
    pub fn matches(self, ua: &str) -> bool {
        match self {
            Pattern::Exact(s) => ua == s,
            Pattern::Prefix(s) => ua.starts_with(s),
            Pattern::Suffix(s) => ua.ends_with(s),
            Pattern::Contains(s) => ua.contains(s),
            Pattern::WordEnd(s) => has_word_ending_with(ua, s),
        }
    }
}

/// Real words that end like a bot token: phone brands and apps seen in human user agents.
pub const NOT_BOT_WORDS: &[&str] = &["cubot", "camscanner"];

fn has_word_ending_with(ua: &str, end: &str) -> bool {
    let bytes = ua.as_bytes();
    ua.match_indices(end).any(|(at, _)| {
        let stop = at + end.len();
        let word_ends_here = bytes.get(stop).is_none_or(|b| !b.is_ascii_alphanumeric());
        if !word_ends_here {
            return false;
        }
        let start = bytes[..at]
            .iter()
            .rposition(|b| !b.is_ascii_alphanumeric())
            .map_or(0, |p| p + 1);
        !NOT_BOT_WORDS.contains(&&ua[start..stop])
    })
}

/// One rule of the table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub pattern: Pattern,
    pub class: Class,
    /// Who it is, shown to marketers; empty when the rule only knows the kind of visitor.
    pub agent: &'static str,
    /// Where the rule comes from.
    pub source: &'static str,
}

const fn rule(pattern: Pattern, class: Class, agent: &'static str, source: &'static str) -> Rule {
    Rule {
        pattern,
        class,
        agent,
        source,
    }
}

// Sources, shared by several rules.
const MPP: &str = "scanner-notes.md §1; ua-parser/uap-core#509; jdavidbakr/mail-tracker#255";
const GMAIL: &str = "scanner-notes.md §2; browscap/browscap#1108; gshutler/useragent#33";
const YAHOO: &str = "scanner-notes.md §3 (device-detector, isbot, crawler-user-agents fixtures)";
const YAHOO_PREVIEW: &str = "scanner-notes.md §3 (Yahoo help page SLN23615)";
const OFFICE: &str = "scanner-notes.md §4: Office checking that a link exists";
const OUTLOOK: &str = "scanner-notes.md §4; uap-core#132; gophish#1920; browscap#1634";
const BING_PREVIEW: &str = "scanner-notes.md §4; phpList/phplist3#415";
const SEG: &str = "scanner-notes.md §5 (vendor product that names itself)";
const EDGE12: &str = "scanner-notes.md §5; jdavidbakr/mail-tracker#255 (AV/spam filter UA)";
const GOOGLE_SAFETY: &str = "scanner-notes.md §2 (device-detector and isbot fixtures)";
const APPLE_MAIL: &str = "scanner-notes.md §1; medama-io/go-useragent#10; jenssegers/agent#144";
const NAMED: &str = "the product names itself and links its bot page (public bot lists)";
const LIBRARY: &str = "default user agent of an HTTP library or command-line tool";
const HEADLESS: &str = "automation browsers name themselves (Chrome headless, PhantomJS docs)";
const CONVENTION: &str = "crawler convention: self-named ...bot, crawler or spider";
const ADDRESS: &str = "bots put an info address in their user agent; browsers never do";
const GOOGLE_SERVICE: &str = "Google's fetchers name themselves Google-… or …-Google";
const CLIENT: &str = "the mail client names itself (uap-core, device-detector fixtures)";

use Class::{AppleMpp, Human, ImageProxy, OtherBot, PreviewBot, Scanner};
use Pattern::{Contains, Exact, Prefix, Suffix, WordEnd};

/// The rules, first match wins. Kept one rule per line (rustfmt would spread each over five)
/// so the table reads as a table.
#[rustfmt::skip]
pub static USER_AGENT_RULES: &[Rule] = &[
    // Nothing to go on.
    rule(Exact(""), OtherBot, "", "no user agent: every browser and mail client sends one"),
    // Apple Mail Privacy Protection: the whole user agent is `Mozilla/5.0`.
    rule(Exact("mozilla/5.0"), AppleMpp, "Apple Mail Privacy Protection", MPP),
    // Image proxies that fetch for a reader.
    rule(Contains("googleimageproxy"), ImageProxy, "Gmail", GMAIL),
    rule(Contains("via ggpht.com"), ImageProxy, "Gmail", GMAIL),
    rule(Contains("yahoomailproxy"), ImageProxy, "Yahoo Mail", YAHOO),
    rule(Contains("yahoocachesystem"), ImageProxy, "Yahoo Mail", YAHOO),
    // Link previews (chat apps, social networks, mail providers).
    rule(Contains("yahoo link preview"), PreviewBot, "Yahoo Mail link preview", YAHOO_PREVIEW),
    rule(Contains("bingpreview"), PreviewBot, "Bing preview (Outlook.com)", BING_PREVIEW),
    rule(Contains("microsoftpreview"), PreviewBot, "Microsoft preview (Teams, Outlook)", NAMED),
    rule(Contains("skypeuripreview"), PreviewBot, "Skype / Teams link preview", NAMED),
    rule(Contains("slackbot"), PreviewBot, "Slack", NAMED),
    rule(Contains("slack-imgproxy"), PreviewBot, "Slack", NAMED),
    rule(Contains("facebookexternalhit"), PreviewBot, "Facebook / iMessage preview", NAMED),
    rule(Contains("facebot"), PreviewBot, "Facebook", NAMED),
    rule(Contains("twitterbot"), PreviewBot, "X (Twitter)", NAMED),
    rule(Contains("discordbot"), PreviewBot, "Discord", NAMED),
    rule(Contains("telegrambot"), PreviewBot, "Telegram", NAMED),
    rule(Prefix("whatsapp/"), PreviewBot, "WhatsApp", NAMED),
    rule(Contains("linkedinbot"), PreviewBot, "LinkedIn", NAMED),
    rule(Contains("pinterestbot"), PreviewBot, "Pinterest", NAMED),
    rule(Contains("viberurldownloader"), PreviewBot, "Viber", NAMED),
    rule(Contains("mastodon/"), PreviewBot, "Mastodon", NAMED),
    rule(Contains("bitlybot"), PreviewBot, "Bitly", NAMED),
    rule(Contains("xing-contenttabreceiver"), PreviewBot, "XING", NAMED),
    rule(Contains("redditbot"), PreviewBot, "Reddit", NAMED),
    rule(Contains("iframely"), PreviewBot, "Iframely", NAMED),
    rule(Contains("embedly"), PreviewBot, "Embedly", NAMED),
    rule(Contains("google-inspectiontool"), PreviewBot, "Google Search Console", NAMED),
    // Security scanners, mail gateways and URL reputation services.
    rule(Contains("google-safety"), Scanner, "Google link safety check", GOOGLE_SAFETY),
    rule(Contains("barracuda"), Scanner, "Barracuda", SEG),
    rule(Contains("proofpoint"), Scanner, "Proofpoint", SEG),
    rule(Contains("mimecast"), Scanner, "Mimecast", SEG),
    rule(Contains("spamexperts"), Scanner, "SpamExperts", SEG),
    rule(Contains("kaspersky lab"), Scanner, "Kaspersky", NAMED),
    rule(Contains("link resolver"), Scanner, "link resolver (security)", NAMED),
    rule(Contains("safeweb"), Scanner, "Norton Safe Web", NAMED),
    rule(Contains("norton safe web"), Scanner, "Norton Safe Web", NAMED),
    rule(Contains("virustotal"), Scanner, "VirusTotal", NAMED),
    rule(Contains("cloudflareradar"), Scanner, "Cloudflare Radar URL Scanner", NAMED),
    rule(Contains("urlscan"), Scanner, "URL scanner", NAMED),
    rule(Contains("paloaltonetworks"), Scanner, "Palo Alto Networks", NAMED),
    rule(Contains("palo alto networks"), Scanner, "Palo Alto Networks", NAMED),
    rule(Contains("netcraft"), Scanner, "Netcraft", NAMED),
    rule(Contains("nessus"), Scanner, "Tenable Nessus", NAMED),
    rule(Contains("qualys"), Scanner, "Qualys", NAMED),
    rule(Contains("censys"), Scanner, "Censys", NAMED),
    rule(Contains("sucuri"), Scanner, "Sucuri", NAMED),
    rule(Contains("sitelock"), Scanner, "SiteLock", NAMED),
    rule(Contains("bluecoat"), Scanner, "Blue Coat (Symantec)", NAMED),
    rule(Contains("blue coat"), Scanner, "Blue Coat (Symantec)", NAMED),
    rule(Contains("trendmicro"), Scanner, "Trend Micro", NAMED),
    rule(Contains("trend micro"), Scanner, "Trend Micro", NAMED),
    rule(Contains("sophos"), Scanner, "Sophos", NAMED),
    rule(Contains("fortiguard"), Scanner, "Fortinet FortiGuard", NAMED),
    rule(Contains("forcepoint"), Scanner, "Forcepoint", NAMED),
    rule(Contains("zscaler"), Scanner, "Zscaler", NAMED),
    rule(Contains("cert pl"), Scanner, "CERT Polska Artemis", NAMED),
    rule(Contains("nmap scripting engine"), Scanner, "Nmap", NAMED),
    rule(Contains("zgrab"), Scanner, "ZGrab", NAMED),
    rule(Contains("masscan"), Scanner, "masscan", NAMED),
    rule(Contains("nuclei"), Scanner, "Nuclei", NAMED),
    rule(Contains("nikto"), Scanner, "Nikto", NAMED),
    rule(Contains("wpscan"), Scanner, "WPScan", NAMED),
    rule(Contains("sqlmap"), Scanner, "sqlmap", NAMED),
    rule(Suffix(" mozilla/5.0"), Scanner, "anti-virus or spam filter", EDGE12),
    // Other bots and scripts that name themselves.
    rule(Contains("existence discovery"), OtherBot, "Microsoft Office link check", OFFICE),
    rule(Contains("protocol discovery"), OtherBot, "Microsoft Office link check", OFFICE),
    rule(Contains("headlesschrome"), OtherBot, "headless Chrome", HEADLESS),
    rule(Contains("phantomjs"), OtherBot, "PhantomJS", HEADLESS),
    rule(Contains("prerender"), OtherBot, "Prerender", HEADLESS),
    rule(Contains("puppeteer"), OtherBot, "Puppeteer", HEADLESS),
    rule(Contains("playwright"), OtherBot, "Playwright", HEADLESS),
    rule(Contains("selenium"), OtherBot, "Selenium", HEADLESS),
    rule(Contains("ptst/"), OtherBot, "WebPageTest", NAMED),
    rule(Contains("lighthouse"), OtherBot, "Lighthouse", NAMED),
    rule(Contains("gtmetrix"), OtherBot, "GTmetrix", NAMED),
    rule(Contains("pingdom"), OtherBot, "Pingdom", NAMED),
    rule(Contains("statuscake"), OtherBot, "StatusCake", NAMED),
    rule(Contains("site24x7"), OtherBot, "Site24x7", NAMED),
    rule(Contains("facebookcatalog"), OtherBot, "Facebook catalog crawler", NAMED),
    rule(Prefix("google-"), OtherBot, "Google service", GOOGLE_SERVICE),
    rule(Contains("-google"), OtherBot, "Google service", GOOGLE_SERVICE),
    rule(Prefix("curl/"), OtherBot, "curl", LIBRARY),
    rule(Prefix("wget/"), OtherBot, "Wget", LIBRARY),
    rule(Prefix("python-"), OtherBot, "Python script", LIBRARY),
    rule(Prefix("python/"), OtherBot, "Python script", LIBRARY),
    rule(Contains("aiohttp/"), OtherBot, "Python script", LIBRARY),
    rule(Prefix("httpx/"), OtherBot, "Python script", LIBRARY),
    rule(Prefix("scrapy/"), OtherBot, "Scrapy", LIBRARY),
    rule(Prefix("go-http-client/"), OtherBot, "Go program", LIBRARY),
    rule(Prefix("okhttp/"), OtherBot, "OkHttp (Java/Android program)", LIBRARY),
    rule(Prefix("apache-httpclient/"), OtherBot, "Java program", LIBRARY),
    rule(Prefix("java/"), OtherBot, "Java program", LIBRARY),
    rule(Contains("node-fetch"), OtherBot, "Node.js program", LIBRARY),
    rule(Prefix("axios/"), OtherBot, "Node.js program", LIBRARY),
    rule(Prefix("got "), OtherBot, "Node.js program", LIBRARY),
    rule(Prefix("undici"), OtherBot, "Node.js program", LIBRARY),
    rule(Prefix("libwww-perl/"), OtherBot, "Perl script", LIBRARY),
    rule(Prefix("guzzlehttp/"), OtherBot, "PHP program", LIBRARY),
    rule(Prefix("ruby"), OtherBot, "Ruby program", LIBRARY),
    rule(Prefix("faraday"), OtherBot, "Ruby program", LIBRARY),
    rule(Prefix("reqwest/"), OtherBot, "Rust program", LIBRARY),
    rule(Prefix("postmanruntime/"), OtherBot, "Postman", LIBRARY),
    rule(Prefix("powershell"), OtherBot, "PowerShell", LIBRARY),
    // Generic conventions, last resort.
    rule(WordEnd("scanner"), Scanner, "", "scanners name themselves ...scanner"),
    rule(Contains("antivirus"), Scanner, "anti-virus", "anti-virus products name themselves"),
    rule(Contains("anti-virus"), Scanner, "anti-virus", "anti-virus products name themselves"),
    rule(Contains("malware"), Scanner, "malware check", "malware checks name themselves"),
    rule(Contains("preview"), PreviewBot, "", "link previewers name themselves ...preview"),
    rule(WordEnd("bot"), OtherBot, "", CONVENTION),
    rule(Contains("crawl"), OtherBot, "", CONVENTION),
    rule(Contains("spider"), OtherBot, "", CONVENTION),
    rule(Contains("scraper"), OtherBot, "", CONVENTION),
    rule(Contains("http://"), OtherBot, "", ADDRESS),
    rule(Contains("https://"), OtherBot, "", ADDRESS),
    rule(Contains(".com/"), OtherBot, "", ADDRESS),
    rule(Contains(".org/"), OtherBot, "", ADDRESS),
    rule(Contains(".net/"), OtherBot, "", ADDRESS),
    rule(Contains(".html"), OtherBot, "", ADDRESS),
    // Real mail clients, named for the event timeline (people, never bots).
    rule(Contains("microsoft outlook"), Human, "Microsoft Outlook", OUTLOOK),
    rule(Contains("microsoft office outlook"), Human, "Microsoft Outlook", OUTLOOK),
    rule(Contains("msoffice"), Human, "Microsoft Outlook", OUTLOOK),
    rule(Prefix("macoutlook/"), Human, "Outlook for Mac", CLIENT),
    rule(Prefix("outlook-ios/"), Human, "Outlook for iOS", CLIENT),
    rule(Prefix("outlook-android/"), Human, "Outlook for Android", CLIENT),
    rule(Prefix("outlook-express/"), Human, "Outlook Express", CLIENT),
    rule(Contains("thunderbird/"), Human, "Thunderbird", CLIENT),
    rule(Prefix("android-gmail/"), Human, "Gmail app", CLIENT),
    rule(Prefix("yahoomobilemail/"), Human, "Yahoo Mail app", CLIENT),
    rule(Prefix("yahoo%20mail/"), Human, "Yahoo Mail app", CLIENT),
    rule(Contains("ymail/"), Human, "Yahoo Mail app", CLIENT),
    rule(Contains("postbox"), Human, "Postbox", CLIENT),
    rule(Prefix("airmail "), Human, "Airmail", CLIENT),
    rule(Contains("em client/"), Human, "eM Client", CLIENT),
    rule(Contains("mailbird/"), Human, "Mailbird", CLIENT),
    rule(Contains("mailspring/"), Human, "Mailspring", CLIENT),
    rule(Contains("foxmail/"), Human, "Foxmail", CLIENT),
    rule(Prefix("polymail/"), Human, "Polymail", CLIENT),
    rule(Prefix("the bat!"), Human, "The Bat!", CLIENT),
    rule(Contains("lotus-notes/"), Human, "Lotus Notes", CLIENT),
    rule(Contains("evolution/"), Human, "Evolution", CLIENT),
    rule(Contains("apple mail"), Human, "Apple Mail", APPLE_MAIL),
];

/// The first rule that matches `ua` (trimmed and lower-cased), if any.
pub fn find(ua: &str) -> Option<&'static Rule> {
    USER_AGENT_RULES
        .iter()
        .find(|rule| rule.pattern.matches(ua))
}

/// Apple Mail loading images itself (MPP off): a WebKit user agent without the `Version/…`
/// and `Safari/…` tokens that Safari and in-app browsers add. The same shape comes from
/// other apps' web views and, reportedly, from Outlook (warmbly/warmbly#569), so it never
/// decides a class on its own. See scanner-notes.md §1.
pub fn is_apple_mail_shape(ua: &str) -> bool {
    let apple_platform = ua.contains("macintosh") || ua.contains("iphone") || ua.contains("ipad");
    apple_platform
        && ua.contains("applewebkit/")
        && !ua.contains("safari/")
        && !ua.contains("version/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_lower_case_trimmed_and_cited() {
        for rule in USER_AGENT_RULES {
            let text = rule.pattern.text();
            assert_eq!(text, text.to_ascii_lowercase(), "{text}");
            assert!(!rule.source.is_empty(), "{text} has no source");
            let trimmed_needed = matches!(rule.pattern, Pattern::Exact(_) | Pattern::Prefix(_));
            if trimmed_needed {
                assert_eq!(text, text.trim_start(), "{text}");
            }
        }
    }

    #[test]
    fn no_pattern_is_listed_twice() {
        for (i, a) in USER_AGENT_RULES.iter().enumerate() {
            for b in &USER_AGENT_RULES[i + 1..] {
                assert_ne!(a.pattern, b.pattern);
            }
        }
    }

    #[test]
    fn word_end_skips_longer_words_and_known_brands() {
        assert!(WordEnd("bot").matches("mozilla/5.0 (compatible; googlebot/2.1)"));
        assert!(WordEnd("bot").matches("http.rb/4.4.1 bot"));
        assert!(!WordEnd("bot").matches("bottle/1.0"));
        assert!(!WordEnd("bot").matches("mozilla/5.0 (linux; android 9; cubot_x19)"));
        assert!(!WordEnd("scanner").matches("camscanner/6.0"));
    }

    #[test]
    fn apple_mail_shape_needs_webkit_without_safari() {
        let mail = "mozilla/5.0 (macintosh; intel mac os x 10_15_7) applewebkit/605.1.15 \
                    (khtml, like gecko)";
        let safari = "mozilla/5.0 (macintosh; intel mac os x 10_15_7) applewebkit/605.1.15 \
                      (khtml, like gecko) version/17.0 safari/605.1.15";
        assert!(is_apple_mail_shape(mail));
        assert!(!is_apple_mail_shape(safari));
    }
}
