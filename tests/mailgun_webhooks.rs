//! Mailgun webhooks over HTTP (issue 6), on every backend: each real payload of
//! `tests/fixtures/mailgun/` (from the shared corpus) re-signed with a test key and aimed
//! at a real send produces its effect; tenants' keys are apart; stale, replayed, tampered
//! and malformed webhooks are refused; keys never show in the database file, the logs or
//! any answer.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use common::{Backend, TestServer, backends, test_config};
use mailtally::mailgun::signature::{self, Signed};
use mailtally::store::Role;
use serde_json::{Value, json};

/// The key the corpus payloads were signed with (see the corpus README).
const TEST_KEY: &str = "TEST_WEBHOOK_SIGNING_KEY";
const PLATFORM_KEY: &str = "platform-signing-key-5b1d0c";
const ORG_B_KEY: &str = "org-b-signing-key-77a1e2";
const TEAM_KEY: &str = "team-signing-key-c0ffee";
const WEBHOOK: &str = "/api/v1/webhooks/mailgun";

/// Every log line of this test binary, to check that no key is ever logged.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .try_init();
        logs
    })
    .clone()
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The real Mailgun payloads, copied from the shared corpus with their attribution.
fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mailgun")
}

fn corpus(name: &str) -> Value {
    let path = corpus_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn now_secs() -> i64 {
    mailtally::store::now_ms() / 1000
}

/// A token like Mailgun's: 50 random characters.
fn fresh_token() -> String {
    hex::encode(rand::random::<[u8; 25]>())
}

/// Gives a JSON payload a fresh timestamp and token, signed with `key`.
fn resign(body: &mut Value, key: &str) {
    resign_at(body, key, now_secs());
}

fn resign_at(body: &mut Value, key: &str, timestamp: i64) {
    let timestamp = timestamp.to_string();
    let token = fresh_token();
    body["signature"] = json!({
        "timestamp": timestamp,
        "token": token,
        "signature": signature::sign(key.as_bytes(), &timestamp, &token),
    });
}

/// Points a JSON payload's event at `send_id`, happening now.
fn aim(body: &mut Value, send_id: i64) {
    let data = &mut body["event-data"];
    if !data["user-variables"].is_object() {
        data["user-variables"] = json!({});
    }
    data["user-variables"]["send_id"] = json!(send_id.to_string());
    if data.get("timestamp").is_some() {
        data["timestamp"] = json!(now_secs() as f64 + 0.25);
    }
}

/// A signed JSON event of `kind` for `send_id`.
fn event(kind: &str, send_id: i64, key: &str) -> Value {
    let mut body = json!({
        "event-data": {
            "event": kind,
            "id": format!("ev-{}", fresh_token()),
            "timestamp": now_secs() as f64,
            "user-variables": { "send_id": send_id.to_string() },
        }
    });
    if kind == "failed" {
        body["event-data"]["severity"] = json!("temporary");
    }
    resign(&mut body, key);
    body
}

/// The legacy form fields of a corpus file, aimed at `send_id` and signed with `key`.
fn legacy_form(name: &str, send_id: i64, key: &str) -> Vec<(String, String)> {
    let Value::Object(fields) = corpus(name) else {
        panic!("{name} is not an object");
    };
    let timestamp = now_secs().to_string();
    let token = fresh_token();
    let mut form = vec![
        ("timestamp".to_string(), timestamp.clone()),
        ("token".to_string(), token.clone()),
        (
            "signature".to_string(),
            signature::sign(key.as_bytes(), &timestamp, &token),
        ),
        ("send_id".to_string(), send_id.to_string()),
    ];
    for (name, value) in fields {
        // The corpus's own token and timestamp stand for the fields we just signed.
        if name == "token" || name == "timestamp" {
            continue;
        }
        match value {
            Value::Array(items) => {
                for item in items {
                    form.push((name.clone(), item.as_str().unwrap_or_default().to_string()));
                }
            }
            Value::String(text) => form.push((name, text)),
            other => form.push((name, other.to_string())),
        }
    }
    form
}

async fn post_json(server: &TestServer, body: &Value) -> (u16, Value) {
    let res = server
        .http
        .post(server.url(WEBHOOK))
        .json(body)
        .send()
        .await
        .unwrap();
    answer(res).await
}

async fn post_form(server: &TestServer, fields: &[(String, String)]) -> (u16, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    post_raw(
        server,
        "application/x-www-form-urlencoded",
        body.into_bytes(),
    )
    .await
}

async fn post_raw(server: &TestServer, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let res = server
        .http
        .post(server.url(WEBHOOK))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    answer(res).await
}

async fn answer(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A server whose platform webhook key is `PLATFORM_KEY`.
async fn start(backend: &Backend) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    start_in(backend, dir.path().to_path_buf(), dir).await
}

/// The same with its data in `data_dir`, which `keep` (dropped with the server) may or may
/// not be.
async fn start_in(backend: &Backend, data_dir: PathBuf, keep: tempfile::TempDir) -> TestServer {
    captured_logs();
    let mut config = test_config(backend, data_dir, true).await;
    config.mailgun.mailgun_webhook_signing_key = Some(PLATFORM_KEY.into());
    TestServer::start_on(config, keep).await
}

/// Sends a small email with the corpus's clicked URLs as links; returns the send id.
async fn send_to(server: &TestServer, token: &str, to: &str) -> i64 {
    let sent = server
        .send(
            token,
            json!({
                "to": to,
                "subject": "Hello",
                "html": "<p>Hi <a href=\"https://example.com/test\">test</a> \
                    <a href=\"http://clicked.example.com/actual/event/param\">param</a></p>",
            }),
        )
        .await;
    sent["id"].as_i64().unwrap()
}

async fn put_settings(server: &TestServer, token: &str, body: Value) -> (u16, Value) {
    let res = server
        .http
        .put(server.url("/api/v1/settings/mailgun"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    answer(res).await
}

async fn state(server: &TestServer, send_id: i64) -> mailtally::store::DeliveryState {
    server.store().delivery_state(send_id).await.unwrap()
}

/// Flips one hex digit of the signature.
fn tampered(body: &Value) -> Value {
    let mut body = body.clone();
    let sig = body["signature"]["signature"].as_str().unwrap().to_string();
    let first = if sig.starts_with('0') { "1" } else { "0" };
    body["signature"]["signature"] = json!(format!("{first}{}", &sig[1..]));
    body
}

#[tokio::test]
async fn corpus_payloads_have_their_effects_on_every_backend() {
    for backend in backends() {
        corpus_payloads_have_their_effects(&backend).await;
    }
}

async fn corpus_payloads_have_their_effects(backend: &Backend) {
    let server = start(backend).await;
    let owner = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let (status, _) = put_settings(&server, &owner, json!({ "signing_key": TEST_KEY })).await;
    assert_eq!(status, 200);

    let json_files = [
        "accepted-1.json",
        "clicked-1.json",
        "complained-1.json",
        "delivered-1.json",
        "delivered-2.json",
        "failed-1.json",
        "failed-2.json",
        "failed-3.json",
        "opened-1.json",
        "rejected-1.json",
        "unsubscribed-1.json",
    ];
    for (i, name) in json_files.iter().enumerate() {
        let send_id = send_to(&server, &owner, &format!("reader{i}@example.org")).await;
        let mut body = corpus(name);
        aim(&mut body, send_id);
        resign(&mut body, TEST_KEY);

        let (status, _) = post_json(&server, &tampered(&body)).await;
        assert_eq!(status, 401, "{name}: one changed byte, {}", backend.name());
        let (status, answer) = post_json(&server, &body).await;
        assert_eq!(status, 200, "{name}: {answer}");
        check_effect(&server, name, send_id, &answer).await;
    }

    // Signed with another key, as the corpus file is: refused.
    let send_id = send_to(&server, &owner, "reader-wrong@example.org").await;
    let mut body = corpus("delivered-3.json");
    aim(&mut body, send_id);
    resign(&mut body, "wrong signing key");
    assert_eq!(post_json(&server, &body).await.0, 401);

    let legacy = [
        "legacy-bounced-1.json",
        "legacy-clicked-1.json",
        "legacy-dropped-1.json",
    ];
    for (i, name) in legacy.iter().enumerate() {
        let send_id = send_to(&server, &owner, &format!("legacy{i}@example.org")).await;
        let mut form = legacy_form(name, send_id, TEST_KEY);
        let mut altered = form.clone();
        altered[2].1 = format!("f{}", &altered[2].1[1..]);
        if altered[2].1 == form[2].1 {
            altered[2].1 = format!("e{}", &altered[2].1[1..]);
        }
        assert_eq!(post_form(&server, &altered).await.0, 401, "{name} altered");
        let (status, answer) = post_form(&server, &form).await;
        assert_eq!(status, 200, "{name}: {answer}");
        check_effect(&server, name, send_id, &answer).await;

        // The legacy body as the corpus has it, with no signature: malformed.
        form.retain(|(k, _)| !matches!(k.as_str(), "timestamp" | "token" | "signature"));
        assert_eq!(post_form(&server, &form).await.0, 400, "{name} unsigned");
    }
    server.stop().await;
}

async fn check_effect(server: &TestServer, name: &str, send_id: i64, answer: &Value) {
    let after = state(server, send_id).await;
    let events = server.store().events(send_id).await.unwrap();
    match name {
        "failed-1.json" | "legacy-bounced-1.json" | "legacy-dropped-1.json" => {
            assert_eq!(answer["status"], "processed", "{name}");
            assert_eq!(after.status, "bounced", "{name}");
            assert_eq!(after.contact_status, "blocked", "{name}");
            assert_eq!(after.contact_status_reason.as_deref(), Some("hard_bounce"));
            assert!(after.error.is_some(), "{name}: the reason is kept");
        }
        "failed-2.json" | "failed-3.json" => {
            assert_eq!(answer["status"], "processed", "{name}");
            assert_eq!(after.status, "sent", "{name}");
            assert_eq!(after.soft_bounces, 1, "{name}");
            assert_eq!(after.contact_status, "active", "{name}");
        }
        "complained-1.json" => {
            assert_eq!(answer["status"], "processed");
            assert!(after.complained_at.is_some());
            assert_eq!(after.contact_status, "blocked");
            assert_eq!(after.contact_status_reason.as_deref(), Some("complaint"));
        }
        "unsubscribed-1.json" => {
            assert_eq!(answer["status"], "processed");
            assert!(after.unsubscribed_at.is_some());
            assert_eq!(after.contact_status, "unsubscribed");
        }
        "opened-1.json" => {
            assert_eq!(answer["status"], "processed");
            assert_eq!(events.len(), 1, "{events:?}");
            assert_eq!(events[0].kind, "open");
            assert_eq!(events[0].source, "mailgun");
            assert!(events[0].user_agent.contains("Intel Mac OS X"));
        }
        "clicked-1.json" | "legacy-clicked-1.json" => {
            assert_eq!(answer["status"], "processed", "{name}: {answer}");
            let links = server.store().links(send_id).await.unwrap();
            let wanted = if name == "clicked-1.json" {
                "https://example.com/test"
            } else {
                "http://clicked.example.com/actual/event/param"
            };
            let position = links.iter().find(|l| l.url == wanted).unwrap().position;
            assert_eq!(events.len(), 1, "{name}: {events:?}");
            assert_eq!(events[0].kind, "click");
            assert_eq!(events[0].position, Some(position));
            assert!(events[0].source.starts_with("mailgun"));
        }
        _ => {
            assert_eq!(answer["status"], "ignored", "{name}: {answer}");
            assert_eq!(after.status, "sent", "{name}");
            assert_eq!(after.soft_bounces, 0, "{name}");
            assert_eq!(after.contact_status, "active", "{name}");
            assert!(events.is_empty(), "{name}");
        }
    }
}

#[tokio::test]
async fn tenants_are_cryptographically_apart_on_every_backend() {
    for backend in backends() {
        tenants_are_apart(&backend).await;
    }
}

async fn tenants_are_apart(backend: &Backend) {
    let server = start(backend).await;
    let a = server.user("A", "owner@a.test", Role::Owner, None).await;
    let b = server.user("B", "admin@b.test", Role::Admin, None).await;
    let c = server.user("C", "owner@c.test", Role::Owner, None).await;
    let partner = server
        .user("A", "partner@a.test", Role::Partner, None)
        .await;
    let rep = server
        .user("A", "rep@a.test", Role::SalesRep, Some("partner@a.test"))
        .await;
    assert_eq!(
        put_settings(&server, &a, json!({"signing_key": TEST_KEY}))
            .await
            .0,
        200
    );
    assert_eq!(
        put_settings(&server, &b, json!({"signing_key": ORG_B_KEY}))
            .await
            .0,
        200
    );
    let (status, view) = put_settings(&server, &partner, json!({"signing_key": TEAM_KEY})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["tenant"], "partner_team");

    let send_b = send_to(&server, &b, "x@b.example").await;
    for key in [TEST_KEY, PLATFORM_KEY, TEAM_KEY] {
        let (status, _) = post_json(&server, &event("delivered", send_b, key)).await;
        assert_eq!(status, 401, "org B's event with another key");
    }
    assert_eq!(
        post_json(&server, &event("delivered", send_b, ORG_B_KEY))
            .await
            .0,
        200
    );

    // C has no key of its own: the platform's verifies its events, and nobody else's does.
    let send_c = send_to(&server, &c, "x@c.example").await;
    assert_eq!(
        post_json(&server, &event("delivered", send_c, PLATFORM_KEY))
            .await
            .0,
        200
    );
    for key in [TEST_KEY, ORG_B_KEY] {
        assert_eq!(
            post_json(&server, &event("delivered", send_c, key)).await.0,
            401
        );
    }

    // A partner team's key verifies its sends, the partner's own and its reps'; the
    // organisation's key does not.
    for token in [&rep, &partner] {
        let send = send_to(&server, token, "y@a.example").await;
        assert_eq!(
            post_json(&server, &event("delivered", send, TEST_KEY))
                .await
                .0,
            401
        );
        assert_eq!(
            post_json(&server, &event("delivered", send, TEAM_KEY))
                .await
                .0,
            200
        );
    }
    // The organisation's own sends: its key, not the team's.
    let send_a = send_to(&server, &a, "z@a.example").await;
    assert_eq!(
        post_json(&server, &event("delivered", send_a, TEAM_KEY))
            .await
            .0,
        401
    );
    assert_eq!(
        post_json(&server, &event("delivered", send_a, TEST_KEY))
            .await
            .0,
        200
    );

    // An event of no send of ours: only the platform key verifies it, and it does nothing.
    let (status, answer) = post_json(&server, &event("failed", 987_654, PLATFORM_KEY)).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("ignored")));
    assert_eq!(
        post_json(&server, &event("failed", 987_654, TEST_KEY))
            .await
            .0,
        401
    );
    server.stop().await;
}

#[tokio::test]
async fn replays_stale_and_repeated_events_on_every_backend() {
    for backend in backends() {
        replays_stale_and_repeats(&backend).await;
    }
}

async fn replays_stale_and_repeats(backend: &Backend) {
    let server = start(backend).await;
    let owner = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let send_id = send_to(&server, &owner, "r@example.org").await;

    // The same token twice: the second is a replay, even with other event data.
    let body = event("failed", send_id, PLATFORM_KEY);
    assert_eq!(post_json(&server, &body).await.0, 200);
    assert_eq!(post_json(&server, &body).await.0, 401);
    let mut altered = body.clone();
    altered["event-data"]["severity"] = json!("permanent");
    altered["event-data"]["id"] = json!("another-id");
    let (status, answer) = post_json(&server, &altered).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["error"], "replayed token");
    assert_eq!(state(&server, send_id).await.status, "sent");

    // Stale and future timestamps, correctly signed.
    for offset in [-16 * 60, 16 * 60, -86_400 * 365] {
        let mut body = event("failed", send_id, PLATFORM_KEY);
        resign_at(&mut body, PLATFORM_KEY, now_secs() + offset);
        let (status, answer) = post_json(&server, &body).await;
        assert_eq!(status, 401, "offset {offset}: {answer}");
        assert_eq!(answer["error"], "stale timestamp");
    }
    let mut recent = event("failed", send_id, PLATFORM_KEY);
    resign_at(&mut recent, PLATFORM_KEY, now_secs() - 10 * 60);
    assert_eq!(
        post_json(&server, &recent).await.0,
        200,
        "ten minutes old is fine"
    );
    assert_eq!(state(&server, send_id).await.soft_bounces, 2);

    // A repeated event id with a fresh signature: already done, nothing changes.
    let mut again = recent.clone();
    resign(&mut again, PLATFORM_KEY);
    let (status, answer) = post_json(&server, &again).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("duplicate"))
    );
    assert_eq!(state(&server, send_id).await.soft_bounces, 2);
    server.stop().await;
}

#[tokio::test]
async fn mailgun_and_pixel_opens_of_one_reader_count_once() {
    let server = start(&Backend::Sqlite).await;
    let owner = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let send_id = send_to(&server, &owner, "o@example.org").await;
    let (html, _) = common::message_parts(&server.outbox_message(send_id));
    let pixel = common::tracked_urls(&html, &server.running.base_url, "open");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        server.http.get(&pixel[0]).send().await.unwrap().status(),
        200
    );
    assert_eq!(server.store().send(send_id).await.unwrap().opens, 1);

    // The same reader's open as Mailgun saw it: stored, not counted again.
    let mut body = event("opened", send_id, PLATFORM_KEY);
    body["event-data"]["ip"] = json!("127.0.0.1");
    body["event-data"]["client-info"] = json!({ "user-agent": common::HUMAN_UA });
    assert_eq!(post_json(&server, &body).await.0, 200);
    // An open Mailgun flagged as a bot: filtered.
    let mut body = event("opened", send_id, PLATFORM_KEY);
    body["event-data"]["ip"] = json!("198.51.100.7");
    body["event-data"]["client-info"] =
        json!({ "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "bot": "generic" });
    assert_eq!(post_json(&server, &body).await.0, 200);

    let send = server.store().send(send_id).await.unwrap();
    let events = server.store().events(send_id).await.unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    let sources: Vec<&str> = events.iter().map(|e| e.source.as_str()).collect();
    for source in ["direct", "mailgun", "mailgun_bot"] {
        assert!(sources.contains(&source), "{sources:?}");
    }
    assert_eq!((send.opens, send.filtered), (1, 1), "{events:?}");
    server.stop().await;
}

#[tokio::test]
async fn rotation_keeps_the_previous_key_for_a_while() {
    let server = start(&Backend::Sqlite).await;
    let owner = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let send_id = send_to(&server, &owner, "k@example.org").await;
    assert_eq!(
        put_settings(&server, &owner, json!({"signing_key": "key-one"}))
            .await
            .0,
        200
    );
    let (status, view) = put_settings(&server, &owner, json!({"signing_key": "key-two"})).await;
    assert_eq!(status, 200);
    let until = view["signing_key"]["previous_accepted_until"]
        .as_i64()
        .unwrap();
    assert!(
        until > mailtally::store::now_ms() + 6 * 86_400_000,
        "{view}"
    );
    assert_eq!(view["webhooks_verified_with"], "organisation");
    assert_eq!(view["platform_signing_key_used"], false);

    for key in ["key-one", "key-two"] {
        assert_eq!(
            post_json(&server, &event("delivered", send_id, key))
                .await
                .0,
            200
        );
    }
    assert_eq!(
        post_json(&server, &event("delivered", send_id, PLATFORM_KEY))
            .await
            .0,
        401
    );

    // Deleting the settings hands verification back to the platform key.
    let res = server
        .http
        .delete(server.url("/api/v1/settings/mailgun"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let view = server.get(&owner, "/api/v1/settings/mailgun").await;
    assert_eq!(view["signing_key"]["set"], false);
    assert_eq!(view["platform_signing_key_used"], true);
    assert_eq!(
        post_json(&server, &event("delivered", send_id, "key-two"))
            .await
            .0,
        401
    );
    assert_eq!(
        post_json(&server, &event("delivered", send_id, PLATFORM_KEY))
            .await
            .0,
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn malformed_bodies_are_refused_without_a_500() {
    let server = start(&Backend::Sqlite).await;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("application/json", b"not json".to_vec(), 400),
        ("application/json", b"{}".to_vec(), 400),
        (
            "application/json",
            br#"{"signature": "x", "event-data": {}}"#.to_vec(),
            400,
        ),
        ("application/json", "[".repeat(10_000).into_bytes(), 400),
        (
            "application/x-www-form-urlencoded",
            b"event=opened".to_vec(),
            400,
        ),
        (
            "application/x-www-form-urlencoded",
            vec![0xff, 0xfe, b'='],
            400,
        ),
        ("text/plain", b"hello".to_vec(), 415),
        ("application/json", vec![b' '; 300 * 1024], 413),
        (
            "application/json",
            br#"{"signature": {"timestamp": "0", "token": "", "signature": ""},
                "event-data": {"event": "opened"}}"#
                .to_vec(),
            401,
        ),
    ];
    for (content_type, body, expected) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        let (status, _) = post_raw(&server, content_type, body).await;
        assert_eq!(status, expected, "{content_type} {shown:?}");
    }

    // Random bytes and random mutations of a valid body: any 4xx, never a 5xx.
    let valid = serde_json::to_vec(&event("opened", 1, PLATFORM_KEY)).unwrap();
    for round in 0..300 {
        let body = if round % 2 == 0 {
            (0..rand::random_range(0..600))
                .map(|_| rand::random::<u8>())
                .collect()
        } else {
            let mut body = valid.clone();
            for _ in 0..rand::random_range(1..6) {
                let i = rand::random_range(0..body.len());
                body[i] = rand::random();
            }
            body
        };
        let content_type = ["application/json", "application/x-www-form-urlencoded"][round % 2];
        let (status, answer) = post_raw(&server, content_type, body).await;
        assert!(
            (200..500).contains(&status),
            "round {round}: {status} {answer}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn settings_are_for_owners_admins_and_partners_only() {
    let server = start(&Backend::Sqlite).await;
    let common::Team {
        owner,
        admin,
        partner,
        rep,
        member,
    } = server.team("Acme", "acme.test").await;
    let url = server.url("/api/v1/settings/mailgun");

    for token in [&rep, &member] {
        let get = server
            .http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), 403);
        let put = put_settings(&server, token, json!({"signing_key": "x"})).await;
        assert_eq!(put.0, 403);
        let delete = server
            .http
            .delete(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(delete.status(), 403);
    }
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 401);

    for token in [&owner, &admin, &partner] {
        let view = server.get(token, "/api/v1/settings/mailgun").await;
        assert_eq!(view["signing_key"]["set"], false, "{view}");
        assert_eq!(view["webhooks_verified_with"], "platform");
    }
    let bad_bodies = [
        json!({}),
        json!({"signing_key": "ok", "colour": "blue"}),
        json!({"signing_key": ""}),
        json!({"signing_key": "has space"}),
        json!({"domain": "mg.example.com"}),
        json!({"domain": "not a domain", "api_key": "k"}),
        json!({"domain": "mg.example.com", "api_key": "k", "region": "mars"}),
        json!({"domain": "mg.example.com", "api_key": "k", "base_url": "http://127.0.0.1:1"}),
        json!({"region": "eu"}),
    ];
    for body in bad_bodies {
        let (status, answer) = put_settings(&server, &admin, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
    }

    let (status, view) = put_settings(
        &server,
        &admin,
        json!({"domain": "MG.Example.com", "api_key": "key-abc", "region": "eu"}),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["account"]["domain"], "mg.example.com");
    assert_eq!(view["account"]["region"], "eu");
    assert_eq!(view["mail_sent_with"], "organisation");
    // The partner team has no account of its own: its mail goes through the organisation's.
    let view = server.get(&partner, "/api/v1/settings/mailgun").await;
    assert_eq!(view["account"]["set"], false);
    assert_eq!(view["mail_sent_with"], "organisation");
    server.stop().await;
}

#[tokio::test]
async fn keys_are_not_readable_in_the_database_the_answers_or_the_logs() {
    let logs = captured_logs();
    // The data directory outlives the server, to be read after it closed the database.
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_path_buf();
    let server = start_in(
        &Backend::Sqlite,
        data_dir.clone(),
        tempfile::tempdir().unwrap(),
    )
    .await;
    let owner = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let signing_key = "sk-unmistakable-5f3e9a71c2";
    let api_key = "ak-unmistakable-0b8d4e62f1";
    let send_id = send_to(&server, &owner, "s@example.org").await;

    let mut answers = Vec::new();
    for body in [
        json!({"signing_key": signing_key}),
        json!({"domain": "mg.example.com", "api_key": api_key}),
        json!({"signing_key": format!("{signing_key}-next")}),
    ] {
        let (status, answer) = put_settings(&server, &owner, body).await;
        assert_eq!(status, 200);
        answers.push(answer.to_string());
    }
    answers.push(
        server
            .get(&owner, "/api/v1/settings/mailgun")
            .await
            .to_string(),
    );
    let (status, answer) = post_json(&server, &event("opened", send_id, signing_key)).await;
    assert_eq!(status, 200);
    answers.push(answer.to_string());
    let (status, answer) = post_json(&server, &event("opened", send_id, "wrong")).await;
    assert_eq!(status, 401);
    answers.push(answer.to_string());

    server.stop().await;

    let mut files = 0;
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        files += 1;
        let bytes = std::fs::read(&path).unwrap();
        for secret in [signing_key, api_key] {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret} in {}", path.display());
            // Not even the first half, so no prefix of a key sits in clear either.
            let half = &secret.as_bytes()[..secret.len() / 2];
            assert!(!bytes.windows(half.len()).any(|w| w == half));
        }
    }
    assert!(
        files >= 1,
        "the SQLite database is in {}",
        data_dir.display()
    );
    for answer in &answers {
        assert!(!answer.contains("unmistakable"), "{answer}");
    }
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logs.contains("mailgun settings saved"), "logs are captured");
    assert!(!logs.contains("unmistakable"), "a key was logged");
}

/// The known-answer vectors of the shared corpus's Mailgun notes, as stated there.
#[test]
fn known_answer_vectors() {
    let signed = |timestamp: &str, token: &str, signature: &str| Signed {
        timestamp: timestamp.into(),
        token: token.into(),
        signature: signature.into(),
    };
    let php_key = b"key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
    let php_sig = "9cfc5c41582e51246e73c88d34db3af0a3a2692a76fbab81492842f000256d33";
    let good_token = "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6";
    let bad_token = "owyldpe6nxhmrn78epljl6bj0orrki1u3d2v5e6cnlmmuox8jr";
    assert!(signature::verify(
        php_key,
        &signed("1403645220", good_token, php_sig)
    ));
    assert!(!signature::verify(
        php_key,
        &signed("1403645220", bad_token, php_sig)
    ));
    assert_eq!(
        signature::sign(php_key, "1403645220", bad_token),
        "1c1f16b87b07fe6486354370a2f842812db048f4aa687834fae9bc697789d5dc"
    );
    assert!(!signature::verify(php_key, &signed("0", "", "")));

    let go_key = b"WEBHOOK_SIGNING_KEY";
    let go_sig = "be636525fcbffba547491ce8a6ff04cbfbf0811aa7031db14147de41be62ffe0";
    assert!(signature::verify(
        go_key,
        &signed("123456789", "token", go_sig)
    ));
    let bad = "6261647369676e6174757265";
    assert!(!signature::verify(
        go_key,
        &signed("123456789", "token", bad)
    ));

    // Every signed corpus file verifies with the key the README names, as it stands.
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.starts_with("legacy-") {
            continue;
        }
        let body: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let s = &body["signature"];
        let signed = signed(
            s["timestamp"].as_str().unwrap(),
            s["token"].as_str().unwrap(),
            s["signature"].as_str().unwrap(),
        );
        let key: &[u8] = if name == "delivered-3.json" {
            b"wrong signing key"
        } else {
            TEST_KEY.as_bytes()
        };
        assert!(signature::verify(key, &signed), "{name}");
        assert_eq!(
            signature::verify(TEST_KEY.as_bytes(), &signed),
            name != "delivered-3.json",
            "{name}"
        );
    }
}
