//! Shared by the page tests: an organisation with a user of every role, sends and hits made
//! through the real API and tracking endpoints, and a browser session over plain HTTP.

#![allow(dead_code)]

use mailtally::store::Role;
use serde_json::Value;

use crate::common::{self, Backend, TestServer};

pub const PASSWORD: &str = "a long test password";

/// A user of the fixture.
#[derive(Debug, Clone)]
pub struct Person {
    pub email: &'static str,
    pub role: Role,
    pub id: i64,
    pub token: String,
}

/// The fixture: who is who, and the send ids made.
pub struct Fixture {
    pub owner: Person,
    pub partner: Person,
    pub rep: Person,
    pub member: Person,
    pub peer: Person,
    /// One of the owner's sends, moved 40 days back.
    pub old_send: i64,
    /// A send of the partner with an open and a click.
    pub engaged_send: i64,
}

async fn person(
    server: &TestServer,
    email: &'static str,
    role: Role,
    partner: Option<&str>,
) -> Person {
    let (id, token) = mailtally::cli::add_user(server.store(), "Acme", email, role, partner)
        .await
        .expect("adding a user");
    let hash = mailtally::web::hash_password(PASSWORD).unwrap();
    server
        .store()
        .set_password_hash(id, Some(&hash))
        .await
        .unwrap();
    Person {
        email,
        role,
        id,
        token,
    }
}

/// Runs SQL on the server's database directly, for what no API does: moving a send back in
/// time, or marking one as sent while tracking was off.
pub async fn exec(server: &TestServer, backend: &Backend, sql: &str) {
    use sqlx::Executor;

    match backend {
        Backend::Sqlite => {
            let path = server.config.data_dir.join("mailtally.db");
            let url = format!("sqlite://{}", path.display());
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            pool.execute(sqlx::AssertSqlSafe(sql.to_string()))
                .await
                .unwrap();
            pool.close().await;
        }
        Backend::Postgres(_) => {
            let url = server.config.database_url.clone().unwrap();
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            pool.execute(sqlx::AssertSqlSafe(sql.to_string()))
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

async fn send(server: &TestServer, who: &Person, to: &str, campaign: &str, template: &str) -> i64 {
    let mut body = common::simple_email(to, campaign);
    body["template"] = Value::from(template);
    let answer = server.send(&who.token, body).await;
    answer["id"].as_i64().unwrap()
}

/// Opens the pixel of a send and clicks its first link, as a person in a browser would.
async fn engage(server: &TestServer, send_id: i64, click: bool) {
    let (html, _) = common::message_parts(&server.outbox_message(send_id));
    let base = &server.running.base_url;
    let open = common::tracked_urls(&html, base, "open");
    let res = server.http.get(&open[0]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    if click {
        // People click a while after opening; the counting rules ignore instant clicks.
        let links = common::tracked_urls(&html, base, "click");
        let res = server.http.get(&links[0]).send().await.unwrap();
        assert!(res.status().is_redirection());
    }
}

/// Builds the organisation, its sends and its hits.
pub async fn seed(server: &TestServer, backend: &Backend) -> Fixture {
    let owner = person(server, "owner@acme.example", Role::Owner, None).await;
    let partner = person(server, "partner@acme.example", Role::Partner, None).await;
    let peer = person(server, "peer@acme.example", Role::Partner, None).await;
    let rep = person(
        server,
        "rep@acme.example",
        Role::SalesRep,
        Some("partner@acme.example"),
    )
    .await;
    let member = person(server, "member@acme.example", Role::Member, None).await;

    let mut owner_sends = Vec::new();
    for i in 0..3 {
        let to = format!("lead{i}@example.org");
        owner_sends.push(send(server, &owner, &to, "Launch", "welcome").await);
    }
    let mut partner_sends = Vec::new();
    for i in 0..4 {
        let to = format!("prospect{i}@example.org");
        partner_sends.push(send(server, &partner, &to, "Partner Push", "promo").await);
    }
    for i in 0..2 {
        let to = format!("rep-lead{i}@example.org");
        send(server, &rep, &to, "Partner Push", "promo").await;
    }
    send(server, &peer, "peer-lead@example.org", "Peer Deal", "promo").await;
    let member_send = send(server, &member, "friend@example.org", "Member Note", "note").await;

    engage(server, owner_sends[0], true).await;
    engage(server, owner_sends[1], false).await;
    engage(server, partner_sends[0], true).await;
    engage(server, partner_sends[1], false).await;

    let day = 24 * 60 * 60 * 1000_i64;
    let old_send = owner_sends[2];
    exec(
        server,
        backend,
        &format!(
            "UPDATE sends SET created_at = created_at - {} WHERE id = {old_send}",
            40 * day
        ),
    )
    .await;
    exec(
        server,
        backend,
        &format!("UPDATE sends SET tracked = 0 WHERE id = {member_send}"),
    )
    .await;

    Fixture {
        owner,
        partner,
        rep,
        member,
        peer,
        old_send,
        engaged_send: partner_sends[0],
    }
}

/// A browser over plain HTTP: keeps the cookies it is given, reads forms' tokens.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    cookies: std::sync::Mutex<Vec<(String, String)>>,
}

impl Browser {
    pub fn new(server: &TestServer) -> Browser {
        Browser {
            http: common::client(),
            base: server.running.base_url.clone(),
            cookies: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().unwrap();
        let pairs: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join("; ")
    }

    fn keep_cookies(&self, res: &reqwest::Response) {
        let mut jar = self.cookies.lock().unwrap();
        for value in res.headers().get_all(reqwest::header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            let (name, val) = pair.split_once('=').unwrap();
            jar.retain(|(k, _)| k != name);
            if !value.contains("Max-Age=0") {
                jar.push((name.to_string(), val.to_string()));
            }
        }
    }

    /// The value of a cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let jar = self.cookies.lock().unwrap();
        jar.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&res);
        res
    }

    pub async fn page(&self, path: &str) -> String {
        let res = self.get(path).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&res);
        res
    }

    /// Signs in through the form; answers the response to the POST.
    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        let form = self.page("/login").await;
        let csrf = csrf_of(&form);
        self.post(
            "/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }
}

/// The CSRF token of the first form of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("the page has a csrf field") + marker.len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_string()
}
