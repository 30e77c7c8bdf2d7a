//! Retention: purging raw events changes no figure, for any range, and the timeline says
//! what was purged. Client addresses are stored cut to their network.

mod common;

use common::{TestServer, backends, message_parts, raw_sql, simple_email, tracked_urls};
use mailtally::privacy::retention;
use mailtally::store::Role;
use serde_json::Value;

const DAY_MS: i64 = 24 * 3600 * 1000;

#[tokio::test]
async fn purging_events_changes_no_figure_for_any_range() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let owner = server
            .user("Acme", "owner@acme.test", Role::Owner, None)
            .await;
        let base = server.running.base_url.clone();

        // Six sends, each opened and clicked, then moved back in time with their events.
        let ages_in_days = [0, 3, 10, 40, 100, 200];
        let mut ids = Vec::new();
        for (i, age) in ages_in_days.iter().enumerate() {
            let campaign = if i % 2 == 0 { "Even" } else { "Odd" };
            let sent = server
                .send(&owner, simple_email(&format!("r{i}@example.org"), campaign))
                .await;
            let id = sent["id"].as_i64().unwrap();
            ids.push(id);
            let (html, _) = message_parts(&server.outbox_message(id));
            let ua = format!("Mozilla/5.0 (Windows NT 10.0) Chrome/131.0 Safari/537.36 r{i}");
            for url in [
                tracked_urls(&html, &base, "open")[0].clone(),
                tracked_urls(&html, &base, "click")[0].clone(),
            ] {
                let status = server
                    .http
                    .get(&url)
                    .header("user-agent", &ua)
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert!(status.is_success() || status.is_redirection());
            }
            let shift = age * DAY_MS;
            raw_sql(
                &server,
                &format!(
                    "UPDATE sends SET created_at = created_at - {shift}, \
                first_opened_at = first_opened_at - {shift}, \
                first_clicked_at = first_clicked_at - {shift} WHERE id = {id}"
                ),
            )
            .await;
            raw_sql(
                &server,
                &format!("UPDATE events SET at = at - {shift} WHERE send_id = {id}"),
            )
            .await;
        }
        assert_eq!(server.store().event_count().await.unwrap(), 12);

        let views = [
            "/api/v1/stats/summary?range=7d",
            "/api/v1/stats/summary?range=30d",
            "/api/v1/stats/summary?range=90d",
            "/api/v1/stats/summary?range=all",
            "/api/v1/stats/summary?from=2020-01-01&to=2099-12-31",
            "/api/v1/stats/campaigns?range=all",
            "/api/v1/stats/campaigns?range=90d",
            "/api/v1/stats/templates?range=all",
        ];
        let mut before: Vec<Value> = Vec::new();
        for view in views {
            before.push(server.get(&owner, view).await);
        }
        let rows = &before[5]["rows"];
        let mut drilldowns = Vec::new();
        for row in rows.as_array().unwrap() {
            let path = format!("/api/v1/stats/campaigns/{}/recipients?range=all", row["id"]);
            drilldowns.push((path.clone(), server.get(&owner, &path).await));
        }
        assert_eq!(before[3]["opened"], 6, "{}", before[3]);

        let purged = retention::purge(server.store(), 5).await.unwrap();
        assert_eq!(
            purged,
            8,
            "{}: the events of the four sends older than 5 days",
            backend.name()
        );
        assert_eq!(
            server.store().event_count().await.unwrap(),
            4,
            "raw events are gone"
        );

        for (view, old) in views.iter().zip(&before) {
            assert_eq!(
                &server.get(&owner, view).await,
                old,
                "{} {view}",
                backend.name()
            );
        }
        for (path, old) in &drilldowns {
            assert_eq!(&server.get(&owner, path).await, old, "{path}");
        }

        // The oldest send's timeline says its events were purged, and when.
        let oldest = server
            .get(&owner, "/api/v1/stats/campaigns?range=all")
            .await;
        let _ = oldest;
        let detail = server.get(&owner, "/api/v1/sends/6").await;
        assert!(
            detail["events_purged_before"].as_i64().is_some(),
            "{detail}"
        );
        assert!(detail["events_purged_at"].as_i64().is_some());
        assert_eq!(detail["events"].as_array().unwrap().len(), 0);
        assert_eq!(detail["opens"], 1, "counters stay");
        let recent = server
            .get(&owner, &format!("/api/v1/sends/{}", ids[0]))
            .await;
        assert!(recent["events_purged_before"].is_null());
        assert_eq!(recent["events"].as_array().unwrap().len(), 2);

        // A second purge finds nothing more.
        assert_eq!(retention::purge(server.store(), 5).await.unwrap(), 0);
        server.stop().await;
    }
}

#[tokio::test]
async fn client_addresses_are_stored_cut_to_their_network() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let owner = server
            .user("Acme", "owner@acme.test", Role::Owner, None)
            .await;
        let sent = server
            .send(&owner, simple_email("r@example.org", "C"))
            .await;
        let id = sent["id"].as_i64().unwrap();
        let (html, _) = message_parts(&server.outbox_message(id));
        let open = tracked_urls(&html, &server.running.base_url, "open")[0].clone();
        server.http.get(&open).send().await.unwrap();
        let detail = server.get(&owner, &format!("/api/v1/sends/{id}")).await;
        assert_eq!(
            detail["events"][0]["ip"],
            "127.0.0.0",
            "{}: {detail}",
            backend.name()
        );
        server.stop().await;
    }
}
