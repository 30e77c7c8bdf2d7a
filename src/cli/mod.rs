//! The command line: one subcommand per file.

mod campaign;
mod contact;
mod demo;
mod purge;
mod serve;
mod user;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// Email engagement tracking for CRMs.
#[derive(Debug, Parser)]
#[command(name = "mailtally", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API, the tracking endpoints and the background jobs.
    Serve(Config),
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage CRM contacts.
    #[command(subcommand)]
    Contact(contact::ContactCommand),
    /// Manage broadcast and drip campaigns.
    #[command(subcommand)]
    Campaign(campaign::CampaignCommand),
    /// Run the main job on real emails: send, play recipients against the tracker, report.
    Demo(demo::DemoArgs),
    /// Delete raw tracking events older than the retention period now (counters stay).
    Purge(Config),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(config) => serve::run(config).await,
            Command::User(command) => user::run(command).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Purge(config) => purge::run(config).await,
            Command::Contact(command) => contact::run(command).await,
            Command::Campaign(command) => campaign::run(command).await,
        }
    }
}

impl Cli {
    /// The log filter when `RUST_LOG` is unset: `info` for the server, quieter for
    /// commands whose output is their report.
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Serve(_) => "info,sqlx=warn,tower_http=warn,hyper=warn",
            _ => "warn",
        }
    }
}

/// Logs to stderr with `default_filter` unless `RUST_LOG` says otherwise.
pub fn init_logging(default_filter: &str) {
    use tracing_subscriber::EnvFilter;

    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
pub use user::{add_user, new_token};
