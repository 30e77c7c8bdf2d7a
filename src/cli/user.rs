//! `mailtally user add`: creates an organisation if needed, adds a user, prints its token.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::Config;
use crate::http::token_hash;
use crate::store::{Role, Store};

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user (or give an existing one a new role and token); prints an API token last.
    Add {
        /// The organisation, created on first use.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// owner, admin, partner, sales-rep or member.
        #[arg(long, value_parser = clap::value_parser!(RoleArg))]
        role: RoleArg,
        /// For a sales rep: the email of the partner it works for.
        #[arg(long)]
        partner: Option<String>,
        #[command(flatten)]
        config: Config,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct RoleArg(Role);

impl std::str::FromStr for RoleArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse().map(RoleArg)
    }
}

pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            org,
            email,
            role,
            partner,
            config,
        } => {
            let store = Store::open(config.database_url.as_deref(), &config.data_dir).await?;
            let token = add_user(&store, &org, &email, role.0, partner.as_deref()).await;
            store.close().await;
            let (user_id, token) = token?;
            println!("added {email} ({}) to {org} as user {user_id}", role.0);
            println!("{token}");
            Ok(())
        }
    }
}

/// Adds a user and returns its id and a fresh API token.
pub async fn add_user(
    store: &Store,
    org: &str,
    email: &str,
    role: Role,
    partner: Option<&str>,
) -> anyhow::Result<(i64, String)> {
    let org = org.trim();
    anyhow::ensure!(
        !org.is_empty() && org.len() <= 200,
        "--org must be 1 to 200 characters"
    );
    let email = email.trim();
    anyhow::ensure!(
        email.contains('@') && email.len() <= 254 && !email.contains(char::is_whitespace),
        "--email {email:?} is not an email address"
    );
    anyhow::ensure!(
        partner.is_none() || role == Role::SalesRep,
        "--partner is only for sales reps"
    );

    let org_id = store
        .ensure_org(org)
        .await
        .context("creating the organisation")?;
    let partner_id = match partner {
        Some(partner_email) => {
            let partner = store
                .user_by_email(org_id, partner_email)
                .await
                .with_context(|| format!("no user {partner_email} in {org}"))?;
            anyhow::ensure!(
                partner.role == Role::Partner,
                "{partner_email} is a {}, not a partner",
                partner.role
            );
            Some(partner.id)
        }
        None => None,
    };
    let token = new_token();
    let user = store
        .upsert_user(org_id, email, role, partner_id, &token_hash(&token))
        .await
        .context("saving the user")?;
    Ok((user.id, token))
}

/// A new API token: 256 random bits, base64url, with a recognisable prefix.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("mt_{}", URL_SAFE_NO_PAD.encode(bytes))
}
