//! Two server nodes on one database count one send's hits as one node would: a node whose
//! memory of a send's recent events is stale reads them again.

mod common;

use common::{TestServer, backends, message_parts, raw_sql, simple_email, tracked_urls};
use mailtally::server;
use mailtally::store::Role;

#[tokio::test]
async fn a_burst_split_across_two_nodes_is_one_scanner() {
    for backend in backends() {
        let a = TestServer::start(&backend).await;
        // Node B: same database, same secret, its own listener.
        let b = server::start(&a.config).await.expect("starting node B");
        let owner = a.user("Acme", "owner@acme.test", Role::Owner, None).await;
        let html = "<html><body><a href=\"https://example.com/0\">0</a> \
            <a href=\"https://example.com/1\">1</a> <a href=\"https://example.com/2\">2</a>\
            </body></html>";
        let mut email = simple_email("r@example.org", "Split");
        email["html"] = html.into();
        let sent = a.send(&owner, email).await;
        let id = sent["id"].as_i64().unwrap();
        let (body, _) = message_parts(&a.outbox_message(id));
        let clicks = tracked_urls(&body, &a.running.base_url, "click");
        assert!(clicks.len() >= 3, "{clicks:?}");

        // Delivered a while ago, so a lone first click looks like a reader's and counts.
        raw_sql(
            &a,
            &format!("UPDATE sends SET created_at = created_at - 600000 WHERE id = {id}"),
        )
        .await;

        // One address clicks three different links within a second: A, then B, then A.
        // Node A counts the first click; B sees the burst and takes it back; A must know.
        let on_b = |url: &str| url.replace(&a.running.base_url, &b.base_url);
        for url in [clicks[0].clone(), on_b(&clicks[1]), clicks[2].clone()] {
            let res = a.http.get(&url).send().await.unwrap();
            assert_eq!(res.status(), 302, "{url}");
        }

        let detail = a.get(&owner, &format!("/api/v1/sends/{id}")).await;
        assert_eq!(detail["clicks"], 0, "{}: {detail}", backend.name());
        assert_eq!(detail["filtered"], 3, "{}: {detail}", backend.name());
        let summary = a.get(&owner, "/api/v1/stats/summary?range=all").await;
        assert_eq!(summary["clicked"], 0, "{summary}");
        b.stop().await.unwrap();
        a.stop().await;
    }
}
