//! Shared test harness: a real server on a free port, on every backend under test.
//!
//! SQLite always runs, in a fresh temporary data directory. PostgreSQL runs when
//! `MAILTALLY_TEST_DATABASE_URL` is set; each test server gets a schema of its own there,
//! so tests run in parallel without seeing each other's rows.

#![allow(dead_code)]

use std::path::PathBuf;

use mailtally::config::Config;
use mailtally::server::{self, Running};
use mailtally::store::{Role, Store};
use serde_json::{Value, json};

/// A database to run against.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// SQLite, plus PostgreSQL when `MAILTALLY_TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    match std::env::var("MAILTALLY_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => all.push(Backend::Postgres(url)),
        _ => eprintln!("MAILTALLY_TEST_DATABASE_URL is not set: PostgreSQL is not tested here"),
    }
    all
}

/// A `DATABASE_URL` for a fresh, empty schema on the PostgreSQL server at `base`.
pub async fn fresh_postgres_url(base: &str) -> String {
    use sqlx::Executor;

    let schema = format!("t_{}", hex::encode(rand::random::<[u8; 8]>()));
    let pool = sqlx::PgPool::connect(base)
        .await
        .expect("connecting to the test PostgreSQL");
    pool.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .expect("creating a test schema");
    pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// The config of a test server: loopback, port 0, its own data directory.
pub async fn test_config(backend: &Backend, data_dir: PathBuf, tracking: bool) -> Config {
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres(base) => Some(fresh_postgres_url(base).await),
    };
    Config {
        database_url,
        data_dir,
        listen: "127.0.0.1:0".parse().unwrap(),
        public_base_url: None,
        tracking_enabled: tracking,
        retention_days: 90,
        full_ip_hours: 0,
        secret: Some("a test secret of sufficient length".into()),
        trusted_proxies: Vec::new(),
        from: "Test Sender <sender@example.com>".into(),
        unsubscribe_mailto: None,
        scheduler: Default::default(),
        mailgun: Default::default(),
    }
}

/// A running server with its own data directory and an HTTP client.
pub struct TestServer {
    pub running: Running,
    pub config: Config,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(backend: &Backend) -> TestServer {
        TestServer::start_with(backend, true).await
    }

    pub async fn start_with(backend: &Backend, tracking: bool) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let config = test_config(backend, dir.path().to_path_buf(), tracking).await;
        let running = server::start(&config).await.expect("starting the server");
        TestServer {
            running,
            config,
            http: client(),
            _dir: dir,
        }
    }

    /// Starts a server on a config the test built, such as one sharing another's database.
    pub async fn start_on(config: Config, dir: tempfile::TempDir) -> TestServer {
        let running = server::start(&config).await.expect("starting the server");
        TestServer {
            running,
            config,
            http: client(),
            _dir: dir,
        }
    }

    /// Stops the server and starts another on the same database and data directory, its
    /// config changed by `change` (such as tracking turned on): what an operator does.
    pub async fn restart_with(self, change: impl FnOnce(&mut Config)) -> TestServer {
        let TestServer {
            running,
            mut config,
            _dir,
            ..
        } = self;
        running.stop().await.unwrap();
        change(&mut config);
        TestServer::start_on(config, _dir).await
    }

    pub fn store(&self) -> &Store {
        &self.running.state.store
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }

    /// Adds a user and returns its API token.
    pub async fn user(&self, org: &str, email: &str, role: Role, partner: Option<&str>) -> String {
        let (_, token) = mailtally::cli::add_user(self.store(), org, email, role, partner)
            .await
            .expect("adding a user");
        token
    }

    /// Sends an email as the holder of `token`; returns the answer's JSON.
    pub async fn send(&self, token: &str, body: Value) -> Value {
        let res = self
            .http
            .post(self.url("/api/v1/sends"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 201, "send failed: {body}");
        body
    }

    /// GETs an API path as the holder of `token`, expecting 200.
    pub async fn get(&self, token: &str, path: &str) -> Value {
        let res = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// The `.eml` the outbox wrote for a send.
    pub fn outbox_message(&self, send_id: i64) -> String {
        let path = self.config.outbox_dir().join(format!("{send_id}.eml"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub async fn stop(self) {
        self.running.stop().await.unwrap();
    }
}

/// An HTTP client that does not follow redirects, so tests see the 302 itself.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(HUMAN_UA)
        .build()
        .unwrap()
}

/// A desktop browser, as a person clicking in webmail.
pub const HUMAN_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// A small email with two links and a no-track link.
pub fn simple_email(to: &str, campaign: &str) -> Value {
    json!({
        "to": to,
        "to_name": "Ada Reader",
        "subject": "Hello",
        "html": "<html><body><p>Hi</p>\
            <a href=\"https://example.com/one?a=1&amp;b=2\">One</a>\
            <a href=\"https://example.com/two\">Two</a>\
            <a data-no-track href=\"https://example.com/private\">Private</a>\
            </body></html>",
        "text": "Hi, see https://example.com/two",
        "campaign": campaign,
        "template": "simple",
    })
}

/// The decoded HTML and text parts of an outbox message, parsed by a real MIME parser.
pub fn message_parts(eml: &str) -> (String, Option<String>) {
    let message = mail_parser::MessageParser::default()
        .parse(eml.as_bytes())
        .expect("the outbox message parses as MIME");
    let html = message
        .body_html(0)
        .expect("the message has an HTML part")
        .into_owned();
    let text = message.body_text(0).map(|t| t.into_owned());
    (html, text)
}

/// The distinct tracked URLs of one kind (`open` or `click`) in a part, in order.
pub fn tracked_urls(body: &str, base: &str, kind: &str) -> Vec<String> {
    let needle = format!("{base}/track/{kind}/");
    let mut found = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find(&needle) {
        let tail = &rest[i + needle.len()..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(tail.len());
        let url = format!("{needle}{}", &tail[..end]);
        if !found.contains(&url) {
            found.push(url);
        }
        rest = &tail[end..];
    }
    found
}

/// Runs one SQL statement straight on the test server's database, for arranging what the
/// API cannot, such as sends and events from days ago.
pub async fn raw_sql(server: &TestServer, sql: &str) {
    use sqlx::Executor;

    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match &server.config.database_url {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            pool.execute(sql).await.unwrap();
            pool.close().await;
        }
        None => {
            let path = server.config.data_dir.join("mailtally.db");
            let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display()))
                .await
                .unwrap();
            pool.execute(sql).await.unwrap();
            pool.close().await;
        }
    }
}

/// The API tokens of one user of every role in one organisation.
pub struct Team {
    pub owner: String,
    pub admin: String,
    pub partner: String,
    /// A sales rep working for `partner`.
    pub rep: String,
    pub member: String,
}

impl TestServer {
    /// Adds `owner@`, `admin@`, `partner@`, `rep@` and `member@` `domain` to `org`.
    pub async fn team(&self, org: &str, domain: &str) -> Team {
        let email = |local: &str| format!("{local}@{domain}");
        let partner_email = email("partner");
        Team {
            owner: self.user(org, &email("owner"), Role::Owner, None).await,
            admin: self.user(org, &email("admin"), Role::Admin, None).await,
            partner: self.user(org, &partner_email, Role::Partner, None).await,
            rep: self
                .user(org, &email("rep"), Role::SalesRep, Some(&partner_email))
                .await,
            member: self.user(org, &email("member"), Role::Member, None).await,
        }
    }
}
