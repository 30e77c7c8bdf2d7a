//! Tracking is opt-in, and a send, a campaign, a drip step or a contact can opt out of it:
//! each yields a send marked untracked whose email carries no pixel and no tracked link,
//! counted in the sends and left out of every rate.

mod common;
mod crm_support;

use std::time::Duration;

use common::{
    Backend, HUMAN_UA, TestServer, backends, message_parts, simple_email, test_config, tracked_urls,
};
use crm_support::Api;
use mailtally::store::Role;
use serde_json::{Value, json};

/// Whether the outbox message of a send is instrumented: its pixel and tracked links.
fn instrumented(server: &TestServer, send_id: i64) -> (usize, usize) {
    let (html, text) = message_parts(&server.outbox_message(send_id));
    let base = &server.running.base_url;
    let text = text.unwrap_or_default();
    let opens = tracked_urls(&html, base, "open").len();
    let clicks =
        tracked_urls(&html, base, "click").len() + tracked_urls(&text, base, "click").len();
    (opens, clicks)
}

fn assert_untracked(server: &TestServer, send_id: i64, what: &str) {
    assert_eq!(
        instrumented(server, send_id),
        (0, 0),
        "{what}: send {send_id} must carry no pixel and no tracked link"
    );
    let (html, _) = message_parts(&server.outbox_message(send_id));
    assert!(
        html.contains("https://example.com/"),
        "{what}: the author's links stay as written"
    );
}

fn assert_tracked(server: &TestServer, send_id: i64, what: &str) {
    let (opens, clicks) = instrumented(server, send_id);
    assert!(
        opens == 1 && clicks >= 1,
        "{what}: send {send_id} is instrumented"
    );
}

#[tokio::test]
async fn tracking_off_then_on_instruments_only_later_sends() {
    for backend in backends() {
        let name = backend.name();
        let server = TestServer::start_with(&backend, false).await;
        let owner = server
            .user("Acme", "owner@acme.test", Role::Owner, None)
            .await;
        let first = server
            .send(&owner, simple_email("first@example.org", "Launch"))
            .await;
        assert_eq!(first["tracked"], false, "{name}: {first}");
        assert_eq!(first["instrumentation"]["links_rewritten"], 0);
        let first_id = first["id"].as_i64().unwrap();
        assert_untracked(&server, first_id, "tracking off");

        // The operator turns tracking on and restarts, on the same database.
        let server = server.restart_with(|c| c.tracking_enabled = true).await;
        let second = server
            .send(&owner, simple_email("second@example.org", "Launch"))
            .await;
        assert_eq!(second["tracked"], true, "{name}: {second}");
        let second_id = second["id"].as_i64().unwrap();
        assert_tracked(&server, second_id, "tracking on");
        // The earlier send stays untracked: turning tracking on affects later sends only.
        let detail = server
            .get(&owner, &format!("/api/v1/sends/{first_id}"))
            .await;
        assert_eq!(detail["tracked"], 0, "{name}: {detail}");
        assert!(detail["links"].as_array().unwrap().is_empty());

        // The second send is opened; rates are over the one tracked send.
        let (html, _) = message_parts(&server.outbox_message(second_id));
        let open = tracked_urls(&html, &server.running.base_url, "open")[0].clone();
        let status = server
            .http
            .get(&open)
            .header("user-agent", HUMAN_UA)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success());

        let summary = server.get(&owner, "/api/v1/stats/summary?range=all").await;
        assert_eq!(summary["sends"], 2, "{name}: {summary}");
        assert_eq!(summary["tracked"], 1);
        assert_eq!(summary["untracked"], 1);
        assert_eq!(summary["opened"], 1);
        assert_eq!(
            summary["open_rate"], 1.0,
            "the denominator is the tracked send"
        );
        let rows = server
            .get(&owner, "/api/v1/stats/campaigns?range=all")
            .await;
        let row = &rows["rows"][0];
        assert_eq!(
            (&row["sends"], &row["tracked"], &row["untracked"]),
            (&json!(2), &json!(1), &json!(1)),
            "{name}: {rows}"
        );
        assert_eq!(row["open_rate"], 1.0);
        let path = format!("/api/v1/stats/campaigns/{}/recipients?range=all", row["id"]);
        let recipients = server.get(&owner, &path).await;
        let labels: Vec<(String, bool)> = recipients["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let email = r["email"].as_str().unwrap().to_string();
                (email, r["tracked"].as_bool().unwrap())
            })
            .collect();
        assert!(
            labels.contains(&("first@example.org".into(), false)),
            "{labels:?}"
        );
        assert!(
            labels.contains(&("second@example.org".into(), true)),
            "{labels:?}"
        );
        server.stop().await;
    }
}

/// A server with tracking on whose scheduler looks for due steps every 50 ms.
async fn fast_server(backend: &Backend) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(backend, dir.path().to_path_buf(), true).await;
    config.scheduler.interval_ms = 50;
    TestServer::start_on(config, dir).await
}

#[tokio::test]
async fn a_send_and_a_contact_can_opt_out() {
    for backend in backends() {
        let name = backend.name();
        let server = fast_server(&backend).await;
        let owner = server
            .user("Acme", "owner@acme.test", Role::Owner, None)
            .await;
        let api = Api::new(&server.running.base_url, &owner);

        // One send opts out; the next one to the same person is tracked again.
        let mut body = simple_email("one@example.org", "Sends");
        body["track"] = json!(false);
        let opted_out = server.send(&owner, body).await;
        assert_eq!(opted_out["tracked"], false, "{name}: {opted_out}");
        assert_untracked(&server, opted_out["id"].as_i64().unwrap(), "send opt-out");
        let control = server
            .send(&owner, simple_email("one@example.org", "Sends"))
            .await;
        assert_eq!(control["tracked"], true, "{name}");
        assert_tracked(&server, control["id"].as_i64().unwrap(), "control");

        // A contact created with "don't track me".
        let body = json!({ "email": "Private@Example.org", "name": "Pri", "no_track": true });
        let created = api
            .expect(201, "POST", "/api/v1/contacts", Some(body))
            .await;
        assert_eq!(created["no_track"], true, "{name}: {created}");
        let sent = server
            .send(&owner, simple_email("private@example.org", "Sends"))
            .await;
        assert_eq!(sent["tracked"], false, "{name}: {sent}");
        assert_untracked(&server, sent["id"].as_i64().unwrap(), "contact opt-out");
        // Through the CRM send too.
        let path = format!("/api/v1/contacts/{}/send", created["id"]);
        let body = json!({ "subject": "Hi", "html": "<a href=\"https://example.com/x\">x</a>" });
        let crm = api.expect(201, "POST", &path, Some(body)).await;
        assert_eq!(crm["tracked"], false, "{name}: {crm}");
        assert_untracked(
            &server,
            crm["id"].as_i64().unwrap(),
            "contact opt-out, CRM send",
        );

        // A contact first met through a send opts out later, by PATCH, and back in.
        let found = api.get("/api/v1/contacts?email=one@example.org").await;
        let one = found["contacts"][0]["id"].as_i64().unwrap();
        let path = format!("/api/v1/contacts/{one}");
        let patched = api
            .expect(200, "PATCH", &path, Some(json!({ "no_track": true })))
            .await;
        assert_eq!(patched["no_track"], true, "{name}: {patched}");
        let sent = server
            .send(&owner, simple_email("one@example.org", "Sends"))
            .await;
        assert_eq!(sent["tracked"], false, "{name}: after PATCH");
        assert_untracked(
            &server,
            sent["id"].as_i64().unwrap(),
            "contact PATCH opt-out",
        );
        api.expect(200, "PATCH", &path, Some(json!({ "no_track": false })))
            .await;
        let sent = server
            .send(&owner, simple_email("one@example.org", "Sends"))
            .await;
        assert_eq!(sent["tracked"], true, "{name}: opted back in");

        // A CSV import sets the choice; an empty cell leaves it as it is.
        let (status, report) = api
            .import_csv("email,name,no_track\ncsv@example.org,Csv,yes\n")
            .await;
        assert_eq!(status, 201, "{name}: {report}");
        let sent = server
            .send(&owner, simple_email("csv@example.org", "Sends"))
            .await;
        assert_eq!(sent["tracked"], false, "{name}: CSV opt-out");
        let (status, _) = api.import_csv("email,no_track\ncsv@example.org,\n").await;
        assert_eq!(status, 201);
        let found = api.get("/api/v1/contacts?email=csv@example.org").await;
        assert_eq!(found["contacts"][0]["no_track"], true, "{name}: kept");

        // Untracked sends count as sends and stay out of the rates.
        let summary = server.get(&owner, "/api/v1/stats/summary?range=all").await;
        assert_eq!(summary["sends"], 7, "{name}: {summary}");
        assert_eq!(summary["tracked"], 2, "{name}: {summary}");
        assert_eq!(summary["untracked"], 5, "{name}: {summary}");
        server.stop().await;
    }
}

/// The send ids and tracked flags of a campaign's recipients, by send id.
async fn campaign_sends(api: &Api, campaign_id: i64) -> Vec<(i64, String, bool)> {
    let path = format!("/api/v1/stats/campaigns/{campaign_id}/recipients?range=all");
    let recipients = api.get(&path).await;
    let mut sends: Vec<(i64, String, bool)> = recipients["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["send_id"].as_i64().unwrap(),
                r["email"].as_str().unwrap().to_string(),
                r["tracked"].as_bool().unwrap(),
            )
        })
        .collect();
    sends.sort();
    sends
}

async fn template(api: &Api, name: &str) -> i64 {
    api.template(
        name,
        &format!("{name} for {{{{ first_name }}}}"),
        "<p>Hello</p><a href=\"https://example.com/read\">Read</a>",
    )
    .await
}

#[tokio::test]
async fn a_campaign_and_a_drip_step_can_opt_out() {
    for backend in backends() {
        let name = backend.name();
        let server = fast_server(&backend).await;
        let owner = server
            .user("Acme", "owner@acme.test", Role::Owner, None)
            .await;
        let api = Api::new(&server.running.base_url, &owner);
        api.contact("ada@example.org", "Ada Lovelace", &["news"])
            .await;
        api.contact("bob@example.org", "Bob Ross", &["news"]).await;

        // A broadcast that opts out as a whole.
        let news = template(&api, "News").await;
        let body = json!({ "name": "Quiet news", "kind": "broadcast", "template_id": news,
            "tag": "news", "track": false });
        let quiet = api
            .expect(201, "POST", "/api/v1/campaigns", Some(body))
            .await;
        assert_eq!(quiet["track"], false, "{name}: {quiet}");
        let quiet = quiet["id"].as_i64().unwrap();
        api.launch(quiet).await;
        api.wait_for(quiet, Duration::from_secs(20), |c| {
            c["counts"]["steps"][0]["sent"] == 2
        })
        .await;
        let sends = campaign_sends(&api, quiet).await;
        assert_eq!(sends.len(), 2, "{name}: {sends:?}");
        for (send_id, _, tracked) in &sends {
            assert!(!tracked, "{name}: campaign opt-out");
            assert_untracked(&server, *send_id, "campaign opt-out");
        }

        // A drip whose second step opts out; the first stays tracked.
        let first = template(&api, "Welcome").await;
        let second = template(&api, "Follow-up").await;
        let body = json!({ "name": "Onboarding", "kind": "drip", "tag": "news", "steps": [
            { "template_id": first, "delay_ms": 0 },
            { "template_id": second, "delay_ms": 0, "track": false },
        ]});
        let drip = api
            .expect(201, "POST", "/api/v1/campaigns", Some(body))
            .await;
        assert_eq!(drip["track"], true, "{name}: {drip}");
        let steps: Vec<&Value> = drip["steps"].as_array().unwrap().iter().collect();
        assert_eq!(
            (&steps[0]["track"], &steps[1]["track"]),
            (&json!(true), &json!(false))
        );
        let drip = drip["id"].as_i64().unwrap();
        api.launch(drip).await;
        api.wait_for(drip, Duration::from_secs(20), |c| {
            c["counts"]["finished"] == 2
        })
        .await;
        let sends = campaign_sends(&api, drip).await;
        assert_eq!(sends.len(), 4, "{name}: {sends:?}");
        for email in ["ada@example.org", "bob@example.org"] {
            let mine: Vec<&(i64, String, bool)> =
                sends.iter().filter(|(_, e, _)| e == email).collect();
            assert_eq!(mine.len(), 2, "{name}: {sends:?}");
            // Send ids grow with time, so the first is step 1.
            assert!(mine[0].2, "{name}: step 1 is tracked");
            assert_tracked(&server, mine[0].0, "drip step 1");
            assert!(!mine[1].2, "{name}: step 2 opted out");
            assert_untracked(&server, mine[1].0, "drip step opt-out");
        }

        let rows = server
            .get(&owner, "/api/v1/stats/campaigns?range=all")
            .await;
        for row in rows["rows"].as_array().unwrap() {
            let expected = if row["name"] == "Onboarding" { 2 } else { 0 };
            assert_eq!(row["tracked"], expected, "{name}: {row}");
            assert_eq!(
                row["sends"].as_i64().unwrap() - row["untracked"].as_i64().unwrap(),
                expected
            );
        }
        server.stop().await;
    }
}
