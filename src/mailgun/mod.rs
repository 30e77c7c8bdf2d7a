//! Mailgun (issue 6): sending through its HTTP API with the right account, and trusting and
//! acting on its webhooks only when the right key signed them.
//!
//! In the order an event meets them: `webhook` reads a JSON or legacy form body;
//! `receive` finds the event's send, takes its tenant's keys from `accounts` (team, else
//! organisation, else platform), checks them with `signature`, refuses stale and replayed
//! webhooks, and hands the event to `effects`. `secrets` seals keys at rest; `config`
//! holds the platform's settings from the environment. The transport itself lives in
//! `crate::transport::mailgun`, the routes in `crate::http::{webhooks, settings}`.

pub mod accounts;
pub mod config;
pub mod effects;
pub mod receive;
pub mod secrets;
pub mod signature;
pub mod webhook;

use std::sync::Arc;

use crate::store::Store;
use crate::transport::{MailgunTransport, Outbox, Transport};

pub use accounts::{Account, Accounts, Platform, Tenant, Tier};
pub use config::{MailgunConfig, Region};
pub use secrets::{Sealer, Secret};

/// The webhook side's settings and tenant keys. Cheap to clone.
#[derive(Clone)]
pub struct Mailgun {
    pub accounts: Accounts,
    /// How far a signed timestamp may be from now, in milliseconds.
    pub max_age_ms: i64,
}

impl Mailgun {
    /// The Mailgun side of a server: the platform settings from `config`, tenant settings
    /// in `store`, sealed under a key derived from the server secret.
    pub fn from_config(
        config: &MailgunConfig,
        store: Store,
        server_secret: &[u8],
    ) -> anyhow::Result<Mailgun> {
        let platform = config.platform()?;
        tracing::info!(
            platform_account = platform.account.is_some(),
            platform_signing_keys = platform.signing_keys.len(),
            "mailgun settings loaded"
        );
        let sealer = Sealer::derive(server_secret);
        let accounts = Accounts::new(store, sealer, platform, config.mailgun_tenant_base_urls);
        Ok(Mailgun {
            accounts,
            max_age_ms: config.max_age_ms(),
        })
    }

    /// The transport of every send: Mailgun through the send's tenant account, else the
    /// platform's; where neither exists, `outbox`.
    pub fn transport(&self, outbox: Outbox) -> Arc<dyn Transport> {
        let has_platform_account = self.accounts.platform().account.is_some();
        let fallback: Option<Arc<dyn Transport>> =
            (!has_platform_account).then(|| Arc::new(outbox) as Arc<dyn Transport>);
        Arc::new(MailgunTransport::new(self.accounts.clone(), fallback))
    }
}
