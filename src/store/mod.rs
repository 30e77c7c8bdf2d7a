//! Storage: one `Store` over SQLite (the embedded default) or PostgreSQL.
//!
//! Every query is written once with `$N` placeholders, which both drivers accept, and run on
//! the backend's own pool through the `read!`/`write!` macros. Only queries whose dialects
//! really differ are written twice. Migrations live per backend in `migrations/`.
//!
//! SQLite gets two pools: many readers and exactly one writer connection, so writes queue
//! in the process instead of failing with "database is locked".

mod campaigns;
mod contact_import;
mod contacts;
mod crm_templates;
mod enrollments;
mod events;
mod mailgun;
mod retention;
mod rights;
mod sends;
mod series;
mod sessions;
mod stats;
mod tenancy;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use campaigns::{
    Campaign, CampaignCounts, CampaignKind, NewCampaign, NewStep, Step, StepCounts,
};
pub use contact_import::{ImportOutcome, ImportReport, ImportRow, RowError};
pub use contacts::{BlockReason, Contact, ContactFilter, ContactPatch, NewContact, OwnerScope};
pub use crm_templates::{Template, TemplateContent, TemplatePatch};
pub use enrollments::{ClaimedStep, EnrollReport, Enrollment, StepOutcome};
pub use events::{EventRow, NewEvent, RecentEvents, StoredCounters};
pub use mailgun::{DeliveryState, MailgunSend, MailgunSettingsRow};
pub use rights::{
    ContactExport, ErasureReport, ExportedEnrollment, ExportedSend, ExportedSendRow, ExportedStep,
    ProviderEvent, erased_email, erased_url,
};
pub use sends::{ClickedLink, LinkRow, NewSend, SendRow};
pub use series::{DayCount, LastActivity};
pub use sessions::{PasswordRow, SessionRow, ThrottleRule};
pub use stats::{GroupBy, RecipientRow, Scope, StatsRow, Window};
pub use tenancy::{Role, User};

/// What can go wrong in storage, by outcome.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Error::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::Conflict(db.message().to_string())
            }
            _ => Error::Other(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The database behind the service. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Db,
}

#[derive(Clone)]
enum Db {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to a pool that may read.
macro_rules! with_reader {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite { read: $pool, .. } => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool that writes.
macro_rules! with_writer {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite { write: $pool, .. } => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}

/// Opens a write transaction: `BEGIN IMMEDIATE` on SQLite, so a transaction that reads
/// before it writes never fails to upgrade its lock.
macro_rules! begin {
    ($pool:expr) => {
        $pool.begin_with(if $crate::store::is_sqlite_pool($pool) {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN"
        })
    };
}

pub(crate) use {begin, with_reader, with_writer};

/// Whether a pool is SQLite's; used by `begin!`, resolved at compile time.
pub(crate) fn is_sqlite_pool<DB: sqlx::Database>(_pool: &sqlx::Pool<DB>) -> bool {
    DB::NAME == "SQLite"
}

impl Store {
    /// Connects to `database_url` when given (`postgres://` or `sqlite:`), else to
    /// `mailtally.db` in `data_dir`, and applies pending migrations.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Store> {
        use anyhow::Context;

        let store = match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Store::open_postgres(url)
                    .await
                    .context("connecting to PostgreSQL")?
            }
            Some(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url).context("parsing sqlite url")?;
                Store::open_sqlite(options)
                    .await
                    .context("opening SQLite")?
            }
            Some(other) => {
                let scheme = other.split(':').next().unwrap_or_default();
                anyhow::bail!("DATABASE_URL scheme {scheme:?} is not supported");
            }
            None => {
                std::fs::create_dir_all(data_dir)
                    .with_context(|| format!("creating {}", data_dir.display()))?;
                let options = SqliteConnectOptions::new().filename(data_dir.join("mailtally.db"));
                Store::open_sqlite(options)
                    .await
                    .context("opening SQLite")?
            }
        };
        store.migrate().await.context("applying migrations")?;
        Ok(store)
    }

    async fn open_sqlite(options: SqliteConnectOptions) -> sqlx::Result<Store> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Store {
            db: Db::Sqlite { read, write },
        })
    }

    async fn open_postgres(url: &str) -> sqlx::Result<Store> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Store {
            db: Db::Postgres(pool),
        })
    }

    async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match &self.db {
            Db::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
        }
    }

    /// Whether this store runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// Closes every connection, flushing SQLite's WAL.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// The current time in unix milliseconds.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map(|d| d.as_millis() as i64).unwrap_or_default()
}
