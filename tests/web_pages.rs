//! The browser pages over HTTP, on every backend: sign-in and its throttling, CSRF, scope,
//! figures equal to the stats API's for each role and range, drill-down, CSV, the Mailgun
//! key round trip, sign-in links and friendly errors.

mod common;
mod web_support;

use common::{TestServer, backends};
use serde_json::Value;
use web_support::{Browser, PASSWORD, Person, csrf_of, seed};

/// The Stats table of a page as CSV rows keyed by id.
async fn csv_rows(browser: &Browser, query: &str) -> Vec<csv::StringRecord> {
    let res = browser.get(&format!("/crm/stats.csv?{query}")).await;
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let body = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    reader.records().map(|r| r.unwrap()).collect()
}

/// The value of a summary card on a Stats page.
fn card(html: &str, label: &str) -> String {
    let marker = format!("data-card=\"{label}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no card {label}"))
        + marker.len();
    let end = html[start..].find('<').unwrap();
    html[start..start + end].to_string()
}

fn percent(rate: f64, tracked: i64) -> String {
    if tracked == 0 {
        "—".into()
    } else {
        format!("{:.1}%", rate * 100.0)
    }
}

/// Checks that the page's cards and table equal the API's figures for `who` and `query`.
async fn assert_page_matches_api(
    server: &TestServer,
    browser: &Browser,
    who: &Person,
    query: &str,
) {
    let summary = server
        .get(&who.token, &format!("/api/v1/stats/summary?{query}"))
        .await;
    let html = browser.page(&format!("/crm/stats?{query}")).await;
    let sends = summary["sends"].as_i64().unwrap();
    let tracked = summary["tracked"].as_i64().unwrap();
    assert_eq!(
        card(&html, "Total sends"),
        sends.to_string(),
        "{} {query}",
        who.email
    );
    let open_rate = percent(summary["open_rate"].as_f64().unwrap(), tracked);
    assert_eq!(card(&html, "Open rate"), open_rate, "{} {query}", who.email);
    let click_rate = percent(summary["click_rate"].as_f64().unwrap(), tracked);
    assert_eq!(card(&html, "Click rate"), click_rate);
    assert_eq!(
        card(&html, "Failed / bounced"),
        summary["failed"].to_string()
    );

    for view in ["campaigns", "templates"] {
        let api = server
            .get(&who.token, &format!("/api/v1/stats/{view}?{query}"))
            .await;
        let api_rows = api["rows"].as_array().unwrap();
        let page_rows = csv_rows(browser, &format!("view={view}&{query}")).await;
        assert_eq!(
            page_rows.len(),
            api_rows.len(),
            "{} {view} {query}",
            who.email
        );
        for row in api_rows {
            let id = row["id"]
                .as_i64()
                .map_or("none".to_string(), |i| i.to_string());
            let page = page_rows
                .iter()
                .find(|r| r[0] == id)
                .expect("row on the page");
            for (column, field) in [
                (2, "sends"),
                (3, "tracked"),
                (5, "opened"),
                (9, "clicked"),
                (11, "failed"),
                (14, "filtered"),
            ] {
                assert_eq!(page[column], row[field].to_string(), "{view} {id} {field}");
            }
            let rate: f64 = page[6].parse().unwrap();
            assert_eq!(rate, row["open_rate"].as_f64().unwrap());
        }
    }
}

#[tokio::test]
async fn each_role_sees_its_own_figures_equal_to_the_api() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let fixture = seed(&server, &backend).await;

        for (who, portal) in [
            (&fixture.owner, "Admin Portal"),
            (&fixture.partner, "Partner Portal"),
            (&fixture.rep, "Partner Portal"),
            (&fixture.member, "Member Portal"),
        ] {
            let browser = Browser::new(&server);
            let res = browser.sign_in(who.email, PASSWORD).await;
            assert_eq!(res.status(), 303, "{}", who.email);
            assert_eq!(res.headers()["location"], "/crm/stats");
            let cookie = res
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .find(|v| v.starts_with("mt_session="))
                .expect("a session cookie");
            assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
            assert!(!cookie.contains("Secure"), "plain http test server");

            let html = browser.page("/crm/stats").await;
            assert!(html.contains(portal), "{} lands in {portal}", who.email);
            for query in ["range=all", "range=30d", "range=90d", "range=7d"] {
                assert_page_matches_api(&server, &browser, who, query).await;
            }
        }

        // The partner sees its 4 sends, not its sales rep's 2 nor its peer's.
        let browser = Browser::new(&server);
        browser.sign_in(fixture.partner.email, PASSWORD).await;
        let html = browser.page("/crm/stats?range=all").await;
        assert_eq!(card(&html, "Total sends"), "4");
        assert!(!html.contains("Peer Deal"));
        let browser = Browser::new(&server);
        browser.sign_in(fixture.rep.email, PASSWORD).await;
        assert_eq!(
            card(&browser.page("/crm/stats?range=all").await, "Total sends"),
            "2"
        );

        server.stop().await;
    }
}

#[tokio::test]
async fn ranges_follow_the_api_and_live_in_the_url() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let fixture = seed(&server, &backend).await;
        let browser = Browser::new(&server);
        browser.sign_in(fixture.owner.email, PASSWORD).await;

        let month = browser.page("/crm/stats?range=30d").await;
        let quarter = browser.page("/crm/stats?range=90d").await;
        assert_eq!(card(&month, "Total sends"), "10");
        assert_eq!(card(&quarter, "Total sends"), "11");
        assert!(quarter.contains("<option value=\"90d\" selected>"));

        // A custom range of whole UTC days around the send moved 40 days back.
        let now = time::OffsetDateTime::now_utc().date();
        let from = now - time::Duration::days(45);
        let to = now - time::Duration::days(35);
        let query = format!("range=custom&from={from}&to={to}&tz=0");
        let custom = browser.page(&format!("/crm/stats?{query}")).await;
        assert_eq!(card(&custom, "Total sends"), "1");
        assert!(custom.contains(&format!("{from} to {to}")));
        assert_page_matches_api(
            &server,
            &browser,
            &fixture.owner,
            &format!("from={from}&to={to}"),
        )
        .await;

        // A bad range is a friendly page, not a trace.
        let res = browser.get("/crm/stats?range=1y").await;
        assert_eq!(res.status(), 400);
        let body = res.text().await.unwrap();
        assert!(body.contains("That request did not make sense") && body.contains("unknown range"));
        let res = browser.get("/crm/stats?range=custom&from=2026-02-01").await;
        assert_eq!(res.status(), 400);
        server.stop().await;
    }
}

#[tokio::test]
async fn drill_down_timeline_and_exports_stay_in_scope() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let fixture = seed(&server, &backend).await;
        let api = server
            .get(&fixture.partner.token, "/api/v1/stats/campaigns?range=all")
            .await;
        let push = api["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "Partner Push")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let recipients = server
            .get(
                &fixture.partner.token,
                &format!("/api/v1/stats/campaigns/{push}/recipients?range=all"),
            )
            .await;

        let partner = Browser::new(&server);
        partner.sign_in(fixture.partner.email, PASSWORD).await;
        let html = partner
            .page(&format!("/crm/stats/campaigns/{push}?range=all"))
            .await;
        let listed = recipients["recipients"].as_array().unwrap();
        assert_eq!(listed.len(), 4);
        for recipient in listed {
            assert!(html.contains(recipient["email"].as_str().unwrap()));
        }
        assert!(
            !html.contains("rep-lead0@example.org"),
            "the rep's sends are not the partner's"
        );

        let csv = partner
            .get(&format!(
                "/crm/stats/campaigns/{push}/recipients.csv?range=all"
            ))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(csv.lines().count(), 5, "{csv}");
        assert!(csv.starts_with("send_id,email,status"));

        let timeline = partner
            .page(&format!("/crm/sends/{}", fixture.engaged_send))
            .await;
        assert!(timeline.contains("prospect0@example.org"));
        assert!(timeline.contains("class-badge"), "events with their class");

        let rep = Browser::new(&server);
        rep.sign_in(fixture.rep.email, PASSWORD).await;
        let res = rep
            .get(&format!("/crm/sends/{}", fixture.engaged_send))
            .await;
        assert_eq!(res.status(), 404);
        let html = rep
            .page(&format!("/crm/stats/campaigns/{push}?range=all"))
            .await;
        assert!(!html.contains("prospect0@example.org"));
        assert!(html.contains("rep-lead0@example.org"));
        server.stop().await;
    }
}

#[tokio::test]
async fn csrf_throttling_sign_out_and_links() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let fixture = seed(&server, &backend).await;

        // Sign-in without the token of the form is refused.
        let stranger = Browser::new(&server);
        let res = stranger
            .post(
                "/login",
                &[("email", fixture.owner.email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status(), 403);
        assert!(res.text().await.unwrap().contains("This form has expired"));

        // Signed in, a form without the session's token changes nothing.
        let owner = Browser::new(&server);
        owner.sign_in(fixture.owner.email, PASSWORD).await;
        let res = owner.post("/logout", &[]).await;
        assert_eq!(res.status(), 403);
        let res = owner
            .post(
                "/settings/mailgun",
                &[("csrf", "forged"), ("signing_key", "k")],
            )
            .await;
        assert_eq!(res.status(), 403);
        owner.page("/crm/stats").await;

        // Sign out with the token ends the session.
        let csrf = csrf_of(&owner.page("/crm/stats").await);
        let res = owner.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(res.status(), 303);
        let res = owner.get("/crm/stats").await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/login");

        // Five wrong passwords lock the email, even for the right one.
        let guesser = Browser::new(&server);
        for _ in 0..5 {
            let res = guesser
                .sign_in(fixture.member.email, "wrong password!")
                .await;
            assert_eq!(res.status(), 401);
        }
        let res = guesser.sign_in(fixture.member.email, PASSWORD).await;
        assert_eq!(res.status(), 429);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Too many failed sign-ins")
        );

        // A one-time link signs in once.
        let link = mailtally::web::create_signin_link(
            server.store(),
            fixture.rep.id,
            &server.running.base_url,
        )
        .await
        .unwrap();
        let path = link.strip_prefix(&server.running.base_url).unwrap();
        let visitor = Browser::new(&server);
        let confirm = visitor.page(path).await;
        assert!(confirm.contains("Continue"));
        let res = visitor.post(path, &[("csrf", &csrf_of(&confirm))]).await;
        assert_eq!(res.status(), 303);
        assert!(
            visitor
                .page("/crm/stats")
                .await
                .contains("rep@acme.example")
        );
        let again = Browser::new(&server);
        let res = again.get(path).await;
        assert_eq!(res.status(), 404);
        server.stop().await;
    }
}

#[tokio::test]
async fn signing_key_round_trip_never_shows_the_key() {
    const KEY: &str = "key-5fe0c3a3b2d14e8f9a7b6c5d4e3f2a1b";
    const API_KEY: &str = "mgapi-0011223344556677889900aabbccddee";
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let fixture = seed(&server, &backend).await;
        let owner = Browser::new(&server);
        owner.sign_in(fixture.owner.email, PASSWORD).await;

        let page = owner.page("/settings/mailgun").await;
        assert!(page.contains("signing-unset"));
        assert!(page.contains("platform"), "says whose key applies: {page}");
        let csrf = csrf_of(&page);
        let res = owner
            .post(
                "/settings/mailgun",
                &[
                    ("csrf", &csrf),
                    ("signing_key", KEY),
                    ("domain", "mg.acme.example"),
                    ("region", "eu"),
                    ("api_key", API_KEY),
                ],
            )
            .await;
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let saved = owner.page(&location).await;
        assert!(saved.contains("signing-saved") && saved.contains("account-saved"));
        assert!(saved.contains("mg.acme.example"));
        let api: Value = server
            .get(&fixture.owner.token, "/api/v1/settings/mailgun")
            .await;
        assert_eq!(api["signing_key"]["set"], true);
        assert_eq!(api["account"]["region"], "eu");

        // Clearing the key keeps the account.
        let res = owner
            .post(
                "/settings/mailgun",
                &[
                    ("csrf", &csrf),
                    ("clear_signing_key", "1"),
                    ("domain", "mg.acme.example"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303);
        let cleared = owner.page("/settings/mailgun").await;
        assert!(cleared.contains("signing-unset") && cleared.contains("account-saved"));

        // Sales reps have no Mailgun settings; the partner has its team's.
        let rep = Browser::new(&server);
        rep.sign_in(fixture.rep.email, PASSWORD).await;
        assert_eq!(rep.get("/settings/mailgun").await.status(), 403);
        let partner = Browser::new(&server);
        partner.sign_in(fixture.partner.email, PASSWORD).await;
        assert!(
            partner
                .page("/settings/mailgun")
                .await
                .contains("partner team")
        );

        // No page or export ever carried a key.
        for path in [
            "/settings/mailgun",
            "/crm/stats?range=all",
            "/crm/stats.csv?range=all",
        ] {
            let body = owner.get(path).await.text().await.unwrap();
            assert!(!body.contains(KEY) && !body.contains(API_KEY), "{path}");
        }
        server.stop().await;
    }
}
