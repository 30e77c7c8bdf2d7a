//! One-click unsubscribe (RFC 8058): a POST unsubscribes at once, a GET asks first, and
//! neither ever shows up as a click.

mod common;

use common::{TestServer, backends, message_parts, simple_email};
use mailtally::store::Role;

fn unsubscribe_url(html: &str, base: &str) -> String {
    let start = html
        .find(&format!("{base}/unsubscribe/"))
        .expect("an unsubscribe link");
    let tail = &html[start..];
    tail[..tail.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn one_click_unsubscribe_blocks_later_sends_and_is_never_a_click() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let token = server
            .user("Acme", "owner@acme.test", Role::Owner, None)
            .await;
        let sent = server
            .send(&token, simple_email("leaver@example.org", "News"))
            .await;
        let id = sent["id"].as_i64().unwrap();
        let eml = server.outbox_message(id);
        assert!(
            eml.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{eml}"
        );
        let header = eml
            .lines()
            .find(|l| l.starts_with("List-Unsubscribe:"))
            .unwrap();
        let (html, _) = message_parts(&eml);
        let url = unsubscribe_url(&html, &server.running.base_url);
        assert!(
            header.contains(&url),
            "the header and the footer agree: {header}"
        );
        assert!(
            !sent["instrumentation"]["rewritten"]
                .to_string()
                .contains("/unsubscribe/"),
            "the unsubscribe link is never rewritten"
        );

        let page = server.http.get(&url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(
            page.contains("<form method=\"post\">"),
            "a GET asks first: {page}"
        );

        // A GET alone changes nothing: the contact can still be emailed.
        server
            .send(&token, simple_email("leaver@example.org", "News"))
            .await;

        let res = server
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", backend.name());

        let again = server
            .http
            .post(server.url("/api/v1/sends"))
            .bearer_auth(&token)
            .json(&simple_email("Leaver@Example.org", "News"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            again.status(),
            409,
            "an unsubscribed contact is never emailed"
        );
        let why = again.text().await.unwrap();
        assert!(why.contains("unsubscribed"), "{why}");

        let summary = server.get(&token, "/api/v1/stats/summary?range=all").await;
        assert_eq!(summary["clicked"], 0, "{summary}");
        assert_eq!(summary["clicks"], 0);
        assert_eq!(
            server.store().event_count().await.unwrap(),
            0,
            "nothing recorded"
        );

        let forged = format!("{}x", &url[..url.len() - 1]);
        let res = server.http.post(&forged).send().await.unwrap();
        assert_eq!(res.status(), 404, "a forged unsubscribe token does nothing");
        server.stop().await;
    }
}
