//! Drip campaigns end to end (issue 5): the scheduler inside the server sends each step
//! once per contact, in order, and blocking or unsubscribing stops the later steps.

mod common;
mod crm_support;

use std::time::Duration;

use common::{Backend, TestServer, backends, test_config};
use crm_support::{Api, expected_steps};
use mailtally::store::Role;
use serde_json::json;

/// A server whose scheduler looks for due steps every 50 ms.
async fn fast_server(backend: &Backend) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(backend, dir.path().to_path_buf(), true).await;
    config.scheduler.interval_ms = 50;
    TestServer::start_on(config, dir).await
}

#[tokio::test]
async fn three_step_drip_sends_each_step_once_in_order_on_every_backend() {
    for backend in backends() {
        three_step_drip(&backend).await;
    }
}

async fn three_step_drip(backend: &Backend) {
    let server = fast_server(backend).await;
    let token = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let api = Api::new(&server.running.base_url, &token);

    let people = [
        ("ada@example.org", "Ada Lovelace"),
        ("Bob@Example.org", "Bob Ross"),
    ];
    for (email, name) in people {
        api.contact(email, name, &["drip"]).await;
    }
    api.contact("carol@example.org", "Carol", &["other"]).await;
    let campaign = api.drip("Onboarding", "drip", &[0, 300, 300]).await;
    let launched = api.launch(campaign).await;
    assert_eq!(launched["enrolled"], 2, "{}", backend.name());

    api.wait_for(campaign, Duration::from_secs(20), |c| {
        c["counts"]["finished"] == 2
    })
    .await;
    // A few more scheduler runs, to see nothing more goes out.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let outbox = server.config.outbox_dir();
    let got = api.subjects_by_recipient(campaign, &[&outbox]).await;
    assert_eq!(got.len(), 2, "{} {got:?}", backend.name());
    assert_eq!(
        got["ada@example.org"],
        expected_steps("Ada", 3),
        "{}",
        backend.name()
    );
    assert_eq!(
        got["bob@example.org"],
        expected_steps("Bob", 3),
        "{}",
        backend.name()
    );

    let counts = api.campaign(campaign).await["counts"].clone();
    for step in counts["steps"].as_array().unwrap() {
        assert_eq!(step["sent"], 2, "{} {counts}", backend.name());
        assert_eq!(step["suppressed"], 0);
    }
    let enrollments = api
        .get(&format!("/api/v1/campaigns/{campaign}/enrollments"))
        .await;
    for enrollment in enrollments["enrollments"].as_array().unwrap() {
        assert_eq!(enrollment["status"], "finished");
        assert_eq!(enrollment["next_step"], 3);
    }
    server.stop().await;
}

#[tokio::test]
async fn blocking_or_unsubscribing_mid_sequence_stops_later_steps_on_every_backend() {
    for backend in backends() {
        suppression_mid_sequence(&backend).await;
    }
}

async fn suppression_mid_sequence(backend: &Backend) {
    let server = fast_server(backend).await;
    let token = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let api = Api::new(&server.running.base_url, &token);

    let stays = api.contact("stays@example.org", "Stay", &["seq"]).await;
    let blocked = api.contact("blocked@example.org", "Block", &["seq"]).await;
    api.contact("leaves@example.org", "Leave", &["seq"]).await;
    let before = api.contact("before@example.org", "Early", &["seq"]).await;
    api.expect(
        200,
        "PATCH",
        &format!("/api/v1/contacts/{before}"),
        Some(json!({ "status": "unsubscribed" })),
    )
    .await;

    let by_id = api.contact("byid@example.org", "Direct", &[]).await;

    // Step 2 waits long enough for the test to act between the steps.
    let campaign = api.drip("Sequence", "seq", &[0, 2500, 100]).await;
    api.launch(campaign).await;
    let enrollments = format!("/api/v1/campaigns/{campaign}/enrollments");
    let enrolled = api
        .expect(
            200,
            "POST",
            &enrollments,
            Some(json!({ "contact_ids": [by_id, stays] })),
        )
        .await;
    assert_eq!(enrolled, json!({ "enrolled": 1, "already": 1 }));
    api.wait_for(campaign, Duration::from_secs(20), |c| {
        c["counts"]["steps"][0]["sent"] == 4 && c["counts"]["steps"][0]["suppressed"] == 1
    })
    .await;

    // One contact leaves this campaign only, through its enrollment.
    api.expect(204, "DELETE", &format!("{enrollments}/{by_id}"), None)
        .await;
    api.expect(404, "DELETE", &format!("{enrollments}/{by_id}"), None)
        .await;

    // One contact is blocked by hand, one uses the unsubscribe link of its first email.
    api.expect(
        200,
        "PATCH",
        &format!("/api/v1/contacts/{blocked}"),
        Some(json!({ "status": "blocked" })),
    )
    .await;
    let outbox = server.config.outbox_dir();
    let recipients = api
        .get(&format!(
            "/api/v1/stats/campaigns/{campaign}/recipients?range=all"
        ))
        .await;
    let leaves_send = recipients["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["email"] == "leaves@example.org")
        .unwrap()["send_id"]
        .as_i64()
        .unwrap();
    let (html, _) = common::message_parts(&server.outbox_message(leaves_send));
    let start = html.find("/unsubscribe/").unwrap();
    let end = start + html[start..].find('"').unwrap();
    let link = format!("{}{}", server.running.base_url, &html[start..end]);
    let res = server.http.post(&link).send().await.unwrap();
    assert_eq!(res.status(), 200, "{link}");

    api.wait_for(campaign, Duration::from_secs(20), |c| {
        c["counts"]["active"] == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let got = api.subjects_by_recipient(campaign, &[&outbox]).await;
    assert_eq!(
        got["stays@example.org"],
        expected_steps("Stay", 3),
        "{}",
        backend.name()
    );
    assert_eq!(
        got["blocked@example.org"],
        expected_steps("Block", 1),
        "{}",
        backend.name()
    );
    assert_eq!(
        got["leaves@example.org"],
        expected_steps("Leave", 1),
        "{}",
        backend.name()
    );
    assert_eq!(
        got["byid@example.org"],
        expected_steps("Direct", 1),
        "{}",
        backend.name()
    );
    assert!(!got.contains_key("before@example.org"), "{got:?}");

    let counts = api.campaign(campaign).await["counts"].clone();
    assert_eq!(counts["finished"], 1, "{counts}");
    assert_eq!(counts["stopped"], 4, "{counts}");
    assert_eq!(counts["steps"][0]["suppressed"], 1, "{counts}");
    assert_eq!(counts["steps"][1]["sent"], 1, "{counts}");
    assert_eq!(counts["steps"][2]["sent"], 1, "{counts}");

    let stays_now = api.get(&format!("/api/v1/contacts/{stays}")).await;
    assert_eq!(stays_now["status"], "active");
    let blocked_now = api.get(&format!("/api/v1/contacts/{blocked}")).await;
    assert_eq!(blocked_now["status"], "blocked");
    assert_eq!(blocked_now["status_reason"], "manual");
    server.stop().await;
}

#[tokio::test]
async fn a_broadcast_sends_once_per_tagged_contact_and_counts_suppressed_on_every_backend() {
    for backend in backends() {
        broadcast(&backend).await;
    }
}

async fn broadcast(backend: &Backend) {
    let server = fast_server(backend).await;
    let token = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let api = Api::new(&server.running.base_url, &token);

    for i in 0..3 {
        api.contact(&format!("n{i}@example.org"), &format!("N{i}"), &["news"])
            .await;
    }
    let gone = api.contact("gone@example.org", "Gone", &["news"]).await;
    api.expect(
        200,
        "PATCH",
        &format!("/api/v1/contacts/{gone}"),
        Some(json!({ "status": "blocked" })),
    )
    .await;
    let template = api
        .template("News", "News for {{ first_name }}", "<p>News</p>")
        .await;
    let body = json!({ "name": "March news", "kind": "broadcast", "template_id": template,
        "tag": "news" });
    let created = api
        .expect(201, "POST", "/api/v1/campaigns", Some(body))
        .await;
    let campaign = created["id"].as_i64().unwrap();
    assert_eq!(created["steps"].as_array().unwrap().len(), 1);

    assert_eq!(
        api.launch(campaign).await,
        json!({ "enrolled": 4, "already": 0 })
    );
    api.wait_for(campaign, Duration::from_secs(20), |c| {
        c["counts"]["active"] == 0
    })
    .await;
    assert_eq!(
        api.launch(campaign).await,
        json!({ "enrolled": 0, "already": 4 })
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    let counts = api.campaign(campaign).await["counts"].clone();
    assert_eq!(counts["steps"][0]["sent"], 3, "{} {counts}", backend.name());
    assert_eq!(counts["steps"][0]["suppressed"], 1, "{counts}");
    let outbox = server.config.outbox_dir();
    let got = api.subjects_by_recipient(campaign, &[&outbox]).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got["n1@example.org"], ["News for N1"]);
    server.stop().await;
}
