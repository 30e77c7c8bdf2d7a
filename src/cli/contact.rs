//! `mailtally contact import FILE --org ORG --as EMAIL`: imports a contact CSV as a user,
//! all rows or none, and lists every bad row by line.

use std::path::PathBuf;

use anyhow::Context;

use crate::config::Config;
use crate::crm::csv_import;
use crate::store::{ImportOutcome, OwnerScope, Store, User};

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
    let ContactCommand::Import {
        file,
        actor,
        config,
    } = command;
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
