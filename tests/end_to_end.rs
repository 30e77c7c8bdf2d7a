//! The main job end to end over HTTP: send, open, click, count, on every backend.

mod common;

use common::{Backend, HUMAN_UA, TestServer, backends, message_parts, simple_email, tracked_urls};
use mailtally::store::Role;
use serde_json::{Value, json};

#[tokio::test]
async fn one_send_one_open_one_click_on_every_backend() {
    for backend in backends() {
        one_send_one_open_one_click(&backend).await;
    }
}

async fn one_send_one_open_one_click(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let token = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;

    let sent = server
        .send(&token, simple_email("reader@example.org", "Launch"))
        .await;
    assert_eq!(sent["tracked"], true, "{}", backend.name());
    assert_eq!(sent["status"], "sent");
    let id = sent["id"].as_i64().unwrap();

    let (html, text) = message_parts(&server.outbox_message(id));
    let base = &server.running.base_url;
    let opens = tracked_urls(&html, base, "open");
    assert_eq!(opens.len(), 1, "one pixel: {html}");
    assert_eq!(
        html.matches(opens[0].as_str()).count(),
        1,
        "the pixel appears once"
    );
    let clicks = tracked_urls(&html, base, "click");
    assert!(
        html.contains("href=\"https://example.com/private\""),
        "no-track link untouched"
    );
    assert!(
        html.contains("/unsubscribe/"),
        "footer with unsubscribe link"
    );
    assert!(text.unwrap().contains("/unsubscribe/"), "text footer");

    let pixel = server.http.get(&opens[0]).send().await.unwrap();
    assert_eq!(pixel.status(), 200);
    assert_eq!(pixel.headers()["content-type"], "image/gif");
    assert!(
        pixel.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );

    let redirect = server.http.get(&clicks[0]).send().await.unwrap();
    assert_eq!(redirect.status(), 302);
    let location = redirect.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("https://example.com/"), "{location}");

    let summary = server.get(&token, "/api/v1/stats/summary?range=7d").await;
    assert_eq!(summary["sends"], 1, "{} {summary}", backend.name());
    assert_eq!(summary["opened"], 1, "{} {summary}", backend.name());
    assert_eq!(summary["clicked"], 1, "{} {summary}", backend.name());
    assert_eq!(summary["open_rate"], 1.0);
    assert_eq!(summary["click_rate"], 1.0);
    assert_eq!(summary["failed"], 0);

    let rows = server
        .get(&token, "/api/v1/stats/campaigns?range=all")
        .await;
    assert_eq!(rows["rows"][0]["name"], "Launch");
    assert_eq!(rows["rows"][0]["opened"], 1);
    let campaign_id = rows["rows"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/stats/campaigns/{campaign_id}/recipients");
    let recipients = server.get(&token, &path).await;
    let first = &recipients["recipients"][0];
    assert_eq!(first["email"], "reader@example.org");
    assert_eq!(first["opens"], 1);
    assert_eq!(first["clicks"], 1);
    assert!(first["first_opened_at"].as_i64().is_some());
    assert_eq!(
        first["clicked_links"].as_array().unwrap().len(),
        1,
        "{first}"
    );
    assert_eq!(first["clicked_links"][0]["clicks"], 1);

    let detail = server.get(&token, &format!("/api/v1/sends/{id}")).await;
    let clicked: Vec<&Value> = detail["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["clicks"] == 1)
        .collect();
    assert_eq!(clicked.len(), 1, "{detail}");
    assert_eq!(clicked[0]["url"].as_str(), Some(location.as_str()));
    assert_eq!(first["clicked_links"][0]["url"], clicked[0]["url"]);
    assert_eq!(detail["events"].as_array().unwrap().len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn untracked_sends_are_counted_but_not_instrumented() {
    for backend in backends() {
        let server = TestServer::start_with(&backend, false).await;
        let token = server
            .user("Acme", "owner@acme.test", Role::Owner, None)
            .await;
        let sent = server
            .send(&token, simple_email("reader@example.org", "Quiet"))
            .await;
        assert_eq!(sent["tracked"], false);
        let (html, _) = message_parts(&server.outbox_message(sent["id"].as_i64().unwrap()));
        assert!(!html.contains("/track/"), "nothing instrumented: {html}");
        assert!(html.contains("href=\"https://example.com/two\""));
        assert!(
            html.contains("/unsubscribe/"),
            "the footer is there without tracking"
        );
        let summary = server.get(&token, "/api/v1/stats/summary").await;
        assert_eq!(summary["sends"], 1);
        assert_eq!(summary["tracked"], 0);
        assert_eq!(summary["untracked"], 1);
        assert_eq!(summary["open_rate"], 0.0);
        server.stop().await;
    }
}

#[tokio::test]
async fn each_role_sees_only_what_it_may() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let common::Team {
            owner,
            admin,
            partner,
            rep,
            member,
        } = server.team("Acme", "acme.test").await;
        let peer = server
            .user("Acme", "peer@acme.test", Role::Partner, None)
            .await;
        let other = server
            .user("Globex", "owner@globex.test", Role::Owner, None)
            .await;

        // Each user sends a different number of emails, so counts tell them apart.
        let plan = [
            (&owner, 1),
            (&partner, 2),
            (&peer, 3),
            (&rep, 4),
            (&member, 5),
            (&other, 6),
        ];
        for (token, count) in plan {
            for i in 0..count {
                let to = format!("r{i}@example.org");
                server.send(token, simple_email(&to, "Roles")).await;
            }
        }

        let sends = |token: String| {
            let server = &server;
            async move {
                let summary = server.get(&token, "/api/v1/stats/summary?range=all").await;
                summary["sends"].as_i64().unwrap()
            }
        };
        assert_eq!(
            sends(owner.clone()).await,
            15,
            "{}: owner sees the organisation",
            backend.name()
        );
        assert_eq!(sends(admin).await, 15, "admin sees the organisation");
        assert_eq!(sends(partner).await, 2, "a partner sees only its own sends");
        assert_eq!(sends(peer).await, 3, "not a peer partner's");
        assert_eq!(
            sends(rep.clone()).await,
            4,
            "a sales rep does not see its partner's"
        );
        assert_eq!(sends(member).await, 5, "a member sees its own");
        assert_eq!(
            sends(other.clone()).await,
            6,
            "another organisation sees only its own"
        );

        // Drill-downs and send details follow the same scope.
        let rows = server
            .get(&other, "/api/v1/stats/campaigns?range=all")
            .await;
        let globex_campaign = rows["rows"][0]["id"].as_i64().unwrap();
        let path = format!("/api/v1/stats/campaigns/{globex_campaign}/recipients?range=all");
        let seen = server.get(&owner, &path).await;
        assert_eq!(
            seen["recipients"].as_array().unwrap().len(),
            0,
            "no cross-org rows"
        );
        let seen = server.get(&rep, "/api/v1/stats/campaigns?range=all").await;
        assert_eq!(seen["rows"][0]["sends"], 4);

        let owner_send = server
            .send(&owner, simple_email("x@example.org", "Roles"))
            .await;
        let path = format!("/api/v1/sends/{}", owner_send["id"]);
        let res = server
            .http
            .get(server.url(&path))
            .bearer_auth(&rep)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            404,
            "a sales rep cannot read the owner's send"
        );
        let res = server
            .http
            .get(server.url(&path))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "another organisation cannot read it");
        server.stop().await;
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let server = TestServer::start(&Backend::Sqlite).await;
    let token = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let url = server.url("/api/v1/sends");
    let http = &server.http;

    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "malformed JSON",
            http.post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("{\"to\": "),
            400,
        ),
        (
            "unknown field",
            http.post(&url).bearer_auth(&token).json(&json!({
                "to": "a@example.org", "subject": "s", "html": "<p>x</p>", "colour": "red"
            })),
            400,
        ),
        (
            "missing field",
            http.post(&url)
                .bearer_auth(&token)
                .json(&json!({"to": "a@example.org"})),
            400,
        ),
        (
            "bad address",
            http.post(&url).bearer_auth(&token).json(&json!({
                "to": "not an address", "subject": "s", "html": "<p>x</p>"
            })),
            400,
        ),
        (
            "missing auth",
            http.post(&url).json(&simple_email("a@example.org", "c")),
            401,
        ),
        (
            "wrong token",
            http.post(&url)
                .bearer_auth("mt_wrong")
                .json(&simple_email("a@example.org", "c")),
            401,
        ),
        (
            "oversize body",
            http.post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(format!(
                    "{{\"to\":\"a@example.org\",\"subject\":\"s\",\"html\":\"{}\"}}",
                    "x".repeat(4 * 1024 * 1024)
                )),
            413,
        ),
        (
            "not JSON",
            http.post(&url)
                .bearer_auth(&token)
                .header("content-type", "text/plain")
                .body("hi"),
            415,
        ),
        (
            "line break in to_name",
            http.post(&url).bearer_auth(&token).json(&json!({
                "to": "a@example.org", "to_name": "New\nLine", "subject": "s", "html": "<p>x</p>"
            })),
            400,
        ),
        (
            "NUL in the subject",
            http.post(&url).bearer_auth(&token).json(&json!({
                "to": "a@example.org", "subject": "a\u{0}b", "html": "<p>x</p>"
            })),
            400,
        ),
        (
            "a date past year 9998",
            http.get(server.url("/api/v1/stats/summary?from=2026-01-01&to=9999-12-31"))
                .bearer_auth(&token),
            400,
        ),
        (
            "bad range",
            http.get(server.url("/api/v1/stats/summary?range=forever"))
                .bearer_auth(&token),
            400,
        ),
        (
            "bad recipients id",
            http.get(server.url("/api/v1/stats/campaigns/abc/recipients"))
                .bearer_auth(&token),
            400,
        ),
        (
            "unknown route",
            http.get(server.url("/api/v1/nothing")),
            404,
        ),
    ];
    for (what, request, expected) in cases {
        let res = request.send().await.unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert_eq!(status, expected, "{what}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body}"));
        assert!(
            error["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {body}"
        );
    }

    // Forged and malformed tracking tokens record nothing and never redirect.
    let sent = server
        .send(&token, simple_email("a@example.org", "c"))
        .await;
    let (html, _) = message_parts(&server.outbox_message(sent["id"].as_i64().unwrap()));
    let real = tracked_urls(&html, &server.running.base_url, "click").remove(0);
    let mut forged = real.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let junk = server.url("/track/click/%00%ff..%2f");
    for url in [
        forged.as_str(),
        junk.as_str(),
        &server.url("/track/click/x"),
    ] {
        let res = http.get(url).send().await.unwrap();
        assert_eq!(res.status(), 404, "{url}");
        assert!(res.headers().get("location").is_none());
    }
    let res = http
        .get(server.url("/track/open/garbage"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a bad pixel token still gets the GIF");
    assert_eq!(res.headers()["content-type"], "image/gif");
    assert_eq!(
        server.store().event_count().await.unwrap(),
        0,
        "nothing recorded"
    );

    // The server still works after all that.
    let res = http
        .get(&real)
        .header("user-agent", HUMAN_UA)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    server.stop().await;
}
