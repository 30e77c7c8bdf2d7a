//! The platform's Mailgun settings, from the environment: the default sending account, the
//! default webhook signing key, and the limits of the webhook endpoint.

use std::str::FromStr;

use anyhow::Context;

use super::accounts::{Account, Platform};
use super::secrets::Secret;

/// How old (or how far ahead) a webhook's signed timestamp may be, by default.
pub const DEFAULT_MAX_AGE_SECS: u64 = 15 * 60;

/// A Mailgun region, each with its own API host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Us,
    Eu,
}

impl Region {
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Us => "us",
            Region::Eu => "eu",
        }
    }

    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://api.mailgun.net",
            Region::Eu => "https://api.eu.mailgun.net",
        }
    }
}

impl FromStr for Region {
    type Err = String;

    fn from_str(s: &str) -> Result<Region, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "us" => Ok(Region::Us),
            "eu" => Ok(Region::Eu),
            other => Err(format!(
                "unknown Mailgun region {other:?}: expected us or eu"
            )),
        }
    }
}

/// Checks an API base URL: http or https, a host, no credentials, query or fragment.
/// Returns it without a trailing slash.
pub fn parse_base_url(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value.trim()).map_err(|e| format!("not a URL: {e}"))?;
    let usable = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if !usable {
        return Err("must be an http(s) URL with a host and nothing after the path".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Mailgun settings of the whole platform.
#[derive(Clone, Default, clap::Args)]
pub struct MailgunConfig {
    /// The platform's Mailgun API key; with MAILGUN_DOMAIN, mail goes out through Mailgun.
    #[arg(long, env = "MAILGUN_API_KEY", hide_env_values = true)]
    pub mailgun_api_key: Option<String>,

    /// The platform's sending domain at Mailgun.
    #[arg(long, env = "MAILGUN_DOMAIN")]
    pub mailgun_domain: Option<String>,

    /// `us` (the default) or `eu`.
    #[arg(long, env = "MAILGUN_REGION")]
    pub mailgun_region: Option<Region>,

    /// Any Mailgun API base URL instead of the region's, such as a proxy or a test fake.
    #[arg(long, env = "MAILGUN_BASE_URL")]
    pub mailgun_base_url: Option<String>,

    /// The platform's webhook signing key: verifies events of sends whose organisation and
    /// partner team have no key of their own.
    #[arg(long, env = "MAILGUN_WEBHOOK_SIGNING_KEY", hide_env_values = true)]
    pub mailgun_webhook_signing_key: Option<String>,

    /// The platform's previous signing key, still accepted while a rotation settles.
    #[arg(
        long,
        env = "MAILGUN_WEBHOOK_SIGNING_KEY_PREVIOUS",
        hide_env_values = true
    )]
    pub mailgun_webhook_signing_key_previous: Option<String>,

    /// Webhooks whose signed timestamp is further than this from now are refused (seconds;
    /// default 900).
    #[arg(long, env = "MAILGUN_WEBHOOK_MAX_AGE_SECS")]
    pub mailgun_webhook_max_age_secs: Option<u64>,

    /// Let organisations and partner teams point their account at any API base URL, not only
    /// a region. Off by default: the server would send their API key wherever they say.
    #[arg(long, env = "MAILGUN_TENANT_BASE_URLS", default_value_t = false,
        action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub mailgun_tenant_base_urls: bool,
}

impl std::fmt::Debug for MailgunConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |value: &Option<String>| value.as_ref().map(|_| "(set)");
        f.debug_struct("MailgunConfig")
            .field("api_key", &set(&self.mailgun_api_key))
            .field("domain", &self.mailgun_domain)
            .field("region", &self.mailgun_region)
            .field("base_url", &self.mailgun_base_url)
            .field(
                "webhook_signing_key",
                &set(&self.mailgun_webhook_signing_key),
            )
            .field(
                "webhook_signing_key_previous",
                &set(&self.mailgun_webhook_signing_key_previous),
            )
            .field("webhook_max_age_secs", &self.mailgun_webhook_max_age_secs)
            .field("tenant_base_urls", &self.mailgun_tenant_base_urls)
            .finish()
    }
}

impl MailgunConfig {
    /// The platform account and signing keys these settings describe.
    pub fn platform(&self) -> anyhow::Result<Platform> {
        let non_empty = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let account = match (
            non_empty(&self.mailgun_api_key),
            non_empty(&self.mailgun_domain),
        ) {
            (Some(api_key), Some(domain)) => {
                let base_url = match &self.mailgun_base_url {
                    Some(url) => parse_base_url(url)
                        .map_err(anyhow::Error::msg)
                        .context("MAILGUN_BASE_URL")?,
                    None => self.mailgun_region.unwrap_or(Region::Us).base_url().into(),
                };
                Some(Account {
                    domain,
                    api_key: Secret::new(api_key),
                    base_url,
                })
            }
            (None, None) => None,
            _ => anyhow::bail!("MAILGUN_API_KEY and MAILGUN_DOMAIN must be set together"),
        };
        let signing_keys = [
            &self.mailgun_webhook_signing_key,
            &self.mailgun_webhook_signing_key_previous,
        ]
        .into_iter()
        .filter_map(non_empty)
        .map(Secret::new)
        .collect();
        Ok(Platform {
            account,
            signing_keys,
        })
    }

    /// The freshness window of webhook timestamps, in milliseconds.
    pub fn max_age_ms(&self) -> i64 {
        let secs = self
            .mailgun_webhook_max_age_secs
            .unwrap_or(DEFAULT_MAX_AGE_SECS);
        i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            parse_base_url("https://api.eu.mailgun.net/").unwrap(),
            "https://api.eu.mailgun.net"
        );
        assert_eq!(
            parse_base_url("http://127.0.0.1:9/mg").unwrap(),
            "http://127.0.0.1:9/mg"
        );
        for bad in [
            "ftp://x",
            "https://user:pw@x",
            "https://x/?a=1",
            "nonsense",
            "file:///etc",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn platform_from_settings() {
        let none = MailgunConfig::default().platform().unwrap();
        assert!(none.account.is_none() && none.signing_keys.is_empty());

        let eu = MailgunConfig {
            mailgun_api_key: Some("k".into()),
            mailgun_domain: Some("mg.example.com".into()),
            mailgun_region: Some(Region::Eu),
            mailgun_webhook_signing_key: Some("sk".into()),
            ..Default::default()
        };
        let platform = eu.platform().unwrap();
        let account = platform.account.unwrap();
        assert_eq!(account.base_url, "https://api.eu.mailgun.net");
        assert_eq!(platform.signing_keys.len(), 1);
        assert!(!format!("{eu:?}").contains("\"k\""));

        let half = MailgunConfig {
            mailgun_api_key: Some("k".into()),
            ..Default::default()
        };
        assert!(half.platform().is_err());
    }
}
