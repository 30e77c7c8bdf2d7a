//! The pages in a real headless Chromium, driven through WebDriver (fantoccini and Debian's
//! `chromium-driver`): sign in as each role, switch view and range, use a custom range,
//! drill down to a recipient, export CSV, save, show, hide and clear a signing key, and
//! fail CSRF without a token. Screenshots go to `docs/screenshots/`.
//!
//! Without chromedriver and chromium this test fails when `CI=true`, and is skipped with a
//! note otherwise. Runs on SQLite; the same pages on PostgreSQL are covered over HTTP by
//! `web_pages.rs`.

mod common;
mod web_support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, TestServer};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use web_support::{PASSWORD, Person, seed};

const DRIVER_CANDIDATES: [&str; 2] = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];
const CHROME_CANDIDATES: [&str; 2] = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/// A chromedriver this test started; stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// Starts chromedriver on a free port and a fresh Chromium session, or explains why not.
async fn start_browser() -> Option<(Driver, Client)> {
    let (Some(driver), Some(chrome)) = (
        find("CHROMEDRIVER", &DRIVER_CANDIDATES),
        find("CHROME_BIN", &CHROME_CANDIDATES),
    ) else {
        let why = "chromedriver or chromium is missing: apt-get install -y chromium \
            chromium-driver";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{why}");
        }
        eprintln!("\n!!!!!!!! SKIPPING THE BROWSER TESTS: {why} !!!!!!!!\n");
        return None;
    };

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", driver.display()));
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: profile,
    };

    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1366,1300",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ],
        },
    });
    let capabilities = match capabilities {
        Value::Object(map) => map,
        _ => unreachable!(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let attempt = ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&driver.url)
            .await;
        match attempt {
            Ok(client) => return Some((driver, client)),
            Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Waits until the current URL contains `part`.
async fn wait_for_url(client: &Client, part: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = client.current_url().await.unwrap().to_string();
        if url.contains(part) {
            return url;
        }
        assert!(Instant::now() < deadline, "waited for {part:?}, at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text(client: &Client, css: &str) -> String {
    let element = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    element.text().await.unwrap()
}

async fn click(client: &Client, css: &str) {
    let element = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    element.click().await.unwrap();
}

async fn screenshot(client: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

async fn sign_in(client: &Client, base: &str, who: &Person) {
    client.delete_all_cookies().await.unwrap();
    client.goto(&format!("{base}/login")).await.unwrap();
    let email = client.find(Locator::Css("#email")).await.unwrap();
    email.send_keys(who.email).await.unwrap();
    let password = client.find(Locator::Css("#password")).await.unwrap();
    password.send_keys(PASSWORD).await.unwrap();
    click(client, "#sign-in").await;
    wait_for_url(client, "/crm/stats").await;
}

async fn card(client: &Client, label: &str) -> String {
    text(client, &format!("[data-card=\"{label}\"]")).await
}

async fn api_sends(server: &TestServer, who: &Person, query: &str) -> String {
    let summary = server
        .get(&who.token, &format!("/api/v1/stats/summary?{query}"))
        .await;
    summary["sends"].to_string()
}

#[tokio::test]
async fn the_pages_in_a_real_browser() {
    let Some((_driver, client)) = start_browser().await else {
        return;
    };
    let backend = Backend::Sqlite;
    let server = TestServer::start(&backend).await;
    let fixture = seed(&server, &backend).await;
    let base = server.running.base_url.clone();

    // Each role signs in, lands in its portal and sees the API's numbers for it.
    for (who, portal) in [
        (&fixture.partner, "Partner Portal"),
        (&fixture.rep, "Partner Portal"),
        (&fixture.member, "Member Portal"),
        (&fixture.owner, "Admin Portal"),
    ] {
        sign_in(&client, &base, who).await;
        assert_eq!(text(&client, ".portal").await, portal, "{}", who.email);
        let expected = api_sends(&server, who, "range=30d").await;
        assert_eq!(
            card(&client, "Total sends").await,
            expected,
            "{}",
            who.email
        );
    }

    // Signed in as the owner: by campaign, then by template.
    screenshot(&client, "stats-by-campaign.png").await;
    click(&client, "#view-templates").await;
    wait_for_url(&client, "view=templates").await;
    let table = client.find(Locator::Css("#stats-table")).await.unwrap();
    assert_eq!(
        table.attr("data-view").await.unwrap().as_deref(),
        Some("templates")
    );
    screenshot(&client, "stats-by-template.png").await;

    // The Range dropdown applies a preset at once, and the URL keeps it.
    let range = client.find(Locator::Css("#range")).await.unwrap();
    range.select_by_value("all").await.unwrap();
    let url = wait_for_url(&client, "range=all").await;
    assert!(url.contains("view=templates"), "{url}");
    let all = api_sends(&server, &fixture.owner, "range=all").await;
    assert_eq!(card(&client, "Total sends").await, all);
    client.refresh().await.unwrap();
    assert_eq!(
        card(&client, "Total sends").await,
        all,
        "a reload shows the same view"
    );

    // A custom range around the send moved 40 days back.
    let now = time::OffsetDateTime::now_utc().date();
    let (from, to) = (
        now - time::Duration::days(45),
        now - time::Duration::days(35),
    );
    let range = client.find(Locator::Css("#range")).await.unwrap();
    range.select_by_value("custom").await.unwrap();
    let script = "document.getElementById('from').value = arguments[0]; \
        document.getElementById('to').value = arguments[1];";
    client
        .execute(script, vec![json!(from.to_string()), json!(to.to_string())])
        .await
        .unwrap();
    click(&client, "#apply-range").await;
    wait_for_url(&client, "range=custom").await;
    let expected = api_sends(&server, &fixture.owner, &format!("from={from}&to={to}")).await;
    assert_eq!(card(&client, "Total sends").await, expected);
    assert_eq!(expected, "1");

    // Drill down from a campaign to its recipients, then to one recipient's timeline.
    client
        .goto(&format!("{base}/crm/stats?view=campaigns&range=all"))
        .await
        .unwrap();
    client
        .find(Locator::LinkText("Partner Push"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&client, "/crm/stats/campaigns/").await;
    assert_eq!(text(&client, "#drill-title").await, "Partner Push");
    let recipients = client
        .find_all(Locator::Css("#recipients-table a.recipient"))
        .await
        .unwrap();
    assert_eq!(recipients.len(), 6, "the partner's four and the rep's two");
    screenshot(&client, "drill-down-recipients.png").await;
    client
        .find(Locator::LinkText("prospect0@example.org"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&client, "/crm/sends/").await;
    assert_eq!(
        text(&client, "#timeline-title").await,
        "prospect0@example.org"
    );
    assert!(!text(&client, "#timeline").await.is_empty());
    screenshot(&client, "drill-down-timeline.png").await;

    // Export CSV with the browser's own session.
    client
        .goto(&format!("{base}/crm/stats?view=campaigns&range=all"))
        .await
        .unwrap();
    let href = client
        .find(Locator::Css("#export-csv"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let fetched = client
        .execute_async(
            "fetch(arguments[0]).then(r => r.text()).then(arguments[1])",
            vec![json!(href)],
        )
        .await
        .unwrap();
    let csv = fetched.as_str().unwrap();
    assert!(csv.starts_with("id,name,sends,"), "{csv}");
    assert!(csv.contains("Partner Push") && csv.contains("Launch"));

    // The signing key: type, show, hide, save, see it saved but never shown, clear.
    const KEY: &str = "key-0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    client
        .goto(&format!("{base}/settings/mailgun"))
        .await
        .unwrap();
    assert!(text(&client, "#key-notice").await.contains("platform"));
    let field = client.find(Locator::Css("#signing_key")).await.unwrap();
    field.send_keys(KEY).await.unwrap();
    click(&client, "#toggle-signing").await;
    assert_eq!(field.attr("type").await.unwrap().as_deref(), Some("text"));
    assert_eq!(text(&client, "#toggle-signing").await, "Hide");
    screenshot(&client, "settings-mailgun-typing.png").await;
    click(&client, "#toggle-signing").await;
    assert_eq!(
        field.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    click(&client, "#save-settings").await;
    wait_for_url(&client, "saved=1").await;
    assert!(text(&client, "#signing-saved").await.contains("saved"));
    let field = client.find(Locator::Css("#signing_key")).await.unwrap();
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some(""));
    let placeholder = field.attr("placeholder").await.unwrap().unwrap();
    assert!(placeholder.starts_with("•••"), "{placeholder}");
    assert!(!client.source().await.unwrap().contains(KEY));
    screenshot(&client, "settings-mailgun.png").await;
    click(&client, "#clear_signing_key").await;
    click(&client, "#save-settings").await;
    client
        .wait()
        .for_element(Locator::Css("#signing-unset"))
        .await
        .unwrap();

    // A form stripped of its CSRF token is refused with a friendly page.
    client
        .execute(
            "document.querySelector('form.inline input[name=csrf]').remove(); \
            document.querySelector('form.inline').submit();",
            vec![],
        )
        .await
        .unwrap();
    let heading = text(&client, "h1").await;
    assert_eq!(heading, "This form has expired");
    client.goto(&format!("{base}/crm/stats")).await.unwrap();
    assert_eq!(
        text(&client, ".portal").await,
        "Admin Portal",
        "still signed in"
    );

    // The Stats tab on a phone.
    client.set_window_size(390, 1600).await.unwrap();
    client
        .goto(&format!("{base}/crm/stats?view=campaigns&range=all"))
        .await
        .unwrap();
    screenshot(&client, "stats-phone.png").await;

    client.close().await.unwrap();
    server.stop().await;
}
