//! `mailtally user add`: creates an organisation if needed, adds a user, prints its token;
//! with `--password` or `--login-link`, also sets up browser sign-in.

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
        /// Set the password for browser sign-in from the MAILTALLY_PASSWORD environment
        /// variable (not from an argument, which the process list and history would show).
        #[arg(long)]
        password: bool,
        /// Print a one-time browser sign-in link, usable for 24 hours.
        #[arg(long)]
        login_link: bool,
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
            password,
            login_link,
            config,
        } => {
            // Read before touching the database, so a missing password changes nothing.
            let password = if password {
                Some(std::env::var("MAILTALLY_PASSWORD").context(
                    "--password reads the password from MAILTALLY_PASSWORD, which is not set",
                )?)
            } else {
                None
            };
            let store = Store::open(config.database_url.as_deref(), &config.data_dir).await?;
            let web = WebAccess {
                password: password.as_deref(),
                login_link_base: login_link.then(|| config.base_url()),
            };
            let added = add_user_with_web(&store, &org, &email, role.0, partner.as_deref(), web);
            let added = added.await;
            store.close().await;
            let (user_id, token, link) = added?;
            println!("added {email} ({}) to {org} as user {user_id}", role.0);
            if password.is_some() {
                println!("password set for browser sign-in");
            }
            if let Some(link) = link {
                println!("sign-in link (once, within 24 hours): {link}");
            }
            println!("{token}");
            Ok(())
        }
    }
}

/// Browser access to set up with a new user.
struct WebAccess<'a> {
    password: Option<&'a str>,
    /// The public base URL to make a one-time sign-in link under.
    login_link_base: Option<String>,
}

/// `add_user`, then a password and a sign-in link if asked for.
async fn add_user_with_web(
    store: &Store,
    org: &str,
    email: &str,
    role: Role,
    partner: Option<&str>,
    web: WebAccess<'_>,
) -> anyhow::Result<(i64, String, Option<String>)> {
    // Hash first: a password too short fails before the user is written.
    let hash = web.password.map(crate::web::hash_password).transpose()?;
    let (user_id, token) = add_user(store, org, email, role, partner).await?;
    if let Some(hash) = hash {
        store
            .set_password_hash(user_id, Some(&hash))
            .await
            .context("saving the password")?;
        store
            .delete_user_sessions(user_id)
            .await
            .context("ending the user's sessions")?;
    }
    let link = match web.login_link_base {
        Some(base) => Some(
            crate::web::create_signin_link(store, user_id, &base)
                .await
                .context("making a sign-in link")?,
        ),
        None => None,
    };
    Ok((user_id, token, link))
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
    anyhow::ensure!(
        partner.is_some() || role != Role::SalesRep,
        "a sales rep works for a partner: name it with --partner EMAIL"
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
