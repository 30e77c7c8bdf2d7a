//! Whose Mailgun account carries a send and whose signing key verifies its events: the
//! partner team's, else the organisation's, else the platform's (issue 6, items 2, 3, 5).
//!
//! A tenant that has a signing key of its own is verified with that key only (and its
//! previous key during a rotation), never with another tenant's or the platform's: tenants
//! are cryptographically apart. Keys leave this module only as `Secret`s, to the code that
//! uses them; what the API shows is `SettingsView`, which holds no key.

use std::sync::Arc;

use serde::Serialize;

use super::config::Region;
use super::secrets::{Binding, Sealer, Secret};
use crate::store::{self, MailgunSettingsRow, Role, Store, User};

/// How long a replaced signing key still verifies, so events signed before the switch at
/// Mailgun (and its retries, which run for hours) are not refused.
pub const ROTATION_GRACE_MS: i64 = 7 * 24 * 60 * 60 * 1000;

const SIGNING_KEY: &str = "signing_key";
const API_KEY: &str = "api_key";

/// An organisation, or a partner team (a partner and the sales reps working for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant {
    Organisation { org_id: i64 },
    Team { org_id: i64, partner_id: i64 },
}

impl Tenant {
    /// The tenant whose Mailgun settings `user` manages: owners and admins their
    /// organisation's, partners their team's, nobody else any.
    pub fn managed_by(user: &User) -> Option<Tenant> {
        match user.role {
            Role::Owner | Role::Admin => Some(Tenant::Organisation {
                org_id: user.org_id,
            }),
            Role::Partner => Some(Tenant::Team {
                org_id: user.org_id,
                partner_id: user.id,
            }),
            Role::SalesRep | Role::Member => None,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Tenant::Organisation { .. } => "org",
            Tenant::Team { .. } => "team",
        }
    }

    fn id(self) -> i64 {
        match self {
            Tenant::Organisation { org_id } => org_id,
            Tenant::Team { partner_id, .. } => partner_id,
        }
    }

    fn org_id(self) -> i64 {
        match self {
            Tenant::Organisation { org_id } | Tenant::Team { org_id, .. } => org_id,
        }
    }

    fn tier(self) -> Tier {
        match self {
            Tenant::Organisation { .. } => Tier::Organisation,
            Tenant::Team { .. } => Tier::PartnerTeam,
        }
    }

    fn binding(self, field: &str) -> Binding<'_> {
        Binding {
            tenant_kind: self.kind(),
            tenant_id: self.id(),
            field,
        }
    }
}

/// The partner team a user sends for: a partner's own, a sales rep's partner's.
pub fn team_of(user: &User) -> Option<i64> {
    match user.role {
        Role::Partner => Some(user.id),
        Role::SalesRep => user.partner_id,
        Role::Owner | Role::Admin | Role::Member => None,
    }
}

/// Whose settings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    PartnerTeam,
    Organisation,
    Platform,
}

/// A Mailgun account that can send.
#[derive(Debug, Clone)]
pub struct Account {
    pub domain: String,
    pub api_key: Secret,
    /// The API base URL, without a trailing slash.
    pub base_url: String,
}

/// The platform's own account and signing keys, from the environment.
#[derive(Debug, Clone, Default)]
pub struct Platform {
    pub account: Option<Account>,
    /// The current key, then a previous one if set.
    pub signing_keys: Vec<Secret>,
}

/// The keys that may verify an event, and whose they are; no keys when nobody has one.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    pub tier: Option<Tier>,
    pub keys: Vec<Secret>,
}

/// What is wrong with stored settings.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    /// A stored key does not open: the server secret changed, or the row was altered.
    #[error("a stored Mailgun key could not be decrypted")]
    Unsealable,
}

/// New settings for a tenant; what is `None` stays as it is.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub signing_key: Option<Secret>,
    pub account: Option<NewAccount>,
}

/// A tenant's own sending account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub domain: String,
    pub api_key: Secret,
    pub region: Region,
    /// Checked by the caller; only where the operator allows tenant base URLs.
    pub base_url: Option<String>,
}

/// What the settings API tells about a tenant: whether things are set and since when,
/// never a key.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    pub tenant: Tier,
    pub signing_key: KeyView,
    pub account: AccountView,
    /// Whose key verifies this tenant's webhooks now; `null` when no key would.
    pub webhooks_verified_with: Option<Tier>,
    /// Whose account sends this tenant's mail now; `null` for the server's fallback.
    pub mail_sent_with: Option<Tier>,
    /// The platform's key verifies this tenant's webhooks, as it has none of its own.
    pub platform_signing_key_used: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    pub set: bool,
    pub since: Option<i64>,
    /// The replaced key verifies too, until this time (unix ms).
    pub previous_accepted_until: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub set: bool,
    pub since: Option<i64>,
    pub domain: Option<String>,
    pub region: Option<String>,
    pub base_url: Option<String>,
}

/// Tenant settings over the store, sealed under the server secret. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    store: Store,
    sealer: Sealer,
    platform: Arc<Platform>,
    tenant_base_urls: bool,
}

impl Accounts {
    pub fn new(store: Store, sealer: Sealer, platform: Platform, tenant_base_urls: bool) -> Self {
        Accounts {
            store,
            sealer,
            platform: Arc::new(platform),
            tenant_base_urls,
        }
    }

    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Whether tenants may set any API base URL rather than a region.
    pub fn tenant_base_urls(&self) -> bool {
        self.tenant_base_urls
    }

    /// The account that sends mail of `org_id`'s sender in partner team `team_id`.
    pub async fn sending_account(
        &self,
        org_id: i64,
        team_id: Option<i64>,
    ) -> Result<Option<(Tier, Account)>, Error> {
        for (tenant, row) in self.rows(org_id, team_id).await? {
            let Some(row) = row else { continue };
            let (Some(domain), Some(sealed)) = (&row.domain, &row.api_key) else {
                continue;
            };
            let api_key = self.open(tenant, API_KEY, sealed)?;
            let base_url = match (&row.base_url, row.region.as_deref()) {
                (Some(url), _) => url.clone(),
                (None, region) => region
                    .and_then(|r| r.parse::<Region>().ok())
                    .unwrap_or(Region::Us)
                    .base_url()
                    .to_string(),
            };
            let account = Account {
                domain: domain.clone(),
                api_key,
                base_url,
            };
            return Ok(Some((tenant.tier(), account)));
        }
        Ok(self
            .platform
            .account
            .clone()
            .map(|account| (Tier::Platform, account)))
    }

    /// The keys that may verify an event of a send of `org_id` in team `team_id`.
    pub async fn signing_keys(
        &self,
        org_id: i64,
        team_id: Option<i64>,
        now: i64,
    ) -> Result<SigningKeys, Error> {
        for (tenant, row) in self.rows(org_id, team_id).await? {
            let Some(row) = row else { continue };
            let Some(current) = &row.signing_key else {
                continue;
            };
            let mut keys = vec![self.open(tenant, SIGNING_KEY, current)?];
            let previous_valid = row.previous_key_until.is_some_and(|until| until > now);
            if let (Some(previous), true) = (&row.previous_signing_key, previous_valid) {
                keys.push(self.open(tenant, SIGNING_KEY, previous)?);
            }
            return Ok(SigningKeys {
                tier: Some(tenant.tier()),
                keys,
            });
        }
        Ok(self.platform_signing_keys())
    }

    /// The platform's keys, for events of no known send or of a tenant without a key.
    pub fn platform_signing_keys(&self) -> SigningKeys {
        let keys = self.platform.signing_keys.clone();
        SigningKeys {
            tier: (!keys.is_empty()).then_some(Tier::Platform),
            keys,
        }
    }

    /// What the settings API shows of `tenant`.
    pub async fn view(&self, tenant: Tenant, now: i64) -> Result<SettingsView, Error> {
        let team_id = match tenant {
            Tenant::Team { partner_id, .. } => Some(partner_id),
            Tenant::Organisation { .. } => None,
        };
        let rows = self.rows(tenant.org_id(), team_id).await?;
        let own = rows
            .iter()
            .find(|(t, _)| *t == tenant)
            .and_then(|(_, row)| row.clone())
            .unwrap_or_default();
        let first_with = |has: fn(&MailgunSettingsRow) -> bool| {
            rows.iter()
                .find(|(_, row)| row.as_ref().is_some_and(has))
                .map(|(t, _)| t.tier())
        };
        let key_tier = first_with(|row| row.signing_key.is_some())
            .or_else(|| (!self.platform.signing_keys.is_empty()).then_some(Tier::Platform));
        let account_tier = first_with(|row| row.api_key.is_some() && row.domain.is_some())
            .or_else(|| self.platform.account.as_ref().map(|_| Tier::Platform));
        let has_account = own.api_key.is_some() && own.domain.is_some();

        Ok(SettingsView {
            tenant: tenant.tier(),
            signing_key: KeyView {
                set: own.signing_key.is_some(),
                since: own.signing_key_set_at,
                previous_accepted_until: own
                    .previous_key_until
                    .filter(|&until| until > now && own.previous_signing_key.is_some()),
            },
            account: AccountView {
                set: has_account,
                since: own.account_set_at.filter(|_| has_account),
                domain: own.domain.clone().filter(|_| has_account),
                region: own.region.clone().filter(|_| has_account),
                base_url: own.base_url.clone().filter(|_| has_account),
            },
            webhooks_verified_with: key_tier,
            mail_sent_with: account_tier,
            platform_signing_key_used: key_tier == Some(Tier::Platform),
        })
    }

    /// Saves new settings for `tenant`. A new signing key replaces the current one, which
    /// keeps verifying for `ROTATION_GRACE_MS`; the same key again changes nothing.
    pub async fn update(&self, tenant: Tenant, update: Update, now: i64) -> Result<(), Error> {
        let stored = self
            .store
            .mailgun_settings(tenant.kind(), tenant.id())
            .await?;
        let mut row = stored.unwrap_or_else(|| MailgunSettingsRow {
            tenant_kind: tenant.kind().to_string(),
            tenant_id: tenant.id(),
            org_id: tenant.org_id(),
            ..Default::default()
        });
        row.updated_at = now;

        if let Some(new_key) = &update.signing_key {
            let current = row
                .signing_key
                .as_deref()
                .and_then(|sealed| self.open(tenant, SIGNING_KEY, sealed).ok());
            if current.as_ref() != Some(new_key) {
                // A current key that no longer opens is useless as a previous key.
                let replaced = current.and(row.signing_key.take());
                row.previous_key_until = replaced.as_ref().map(|_| now + ROTATION_GRACE_MS);
                row.previous_signing_key = replaced;
                row.signing_key = Some(self.sealer.seal(new_key, tenant.binding(SIGNING_KEY)));
                row.signing_key_set_at = Some(now);
            }
        }
        if let Some(account) = update.account {
            row.api_key = Some(self.sealer.seal(&account.api_key, tenant.binding(API_KEY)));
            row.domain = Some(account.domain);
            row.region = Some(account.region.as_str().to_string());
            row.base_url = account.base_url;
            row.account_set_at = Some(now);
        }
        self.store.put_mailgun_settings(&row).await?;
        Ok(())
    }

    /// Forgets every Mailgun setting of `tenant`; whether it had any.
    pub async fn remove(&self, tenant: Tenant) -> Result<bool, Error> {
        Ok(self
            .store
            .delete_mailgun_settings(tenant.kind(), tenant.id())
            .await?)
    }

    /// The team's row (when there is a team), then the organisation's, in the order they
    /// apply.
    async fn rows(
        &self,
        org_id: i64,
        team_id: Option<i64>,
    ) -> Result<Vec<(Tenant, Option<MailgunSettingsRow>)>, Error> {
        let mut tenants = Vec::with_capacity(2);
        if let Some(partner_id) = team_id {
            tenants.push(Tenant::Team { org_id, partner_id });
        }
        tenants.push(Tenant::Organisation { org_id });
        let mut rows = Vec::with_capacity(tenants.len());
        for tenant in tenants {
            let row = self
                .store
                .mailgun_settings(tenant.kind(), tenant.id())
                .await?
                // A team row always belongs to the organisation it was made in.
                .filter(|row| row.org_id == org_id);
            rows.push((tenant, row));
        }
        Ok(rows)
    }

    fn open(&self, tenant: Tenant, field: &str, sealed: &[u8]) -> Result<Secret, Error> {
        self.sealer
            .open(sealed, tenant.binding(field))
            .map_err(|_| {
                tracing::error!(
                    tenant.kind = tenant.kind(),
                    tenant.id = tenant.id(),
                    field,
                    "a stored Mailgun key does not decrypt: was the server secret changed?"
                );
                Error::Unsealable
            })
    }
}
