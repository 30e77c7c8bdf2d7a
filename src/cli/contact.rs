//! `mailtally contact import FILE --org ORG --as EMAIL`: imports a contact CSV as a user,
//! all rows or none, and lists every bad row by line.
//!
//! `mailtally contact export --org ORG --email EMAIL` prints everything stored about one
//! contact as JSON; `mailtally contact erase --org ORG --email EMAIL` erases its personal
//! data and raw events, keeping its anonymous counters (see docs/privacy.md).

use std::path::PathBuf;

use anyhow::Context;

use crate::config::Config;
use crate::crm::csv_import;
use crate::privacy;
use crate::store::{ContactFilter, ImportOutcome, OwnerScope, Store, User};
use crate::transport::Outbox;

#[derive(Debug, clap::Subcommand)]
pub enum ContactCommand {
    /// Import contacts from a CSV file with a header row (`email`, `name`, `tags`, and any
    /// other column as a custom field).
    Import {
        file: PathBuf,
        #[command(flatten)]
        actor: Actor,
        #[command(flatten)]
        config: Config,
    },
    /// Print everything stored about one contact as JSON: the contact, its tags and
    /// fields, its sends with counters, links and raw events, and its enrollments.
    Export {
        #[command(flatten)]
        contact: ContactRef,
        #[command(flatten)]
        config: Config,
    },
    /// Erase one contact's personal data and raw events for good. Its counters stay, so
    /// campaign totals do not change; it is blocked under a stand-in address.
    Erase {
        #[command(flatten)]
        contact: ContactRef,
        #[command(flatten)]
        config: Config,
    },
}

/// One contact of one organisation, by its email address.
#[derive(Debug, Clone, clap::Args)]
pub struct ContactRef {
    /// The organisation.
    #[arg(long)]
    pub org: String,
    /// The contact's email address.
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
}

impl ContactRef {
    async fn resolve(&self, store: &Store) -> anyhow::Result<i64> {
        let org_id = store
            .org_by_name(self.org.trim())
            .await
            .with_context(|| format!("no organisation {:?}", self.org))?;
        let filter = ContactFilter {
            email: Some(self.email.clone()),
            limit: 1,
            ..ContactFilter::default()
        };
        let scope = OwnerScope {
            org_id,
            owner_id: None,
        };
        let found = store.contacts(scope, &filter).await?;
        let contact = found
            .first()
            .with_context(|| format!("no contact {} in {}", self.email.trim(), self.org))?;
        Ok(contact.id)
    }
}

/// The user a CRM command acts as; it sees and owns what that user would through the API.
#[derive(Debug, Clone, clap::Args)]
pub struct Actor {
    /// The organisation.
    #[arg(long)]
    pub org: String,
    /// The email of the user to act as.
    #[arg(long = "as", value_name = "EMAIL")]
    pub user: String,
}

impl Actor {
    pub async fn resolve(&self, store: &Store) -> anyhow::Result<User> {
        let org_id = store
            .org_by_name(self.org.trim())
            .await
            .with_context(|| format!("no organisation {:?}", self.org))?;
        store
            .user_by_email(org_id, &self.user)
            .await
            .with_context(|| format!("no user {} in {}", self.user, self.org))
    }
}

pub async fn run(command: ContactCommand) -> anyhow::Result<()> {
    match command {
        ContactCommand::Import {
            file,
            actor,
            config,
        } => run_import(file, actor, config).await,
        ContactCommand::Export { contact, config } => {
            let store = Store::open(config.database_url.as_deref(), &config.data_dir).await?;
            let exported = export(&store, &contact).await;
            store.close().await;
            println!("{}", exported?);
            Ok(())
        }
        ContactCommand::Erase { contact, config } => {
            let store = Store::open(config.database_url.as_deref(), &config.data_dir).await?;
            let outbox = Outbox::new(config.outbox_dir());
            let erased = erase(&store, &outbox, &contact).await;
            store.close().await;
            let erased = erased?;
            let report = &erased.store;
            if report.already_erased {
                println!("contact {} was erased before", report.contact_id);
            } else {
                println!(
                    "erased contact {}: {} sends anonymised, {} events and {} provider events \
                     deleted, {} link targets cut to their origin, {} enrollments stopped",
                    report.contact_id,
                    report.sends,
                    report.events_deleted,
                    report.provider_events_deleted,
                    report.links_cut,
                    report.enrollments_stopped
                );
            }
            println!(
                "{} stored message copies deleted; counters and campaign totals are unchanged",
                erased.message_copies_deleted
            );
            Ok(())
        }
    }
}

async fn export(store: &Store, contact: &ContactRef) -> anyhow::Result<String> {
    let contact_id = contact.resolve(store).await?;
    let export = store
        .export_contact(contact_id)
        .await
        .context("reading the contact's data")?;
    Ok(serde_json::to_string_pretty(&export)?)
}

async fn erase(
    store: &Store,
    outbox: &Outbox,
    contact: &ContactRef,
) -> anyhow::Result<privacy::rights::Erasure> {
    let contact_id = contact.resolve(store).await?;
    privacy::rights::erase(store, outbox, contact_id)
        .await
        .context("erasing the contact")
}

async fn run_import(file: PathBuf, actor: Actor, config: Config) -> anyhow::Result<()> {
    let data = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let rows = match csv_import::parse(&data) {
        Ok(rows) => rows,
        Err(errors) => return refuse(&file, &errors),
    };

    let store = Store::open(config.database_url.as_deref(), &config.data_dir).await?;
    let imported = import(&store, &actor, &rows).await;
    store.close().await;
    match imported? {
        ImportOutcome::Imported(report) => {
            println!(
                "imported {}: {} contacts created, {} updated",
                file.display(),
                report.created,
                report.updated
            );
            Ok(())
        }
        ImportOutcome::Refused(errors) => refuse(&file, &errors),
    }
}

async fn import(
    store: &Store,
    actor: &Actor,
    rows: &[crate::store::ImportRow],
) -> anyhow::Result<ImportOutcome> {
    let user = actor.resolve(store).await?;
    let outcome = store
        .import_contacts(OwnerScope::of(&user), user.id, rows)
        .await
        .context("storing the contacts")?;
    Ok(outcome)
}

fn refuse(file: &std::path::Path, errors: &[crate::store::RowError]) -> anyhow::Result<()> {
    for error in errors {
        eprintln!("{}:{}: {}", file.display(), error.line, error.message);
    }
    anyhow::bail!(
        "{} rows of {} are not valid; nothing was imported",
        errors.len(),
        file.display()
    )
}
