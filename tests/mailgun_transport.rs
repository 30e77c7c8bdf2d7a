//! The Mailgun transport against a local fake of Mailgun's messages API (issue 6): what it
//! sends (user variable, unsubscribe headers, tracking options, basic auth), how it retries,
//! which account carries each send, and what a refusal leaves on the send.

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Backend, TestServer, backends, test_config};
use mailtally::mailgun::signature;
use mailtally::mailgun::{Account, Accounts, Platform, Sealer, Secret};
use mailtally::store::{Role, Store};
use mailtally::transport::{MailgunTransport, Outgoing, Retry, TransportError};
use serde_json::{Value, json};

const API_KEY: &str = "key-platform-9f8e7d";
const PLATFORM_KEY: &str = "platform-signing-key-transport";

/// One request the fake received.
#[derive(Debug, Clone)]
struct Received {
    domain: String,
    authorization: Option<String>,
    /// Every form field: name, text, content type.
    fields: Vec<(String, String, Option<String>)>,
}

impl Received {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v.as_str())
    }

    fn basic_auth(&self) -> Option<(String, String)> {
        let encoded = self.authorization.as_deref()?.strip_prefix("Basic ")?;
        let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
        let (user, password) = decoded.split_once(':')?;
        Some((user.to_string(), password.to_string()))
    }
}

/// A scripted answer: status and `Retry-After` seconds.
type Answer = (u16, Option<u64>);

/// A fake of `POST /v3/{domain}/messages`: answers from a script, then 200 with an id.
#[derive(Clone, Default)]
struct Fake {
    received: Arc<Mutex<Vec<Received>>>,
    /// The next answers.
    script: Arc<Mutex<VecDeque<Answer>>>,
}

impl Fake {
    async fn start() -> (Fake, String) {
        let fake = Fake::default();
        let app = Router::new()
            .route("/v3/{domain}/messages", post(messages))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (fake, format!("http://{addr}"))
    }

    fn answer_next(&self, answers: &[Answer]) {
        self.script.lock().unwrap().extend(answers.iter().copied());
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn messages(
    State(fake): State<Fake>,
    Path(domain): Path<String>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let mut fields = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        let content_type = field.content_type().map(str::to_string);
        let text = field.text().await.unwrap_or_default();
        fields.push((name, text, content_type));
    }
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let number = {
        let mut received = fake.received.lock().unwrap();
        received.push(Received {
            domain,
            authorization,
            fields,
        });
        received.len()
    };
    let next = fake.script.lock().unwrap().pop_front();
    match next {
        Some((status, retry_after)) => {
            let status = StatusCode::from_u16(status).unwrap();
            let body = json!({ "message": format!("scripted {}", status.as_u16()) }).to_string();
            let mut response = (status, body).into_response();
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", secs.to_string().parse().unwrap());
            }
            response
        }
        None => axum::Json(json!({
            "id": format!("<20240101.{number}.ABCDEF@mg.example.com>"),
            "message": "Queued. Thank you.",
        }))
        .into_response(),
    }
}

fn outgoing(send_id: i64) -> Outgoing {
    Outgoing {
        send_id,
        from: "Sender <sender@mg.example.com>".into(),
        to_email: "reader@example.org".into(),
        to_name: "Ada, Reader".into(),
        subject: "Hello".into(),
        html: "<p>Grüße</p>".as_bytes().to_vec(),
        html_charset: "utf-8".into(),
        text: Some("Gruesse".into()),
        headers: vec![
            (
                "List-Unsubscribe",
                "<https://t.example/unsubscribe/abc>".into(),
            ),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()),
        ],
        org_id: 1,
        team_id: None,
    }
}

/// A transport over an empty store, whose platform account points at `base_url`.
async fn transport(base_url: &str) -> (MailgunTransport, Account, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(None, dir.path()).await.unwrap();
    let account = Account {
        domain: "mg.example.com".into(),
        api_key: Secret::new(API_KEY),
        base_url: base_url.into(),
    };
    let platform = Platform {
        account: Some(account.clone()),
        signing_keys: Vec::new(),
    };
    let accounts = Accounts::new(store, Sealer::derive(b"test secret"), platform, false);
    let fast = Retry {
        attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
    };
    (
        MailgunTransport::new(accounts, None).with_retry(fast),
        account,
        dir,
    )
}

#[tokio::test]
async fn carries_variables_headers_and_options_and_retries_a_429_once() {
    let (fake, base_url) = Fake::start().await;
    let (transport, account, _dir) = transport(&base_url).await;
    fake.answer_next(&[(429, Some(1))]);

    let started = std::time::Instant::now();
    let delivered = transport.send_with(&account, &outgoing(42)).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After honoured"
    );
    assert_eq!(
        delivered.provider_id.as_deref(),
        Some("20240101.2.ABCDEF@mg.example.com")
    );

    let received = fake.received();
    assert_eq!(received.len(), 2, "one 429, then one retry");
    let form = &received[1];
    assert_eq!(form.domain, "mg.example.com");
    assert_eq!(
        form.basic_auth(),
        Some(("api".to_string(), API_KEY.to_string()))
    );
    assert_eq!(form.field("v:send_id"), Some("42"));
    assert_eq!(
        form.field("h:List-Unsubscribe"),
        Some("<https://t.example/unsubscribe/abc>")
    );
    assert_eq!(
        form.field("h:List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    for option in ["o:tracking", "o:tracking-clicks", "o:tracking-opens"] {
        assert_eq!(form.field(option), Some("no"), "{option}");
    }
    assert_eq!(form.field("from"), Some("Sender <sender@mg.example.com>"));
    assert_eq!(
        form.field("to"),
        Some("\"Ada, Reader\" <reader@example.org>")
    );
    assert_eq!(form.field("subject"), Some("Hello"));
    assert_eq!(form.field("html"), Some("<p>Grüße</p>"));
    let html_type = form
        .fields
        .iter()
        .find(|(n, _, _)| n == "html")
        .unwrap()
        .2
        .clone();
    assert_eq!(html_type.as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(form.field("text"), Some("Gruesse"));
}

#[tokio::test]
async fn retries_5xx_with_backoff_then_gives_up_clearly() {
    let (fake, base_url) = Fake::start().await;
    let (transport, account, _dir) = transport(&base_url).await;

    fake.answer_next(&[(503, None), (502, None)]);
    assert!(transport.send_with(&account, &outgoing(1)).await.is_ok());
    assert_eq!(fake.received().len(), 3);

    fake.answer_next(&[(500, None); 4]);
    let error = transport
        .send_with(&account, &outgoing(2))
        .await
        .unwrap_err();
    assert_eq!(fake.received().len(), 7, "four tries in all");
    assert!(error.to_string().contains("500"), "{error}");

    // Refusals are not retried.
    fake.answer_next(&[(400, None)]);
    let error = transport
        .send_with(&account, &outgoing(3))
        .await
        .unwrap_err();
    assert_eq!(fake.received().len(), 8);
    assert!(matches!(error, TransportError::Failed(_)));
    assert!(error.to_string().contains("400") && error.to_string().contains("scripted"));

    // A long Retry-After fails at once, saying so.
    fake.answer_next(&[(429, Some(3600))]);
    let error = transport
        .send_with(&account, &outgoing(4))
        .await
        .unwrap_err();
    assert_eq!(fake.received().len(), 9);
    assert!(error.to_string().contains("3600 s"), "{error}");
    assert!(!error.to_string().contains(API_KEY));

    // Nobody listening: retried, then a clear failure.
    let closed = Account {
        base_url: "http://127.0.0.1:9".into(),
        ..account.clone()
    };
    let error = transport
        .send_with(&closed, &outgoing(5))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("could not connect"), "{error}");
}

/// A server whose platform account points at the fake.
async fn server_with_platform(backend: &Backend, base_url: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(backend, dir.path().to_path_buf(), true).await;
    config.mailgun.mailgun_api_key = Some(API_KEY.into());
    config.mailgun.mailgun_domain = Some("mg.example.com".into());
    config.mailgun.mailgun_base_url = Some(base_url.into());
    config.mailgun.mailgun_webhook_signing_key = Some(PLATFORM_KEY.into());
    TestServer::start_on(config, dir).await
}

fn email(to: &str) -> Value {
    json!({ "to": to, "subject": "Hi", "html": "<p><a href=\"https://example.com/a\">a</a></p>" })
}

#[tokio::test]
async fn sends_through_the_platform_account_on_every_backend() {
    for backend in backends() {
        sends_through_the_platform_account(&backend).await;
    }
}

async fn sends_through_the_platform_account(backend: &Backend) {
    let (fake, base_url) = Fake::start().await;
    let server = server_with_platform(backend, &base_url).await;
    let owner = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;

    fake.answer_next(&[(429, Some(0))]);
    let sent = server.send(&owner, email("reader@example.org")).await;
    assert_eq!(sent["status"], "sent", "{sent}");
    let send_id = sent["id"].as_i64().unwrap();
    let received = fake.received();
    assert_eq!(received.len(), 2, "{}", backend.name());
    let form = &received[1];
    assert_eq!(form.field("v:send_id"), Some(send_id.to_string().as_str()));
    assert!(
        form.field("h:List-Unsubscribe")
            .unwrap()
            .contains("/unsubscribe/")
    );
    assert!(
        form.field("html").unwrap().contains("/track/click/"),
        "our links, tracked"
    );
    assert_eq!(form.field("o:tracking"), Some("no"));
    let state = server.store().delivery_state(send_id).await.unwrap();
    let message_id = state.provider_message_id.clone().unwrap();
    assert_eq!(message_id, "20240101.2.ABCDEF@mg.example.com");

    // A webhook that names the send only by Mailgun's message id finds it.
    let timestamp = (mailtally::store::now_ms() / 1000).to_string();
    let token = hex::encode(rand::random::<[u8; 25]>());
    let body = json!({
        "signature": {
            "timestamp": timestamp,
            "token": token,
            "signature": signature::sign(PLATFORM_KEY.as_bytes(), &timestamp, &token),
        },
        "event-data": {
            "event": "failed", "severity": "permanent", "id": "by-message-id",
            "message": { "headers": { "message-id": message_id } },
            "delivery-status": { "code": 550, "message": "5.1.1 no such user" },
        },
    });
    let res = server
        .http
        .post(server.url("/api/v1/webhooks/mailgun"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let state = server.store().delivery_state(send_id).await.unwrap();
    assert_eq!(state.status, "bounced");
    assert_eq!(state.error.as_deref(), Some("550 5.1.1 no such user"));
    assert_eq!(state.contact_status_reason.as_deref(), Some("hard_bounce"));

    // A refusal is recorded on the send, in Mailgun's words.
    fake.answer_next(&[(401, None)]);
    let sent = server.send(&owner, email("other@example.org")).await;
    assert_eq!(sent["status"], "failed");
    let error = sent["error"].as_str().unwrap();
    assert!(
        error.contains("401") && error.contains("scripted"),
        "{error}"
    );
    assert!(!error.contains(API_KEY));

    // The stats count the bounce as failed.
    let stats = server.get(&owner, "/api/v1/stats/summary").await;
    assert_eq!(stats["failed"], 2, "{stats}");
    assert_eq!(stats["soft_bounced"], 0, "{stats}");
    server.stop().await;
}

#[tokio::test]
async fn tenant_accounts_carry_their_own_sends() {
    let (fake, base_url) = Fake::start().await;
    let data = tempfile::tempdir().unwrap();
    let mut config = test_config(&Backend::Sqlite, data.path().to_path_buf(), true).await;
    config.mailgun.mailgun_tenant_base_urls = true;
    let data_dir = config.data_dir.clone();
    let server = TestServer::start_on(config, tempfile::tempdir().unwrap()).await;

    let owner = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let partner = server
        .user("Acme", "partner@acme.test", Role::Partner, None)
        .await;
    let rep = server
        .user(
            "Acme",
            "rep@acme.test",
            Role::SalesRep,
            Some("partner@acme.test"),
        )
        .await;
    let other = server
        .user("Other", "owner@other.test", Role::Owner, None)
        .await;
    let org_key = "key-org-unmistakable-1a2b";
    let team_key = "key-team-unmistakable-3c4d";
    for (token, domain, key) in [
        (&owner, "org.example.com", org_key),
        (&partner, "team.example.com", team_key),
    ] {
        let res = server
            .http
            .put(server.url("/api/v1/settings/mailgun"))
            .bearer_auth(token)
            .json(&json!({ "domain": domain, "api_key": key, "base_url": base_url }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(!res.text().await.unwrap().contains("unmistakable"));
    }

    for (token, domain, key) in [
        (&owner, "org.example.com", org_key),
        (&rep, "team.example.com", team_key),
        (&partner, "team.example.com", team_key),
    ] {
        let before = fake.received().len();
        let sent = server.send(token, email("reader@example.org")).await;
        assert_eq!(sent["status"], "sent", "{sent}");
        let received = fake.received();
        assert_eq!(received.len(), before + 1);
        let form = received.last().unwrap();
        assert_eq!(form.domain, domain);
        assert_eq!(form.basic_auth().unwrap().1, key);
    }

    // An organisation with no account, on a server with no platform account: the outbox.
    let before = fake.received().len();
    let sent = server.send(&other, email("reader@example.org")).await;
    assert_eq!(sent["status"], "sent");
    assert_eq!(fake.received().len(), before);
    let id = sent["id"].as_i64().unwrap();
    assert!(data_dir.join("outbox").join(format!("{id}.eml")).exists());

    server.stop().await;
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(12).any(|w| w == b"unmistakable"),
                "{}",
                path.display()
            );
        }
    }
}
