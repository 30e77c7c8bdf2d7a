//! A recipient's rights: owners and admins export everything stored about a contact and
//! erase it; an erased contact leaves no personal data in any table, and every campaign
//! total stays as it was. Nobody else may do either.

mod common;
mod crm_support;

use std::process::Command;

use common::{
    Backend, HUMAN_UA, TestServer, backends, message_parts, raw_sql, test_config, tracked_urls,
};
use crm_support::Api;
use serde_json::{Value, json};

/// A server with tracking on behind a trusted proxy on loopback, so tests choose the
/// client address of each hit with `X-Forwarded-For`.
async fn server_behind_proxy(backend: &Backend) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(backend, dir.path().to_path_buf(), true).await;
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    TestServer::start_on(config, dir).await
}

/// Every `table.column` of the test server's database whose value, as text, contains
/// `needle` (case-insensitive): the schema is read from the database itself, so a table
/// added later is scanned too.
async fn where_found(server: &TestServer, needle: &str) -> Vec<String> {
    let pattern = format!("%{}%", needle.to_lowercase());
    let mut found = Vec::new();
    match &server.config.database_url {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let columns: Vec<(String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                WHERE table_schema = current_schema() ORDER BY table_name, column_name",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            assert!(columns.len() > 50, "the schema was read: {columns:?}");
            for (table, column) in columns {
                let sql = format!(
                    "SELECT COUNT(*) FROM \"{table}\" WHERE lower(CAST(\"{column}\" AS TEXT)) \
                     LIKE $1"
                );
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(&pattern)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                if n > 0 {
                    found.push(format!("{table}.{column}"));
                }
            }
            pool.close().await;
        }
        None => {
            let path = server.config.data_dir.join("mailtally.db");
            let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display()))
                .await
                .unwrap();
            let columns: Vec<(String, String)> = sqlx::query_as(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                WHERE m.type = 'table' ORDER BY m.name, p.name",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            assert!(columns.len() > 50, "the schema was read: {columns:?}");
            for (table, column) in columns {
                let sql = format!(
                    "SELECT COUNT(*) FROM \"{table}\" WHERE lower(CAST(\"{column}\" AS TEXT)) \
                     LIKE $1"
                );
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(&pattern)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                if n > 0 {
                    found.push(format!("{table}.{column}"));
                }
            }
            pool.close().await;
        }
    }
    found
}

/// Everything that points at Ada: her address, her name, a custom field, a link token
/// and the network her hits came from.
const ADA_DATA: [&str; 5] = [
    "ada@example.org",
    "lovelace",
    "engines ltd",
    "198.51.100.",
    "evt-ada-1",
];

/// Every summary and table the stats API shows, for every range.
const VIEWS: [&str; 12] = [
    "/api/v1/stats/summary?range=7d",
    "/api/v1/stats/summary?range=30d",
    "/api/v1/stats/summary?range=90d",
    "/api/v1/stats/summary?range=all",
    "/api/v1/stats/summary?from=2020-01-01&to=2099-12-31",
    "/api/v1/stats/campaigns?range=7d",
    "/api/v1/stats/campaigns?range=30d",
    "/api/v1/stats/campaigns?range=90d",
    "/api/v1/stats/campaigns?range=all",
    "/api/v1/stats/templates?range=7d",
    "/api/v1/stats/templates?range=all",
    "/api/v1/stats/templates?from=2020-01-01&to=2099-12-31",
];

async fn views(server: &TestServer, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for view in VIEWS {
        all.push(server.get(token, view).await);
    }
    all
}

/// Fetches a tracking URL as a person from `ip` (through the trusted proxy).
async fn hit(server: &TestServer, url: &str, ip: &str) -> reqwest::Response {
    let res = server
        .http
        .get(url)
        .header("user-agent", HUMAN_UA)
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    res
}

fn email_to(to: &str, name: &str) -> Value {
    json!({
        "to": to,
        "to_name": name,
        "subject": format!("For {name}"),
        "html": format!("<p>Hi</p><a href=\"https://example.com/u/{to}/welcome?t=1\">Mine</a>\
            <a href=\"https://example.com/two\">Two</a>"),
        "campaign": "Launch",
        "template": "welcome",
    })
}

#[tokio::test]
async fn erasure_leaves_no_personal_data_and_every_total_unchanged() {
    for backend in backends() {
        erasure(&backend).await;
    }
}

async fn erasure(backend: &Backend) {
    let name = backend.name();
    let server = server_behind_proxy(backend).await;
    let common::Team {
        owner,
        admin,
        partner,
        rep,
        member,
    } = server.team("Acme", "acme.test").await;
    let api = Api::new(&server.running.base_url, &owner);
    let base = server.running.base_url.clone();

    let body = json!({ "email": "Ada@Example.org", "name": "Ada Lovelace", "tags": ["vip"],
        "fields": { "company": "Engines Ltd" } });
    let ada = api
        .expect(201, "POST", "/api/v1/contacts", Some(body))
        .await["id"]
        .as_i64()
        .unwrap();

    // Two sends to Ada and one to Bob, in one campaign; Ada's opened and clicked.
    let mut ada_sends = Vec::new();
    for _ in 0..2 {
        let sent = server
            .send(&owner, email_to("ada@example.org", "Ada Lovelace"))
            .await;
        ada_sends.push(sent["id"].as_i64().unwrap());
    }
    let bob_send = server
        .send(&owner, email_to("bob@example.org", "Bob Ross"))
        .await["id"]
        .as_i64()
        .unwrap();
    let (html, _) = message_parts(&server.outbox_message(ada_sends[0]));
    let ada_open = tracked_urls(&html, &base, "open")[0].clone();
    let ada_click = tracked_urls(&html, &base, "click")[0].clone();
    hit(&server, &ada_open, "198.51.100.77").await;
    hit(&server, &ada_click, "198.51.100.77").await;
    let (html, _) = message_parts(&server.outbox_message(ada_sends[1]));
    hit(
        &server,
        &tracked_urls(&html, &base, "open")[0],
        "198.51.100.78",
    )
    .await;
    let (html, _) = message_parts(&server.outbox_message(bob_send));
    hit(
        &server,
        &tracked_urls(&html, &base, "open")[0],
        "203.0.113.9",
    )
    .await;

    // Ada is in a drip whose step is a day away, and Mailgun reported on her sends.
    let template = api
        .template(
            "Later",
            "Later",
            "<p>Later</p><a href=\"https://example.com/l\">l</a>",
        )
        .await;
    let body = json!({ "name": "Nurture", "kind": "drip",
        "steps": [{ "template_id": template, "delay": "1d" }] });
    let drip = api
        .expect(201, "POST", "/api/v1/campaigns", Some(body))
        .await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/campaigns/{drip}/enrollments");
    api.expect(200, "POST", &path, Some(json!({ "contact_ids": [ada] })))
        .await;
    raw_sql(
        &server,
        &format!(
            "INSERT INTO mailgun_events (event_id, send_id, processed_at) \
             VALUES ('evt-ada-1', {}, 1)",
            ada_sends[0]
        ),
    )
    .await;
    raw_sql(
        &server,
        &format!(
            "UPDATE sends SET error = '550 5.1.1 <ada@example.org>: no such user' \
             WHERE id = {}",
            ada_sends[1]
        ),
    )
    .await;

    // The scan finds Ada's data everywhere it was put, so finding none later means
    // something.
    let found = where_found(&server, "ada@example.org").await;
    for place in [
        "contacts.email",
        "sends.to_email",
        "send_links.url",
        "sends.error",
    ] {
        assert!(found.contains(&place.to_string()), "{name}: {found:?}");
    }
    assert!(
        where_found(&server, "198.51.100.")
            .await
            .contains(&"events.ip".to_string())
    );
    let before = views(&server, &owner).await;
    assert_eq!(before[3]["sends"], 3, "{name}: {}", before[3]);

    // Only owners and admins export or erase.
    let export_path = format!("/api/v1/contacts/{ada}/export");
    let erase_path = format!("/api/v1/contacts/{ada}/erase");
    for token in [&partner, &rep, &member] {
        let other = Api::new(&base, token);
        other.expect(403, "GET", &export_path, None).await;
        other.expect(403, "POST", &erase_path, None).await;
    }

    // The export holds everything stored about Ada.
    let export = Api::new(&base, &admin).get(&export_path).await;
    let contact = &export["contact"];
    assert_eq!(contact["email"], "ada@example.org", "{name}: {export}");
    assert_eq!(contact["name"], "Ada Lovelace");
    assert_eq!(contact["fields"]["company"], "Engines Ltd");
    assert_eq!(contact["tags"], json!(["vip"]));
    let sends = export["sends"].as_array().unwrap();
    let ids: Vec<i64> = sends.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, ada_sends, "{name}: only Ada's sends");
    let first = &sends[0];
    assert_eq!(first["to_email"], "ada@example.org");
    assert_eq!(first["subject"], "For Ada Lovelace");
    assert_eq!(first["campaign"], "Launch");
    assert_eq!(first["tracked"], true);
    let events = first["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{name}: the open and the click: {first}");
    assert!(
        events.iter().all(|e| e["ip"] == "198.51.100.0"),
        "{events:?}"
    );
    assert!(
        first["links"][0]["url"]
            .as_str()
            .unwrap()
            .contains("/u/ada@example.org/")
    );
    assert_eq!(first["provider_events"][0]["event_id"], "evt-ada-1");
    assert_eq!(sends[1]["events"].as_array().unwrap().len(), 1);
    assert_eq!(export["enrollments"][0]["campaign"], "Nurture");
    assert_eq!(export["enrollments"][0]["status"], "active");
    let stored_events: usize = sends
        .iter()
        .map(|s| s["events"].as_array().unwrap().len())
        .sum();

    // The owner erases Ada.
    let erased = api.expect(200, "POST", &erase_path, None).await;
    assert_eq!(erased["already_erased"], false, "{name}: {erased}");
    assert_eq!(erased["sends"], 2);
    assert_eq!(erased["events_deleted"], stored_events as i64);
    assert_eq!(erased["enrollments_stopped"], 1);
    assert_eq!(erased["provider_events_deleted"], 1);
    assert_eq!(erased["message_copies_deleted"], 2);

    for needle in ADA_DATA {
        let found = where_found(&server, needle).await;
        assert!(found.is_empty(), "{name}: {needle:?} is still in {found:?}");
    }
    for id in &ada_sends {
        let eml = server.config.outbox_dir().join(format!("{id}.eml"));
        assert!(!eml.exists(), "{name}: {} is deleted", eml.display());
    }
    // Bob is untouched.
    assert!(!where_found(&server, "bob@example.org").await.is_empty());
    assert!(
        where_found(&server, "203.0.113.")
            .await
            .contains(&"events.ip".to_string())
    );
    assert!(
        server
            .config
            .outbox_dir()
            .join(format!("{bob_send}.eml"))
            .exists()
    );

    // Every figure of every range is what it was.
    let after = views(&server, &owner).await;
    for ((view, old), new) in VIEWS.iter().zip(&before).zip(&after) {
        assert_eq!(old, new, "{name} {view}");
    }

    // Ada's contact is a blocked stand-in, never emailed and never changed again.
    let contact = api.get(&format!("/api/v1/contacts/{ada}")).await;
    assert_eq!(contact["email"], format!("erased-{ada}@erased.invalid"));
    assert_eq!(contact["status"], "blocked");
    assert_eq!(contact["status_reason"], "erased");
    assert!(contact["erased_at"].as_i64().is_some(), "{contact}");
    assert_eq!(contact["tags"], json!([]));
    let stand_in = json!({ "to": contact["email"], "subject": "Hi", "html": "<p>Hi</p>" });
    api.expect(409, "POST", "/api/v1/sends", Some(stand_in))
        .await;
    let path = format!("/api/v1/contacts/{ada}");
    api.expect(409, "PATCH", &path, Some(json!({ "name": "Ada" })))
        .await;

    // Her old pixel and link still answer, but store nothing; the link goes to its origin.
    hit(&server, &ada_open, "198.51.100.77").await;
    let res = hit(&server, &ada_click, "198.51.100.77").await;
    assert_eq!(res.headers()["location"], "https://example.com/", "{name}");
    assert!(
        where_found(&server, "198.51.100.").await.is_empty(),
        "{name}"
    );
    let after_hits = views(&server, &owner).await;
    assert_eq!(after_hits, before, "{name}: late hits change no figure");

    // What is left to export names nobody; erasing again changes nothing.
    let export = api.get(&export_path).await.to_string();
    for needle in ADA_DATA {
        assert!(
            !export.to_lowercase().contains(needle),
            "{name}: {needle} in {export}"
        );
    }
    let again = api.expect(200, "POST", &erase_path, None).await;
    assert_eq!(again["already_erased"], true, "{name}: {again}");

    cli_export_and_erase(&server, "bob@example.org").await;
    assert!(
        where_found(&server, "bob@example.org").await.is_empty(),
        "{name}"
    );
    assert!(
        where_found(&server, "203.0.113.").await.is_empty(),
        "{name}"
    );
    assert_eq!(
        views(&server, &owner).await,
        before,
        "{name}: after the CLI erasure"
    );
    server.stop().await;
}

/// `mailtally contact export` and `erase` on the server's database, as an operator would.
async fn cli_export_and_erase(server: &TestServer, email: &str) {
    let run = |command: &str| {
        let mut cli = Command::new(env!("CARGO_BIN_EXE_mailtally"));
        cli.args(["contact", command, "--org", "Acme", "--email", email])
            .arg("--data-dir")
            .arg(&server.config.data_dir)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn");
        if let Some(url) = &server.config.database_url {
            cli.args(["--database-url", url]);
        }
        let out = cli.output().expect("running mailtally");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "contact {command}: {stdout}\n{stderr}"
        );
        stdout
    };
    let export: Value = serde_json::from_str(&run("export")).expect("the export is JSON");
    assert_eq!(export["contact"]["email"], email);
    assert_eq!(export["sends"].as_array().unwrap().len(), 1, "{export}");
    assert_eq!(export["sends"][0]["events"].as_array().unwrap().len(), 1);
    let erased = run("erase");
    assert!(erased.contains("erased contact"), "{erased}");
    assert!(
        !erased.contains(email),
        "the CLI names contacts by id: {erased}"
    );
}
