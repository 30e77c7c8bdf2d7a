//! The demo's crowd: people on desktop, phone and webmail, Apple's MPP proxy, Gmail's and
//! Yahoo's image proxies, security scanners and link previewers, each fetching pixels and
//! links the way the notes in the corpus describe. The crowd keeps its own ground truth,
//! so the report can show that the stats count exactly the people who were there.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinSet;

use crate::track::{TokenKey, Tracked};

const APPLE_MPP: &str = "Mozilla/5.0";
const GMAIL_PROXY: &str =
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
const YAHOO_PROXY: &str =
    "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html";
const OUTLOOK: &str = "Microsoft Office/16.0 (Microsoft Outlook 16.0.8241; Pro)";
const OUTLOOK_IOS: &str = "Outlook-iOS/711.3061168.prod.iphone";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
const IPHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const ANDROID_CHROME: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
/// A scanner that names itself.
const NAMED_SCANNER: &str =
    "Mozilla/5.0 (compatible; YandexAntivirus/2.0; +http://yandex.com/bots)";
const SLACK: &str = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";

/// How long the people wait after delivery. Real readers come minutes or hours later;
/// the demo waits just past the window in which a click is too soon to be a person's.
const READERS_AFTER: Duration = Duration::from_secs(11);

/// One fetch of a tracked URL.
#[derive(Debug, Clone)]
struct Visit {
    url: String,
    method: &'static str,
    user_agent: &'static str,
    ip: String,
}

/// What the crowd did to one campaign row; the report sets it beside the measured one.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    pub sends: i64,
    pub opened: i64,
    pub clicked: i64,
    pub mpp_opens: i64,
    pub filtered: i64,
}

pub struct Crowd {
    http: reqwest::Client,
    base: String,
    tokens: TokenKey,
    rng: StdRng,
    /// Visits at delivery (proxies, scanners, previews) and later (people), per send.
    at_delivery: Vec<Vec<Visit>>,
    later: Vec<Vec<Visit>>,
    expected: BTreeMap<String, Expected>,
}

impl Crowd {
    pub fn new(http: reqwest::Client, base: String, tokens: TokenKey) -> Crowd {
        Crowd {
            http,
            base,
            tokens,
            rng: StdRng::seed_from_u64(2026),
            at_delivery: Vec::new(),
            later: Vec::new(),
            expected: BTreeMap::new(),
        }
    }

    /// The address of the demo's `n`th recipient; its domain decides who reads it.
    pub fn recipient_address(n: usize) -> String {
        let domain = match n % 10 {
            0..=2 => "icloud.example",
            3..=5 => "gmail.example",
            6 | 7 => "acme-corp.example",
            8 => "yahoo.example",
            _ => "hotmail.example",
        };
        format!("reader{n}@{domain}")
    }

    /// Decides who will come for one send, and notes what that should count.
    pub fn plan(&mut self, row: &str, send_id: i64, to: &str, links: u32) {
        let mut delivery = Vec::new();
        let mut later = Vec::new();
        let person_ip = format!(
            "198.51.{}.{}",
            self.rng.random_range(0..=255),
            self.rng.random_range(1..=254)
        );
        let open = self.url("track/open", Tracked::Open { send_id });
        let link = |this: &mut Crowd| {
            let position = this.rng.random_range(0..links.max(1));
            this.url("track/click", Tracked::Click { send_id, position })
        };
        let visit = |url: &str, user_agent: &'static str, ip: &str| Visit {
            url: url.to_string(),
            method: "GET",
            user_agent,
            ip: ip.to_string(),
        };
        let mut opened = false;
        let mut clicked = false;
        let mut mpp = 0;
        let mut filtered = 0;
        let domain = to.rsplit('@').next().unwrap_or_default();

        match domain {
            "icloud.example" => {
                // Apple Mail with MPP: the proxy loads the pixel at delivery, read or not.
                delivery.push(visit(&open, APPLE_MPP, &self.relay_ip()));
                mpp += 1;
                if links > 0 && self.rng.random_bool(0.3) {
                    later.push(visit(&link(self), IPHONE_SAFARI, &person_ip));
                    (opened, clicked) = (true, true);
                }
            }
            "gmail.example" => {
                if self.rng.random_bool(0.7) {
                    // Gmail's proxy fetches once per view; some readers look twice.
                    for _ in 0..self.rng.random_range(1..=3) {
                        later.push(visit(&open, GMAIL_PROXY, "66.249.84.17"));
                    }
                    opened = true;
                    if links > 0 && self.rng.random_bool(0.35) {
                        later.push(visit(&link(self), CHROME, &person_ip));
                        clicked = true;
                    }
                }
            }
            "acme-corp.example" => {
                if links > 0 && self.rng.random_bool(0.5) {
                    // The company's mail gateway opens and clicks everything on arrival,
                    // the hidden honeypot link included.
                    let user_agent = if self.rng.random_bool(0.5) {
                        NAMED_SCANNER
                    } else {
                        CHROME
                    };
                    let ip = format!(
                        "40.94.{}.{}",
                        self.rng.random_range(0..=255),
                        self.rng.random_range(1..=254)
                    );
                    delivery.push(visit(&open, user_agent, &ip));
                    for position in 0..links {
                        let url = self.url("track/click", Tracked::Click { send_id, position });
                        delivery.push(visit(&url, user_agent, &ip));
                    }
                    let honeypot = self.url("track/click", Tracked::Honeypot { send_id });
                    delivery.push(visit(&honeypot, user_agent, &ip));
                    filtered += 2 + i64::from(links);
                }
                if self.rng.random_bool(0.55) {
                    later.push(visit(&open, OUTLOOK, &person_ip));
                    opened = true;
                    if links > 0 && self.rng.random_bool(0.4) {
                        later.push(visit(&link(self), EDGE, &person_ip));
                        clicked = true;
                    }
                }
            }
            _ => {
                let reader = if domain == "yahoo.example" {
                    YAHOO_PROXY
                } else {
                    OUTLOOK_IOS
                };
                let reader_ip = if domain == "yahoo.example" {
                    "74.6.231.20"
                } else {
                    &person_ip
                };
                if self.rng.random_bool(0.5) {
                    later.push(visit(&open, reader, reader_ip));
                    opened = true;
                    if links > 0 && self.rng.random_bool(0.5) {
                        later.push(visit(&link(self), ANDROID_CHROME, &person_ip));
                        clicked = true;
                    }
                }
            }
        }
        if links > 0 && self.rng.random_bool(0.08) {
            // Someone pasted a link into Slack, which unfurls it.
            delivery.push(visit(&link(self), SLACK, "3.120.10.5"));
            filtered += 1;
        }
        if self.rng.random_bool(0.05) {
            // A scanner that only sends HEAD requests to check the pixel.
            delivery.push(Visit {
                method: "HEAD",
                ..visit(&open, CHROME, "52.23.10.9")
            });
            filtered += 1;
        }

        let expected = self.expected.entry(row.to_string()).or_default();
        expected.sends += 1;
        expected.opened += i64::from(opened);
        expected.clicked += i64::from(clicked);
        expected.mpp_opens += mpp;
        expected.filtered += filtered;
        self.at_delivery.push(delivery);
        self.later.push(later);
    }

    pub fn planned_visits(&self) -> usize {
        self.at_delivery
            .iter()
            .chain(&self.later)
            .map(Vec::len)
            .sum()
    }

    pub fn expected(&self) -> &BTreeMap<String, Expected> {
        &self.expected
    }

    /// Plays the delivery-time visits, waits, then plays the people.
    pub async fn play(&mut self) -> anyhow::Result<()> {
        let at_delivery = std::mem::take(&mut self.at_delivery);
        self.play_batch(at_delivery).await?;
        println!(
            "  delivery-time traffic done; readers arrive in {} s ...",
            READERS_AFTER.as_secs()
        );
        tokio::time::sleep(READERS_AFTER).await;
        let later = std::mem::take(&mut self.later);
        self.play_batch(later).await
    }

    /// Each send's visits in order; sends side by side.
    async fn play_batch(&self, per_send: Vec<Vec<Visit>>) -> anyhow::Result<()> {
        let mut tasks = JoinSet::new();
        for visits in per_send {
            let http = self.http.clone();
            tasks.spawn(async move {
                for v in visits {
                    let method = reqwest::Method::from_bytes(v.method.as_bytes())?;
                    let res = http
                        .request(method, &v.url)
                        .header("user-agent", v.user_agent)
                        .header("x-forwarded-for", &v.ip)
                        .send()
                        .await?;
                    anyhow::ensure!(
                        res.status().is_success() || res.status().is_redirection(),
                        "{} {} answered {}",
                        v.method,
                        v.url,
                        res.status()
                    );
                }
                Ok::<(), anyhow::Error>(())
            });
            while tasks.len() >= 16 {
                tasks.join_next().await.expect("a task")??;
            }
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        Ok(())
    }

    fn url(&self, path: &str, what: Tracked) -> String {
        format!("{}/{path}/{}", self.base, self.tokens.mint(what))
    }

    /// An address from a range iCloud Private Relay egresses from.
    fn relay_ip(&mut self) -> String {
        format!(
            "172.225.{}.{}",
            self.rng.random_range(0..=255),
            self.rng.random_range(1..=254)
        )
    }
}
