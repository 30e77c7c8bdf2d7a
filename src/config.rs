//! Configuration, from the environment and command-line flags.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use ipnet::IpNet;

/// Settings shared by every command that opens the data directory.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// `postgres://...` for PostgreSQL; unset for SQLite in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Where the SQLite database, the secret and the outbox live.
    #[arg(long, env = "MAILTALLY_DATA_DIR", default_value = "./mailtally-data")]
    pub data_dir: PathBuf,

    /// The address the HTTP server listens on.
    #[arg(long, env = "MAILTALLY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The public URL of this server, used in tracked links; defaults to the listen address.
    #[arg(long, env = "PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,

    /// Instrument outgoing email for opens and clicks (off unless set to true).
    #[arg(long, env = "EMAIL_TRACKING_ENABLED", default_value_t = false,
        value_parser = parse_flag, action = clap::ArgAction::Set, num_args = 0..=1,
        default_missing_value = "true")]
    pub tracking_enabled: bool,

    /// Days to keep raw tracking events; counters are kept for good.
    #[arg(long, env = "EMAIL_TRACKING_RETENTION_DAYS", default_value_t = 90)]
    pub retention_days: u32,

    /// Hours to keep full client addresses before cutting them to their network (IPv4 /24,
    /// IPv6 /48); 0 stores only the network from the start.
    #[arg(long, env = "MAILTALLY_FULL_IP_HOURS", default_value_t = 0)]
    pub full_ip_hours: u32,

    /// Secret that signs tracking tokens; generated and kept in the data directory if unset.
    #[arg(long, env = "MAILTALLY_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// Proxies whose `X-Forwarded-For`/`Forwarded` headers are believed, comma-separated
    /// addresses or CIDR ranges.
    #[arg(long, env = "MAILTALLY_TRUSTED_PROXIES", value_delimiter = ',',
        value_parser = parse_net)]
    pub trusted_proxies: Vec<IpNet>,

    /// The sender address of outgoing mail.
    #[arg(
        long,
        env = "MAILTALLY_FROM",
        default_value = "mailtally <no-reply@localhost>"
    )]
    pub from: String,

    /// A mailbox for `List-Unsubscribe` mailto requests, if there is one.
    #[arg(long, env = "MAILTALLY_UNSUBSCRIBE_MAILTO")]
    pub unsubscribe_mailto: Option<String>,

    /// The campaign scheduler of `serve`.
    #[command(flatten)]
    pub scheduler: SchedulerConfig,

    /// Mailgun: the platform's sending account and webhook signing key.
    #[command(flatten)]
    pub mailgun: crate::mailgun::MailgunConfig,
}

/// The background task that sends due campaign steps; see `crm::scheduler`.
#[derive(Debug, Clone, clap::Args)]
pub struct SchedulerConfig {
    /// Run the campaign scheduler in this process (every node may run one).
    #[arg(long = "scheduler", env = "MAILTALLY_SCHEDULER", default_value_t = true,
        value_parser = parse_flag, action = clap::ArgAction::Set)]
    pub enabled: bool,

    /// How often the scheduler looks for due campaign steps, in milliseconds.
    #[arg(
        long = "scheduler-interval-ms",
        env = "MAILTALLY_SCHEDULER_INTERVAL_MS",
        default_value_t = 1000
    )]
    pub interval_ms: u64,

    /// How long a node keeps claimed steps before another node may take them over, in
    /// milliseconds; longer than sending one batch of 100 emails takes.
    #[arg(
        long = "scheduler-lease-ms",
        env = "MAILTALLY_SCHEDULER_LEASE_MS",
        default_value_t = 300_000
    )]
    pub lease_ms: u64,
}

impl Default for SchedulerConfig {
    fn default() -> SchedulerConfig {
        SchedulerConfig {
            enabled: true,
            interval_ms: 1000,
            lease_ms: 300_000,
        }
    }
}

fn parse_flag(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        other => Err(format!("expected true or false, got {other:?}")),
    }
}

fn parse_net(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    if let Ok(net) = value.parse::<IpNet>() {
        return Ok(net);
    }
    value
        .parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("{value:?} is neither an address nor a CIDR range"))
}

impl Config {
    /// The base of every URL we put in an email, without a trailing slash.
    pub fn base_url(&self) -> String {
        match &self.public_base_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The secret from the environment, or the one kept in the data directory, made on
    /// first use.
    pub fn load_secret(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(secret) = &self.secret {
            anyhow::ensure!(
                secret.len() >= 16,
                "MAILTALLY_SECRET must be 16 characters or more"
            );
            return Ok(secret.as_bytes().to_vec());
        }
        secret_in(&self.data_dir)
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
}

fn secret_in(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;

    let path = data_dir.join("secret");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let secret = hex::decode(text.trim()).context("the secret file is not hex")?;
        anyhow::ensure!(secret.len() >= 16, "the secret file is too short");
        return Ok(secret);
    }

    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let secret: [u8; 32] = rand::random();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(hex::encode(secret).as_bytes())?;
            file.sync_all()?;
            tracing::info!(path = %path.display(), "generated a new server secret");
            Ok(secret.to_vec())
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => secret_in(data_dir),
        Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
    }
}
