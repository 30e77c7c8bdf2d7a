//! Server time of the Stats tab for an organisation with 100,000 sends (issue 7: under
//! 200 ms). Seeds the sends straight into a fresh database, signs in through the form, and
//! times `GET /crm/stats` over loopback for several ranges and both views.
//!
//! `cargo bench --bench stats_page` runs on SQLite; with `MAILTALLY_TEST_DATABASE_URL` set
//! it runs on PostgreSQL too. `STATS_BENCH_SENDS` changes the number of sends.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestServer, backends};
use mailtally::store::Role;
use sqlx::Executor;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const ROUNDS: usize = 15;

/// A small deterministic generator, so every run seeds the same data.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

/// The INSERTs of `count` sends over the last 120 days: 20 campaigns, 8 templates, 95%
/// tracked, about 40% opened, 10% clicked, some MPP opens, filtered hits and failures.
fn seed_sql(org_id: i64, sender_id: i64, contact_id: &str, count: usize) -> Vec<String> {
    let now = mailtally::store::now_ms();
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let mut statements = Vec::new();
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let mut values = Vec::with_capacity(chunk.len());
        for i in chunk {
            let created = now - rng.below(120 * DAY_MS as u64);
            let tracked = i64::from(rng.below(100) < 95);
            let opened = tracked == 1 && rng.below(100) < 40;
            let clicked = opened && rng.below(100) < 25;
            let first_open = if opened {
                (created + rng.below(3 * DAY_MS as u64)).to_string()
            } else {
                "NULL".into()
            };
            let first_click = if clicked {
                (created + rng.below(4 * DAY_MS as u64)).to_string()
            } else {
                "NULL".into()
            };
            let status = if rng.below(100) < 2 {
                "bounced"
            } else {
                "sent"
            };
            values.push(format!(
                "({org_id}, {sender_id}, {contact_id}, {}, {}, 'r{i}@example.org', 'Hello', \
                {tracked}, '{status}', {created}, {}, {}, {}, {}, {first_open}, {first_click})",
                1 + rng.below(20),
                1 + rng.below(8),
                i64::from(opened) * (1 + rng.below(3)),
                i64::from(clicked),
                i64::from(opened && rng.below(100) < 30),
                rng.below(3),
            ));
        }
        statements.push(format!(
            "INSERT INTO sends (org_id, sender_id, contact_id, campaign_id, template_id, \
            to_email, subject, tracked, status, created_at, opens, clicks, mpp_opens, \
            filtered, first_opened_at, first_clicked_at) VALUES {}",
            values.join(", ")
        ));
    }
    statements
}

/// Runs each statement in one transaction on `$pool`, then refreshes the planner's stats.
macro_rules! run_sql {
    ($pool:expr, $statements:expr) => {{
        let mut tx = $pool.begin().await.unwrap();
        for sql in $statements {
            (&mut *tx)
                .execute(sqlx::AssertSqlSafe(sql.clone()))
                .await
                .expect("seeding");
        }
        tx.commit().await.unwrap();
        $pool.execute("ANALYZE").await.unwrap();
        $pool.close().await;
    }};
}

async fn seed(server: &TestServer, backend: &Backend, owner_id: i64, sends: usize) {
    let org_id = server.store().user_by_id(owner_id).await.unwrap().org_id;
    let mut statements = vec![format!(
        "INSERT INTO contacts (org_id, email, created_at) VALUES ({org_id}, 'r@example.org', 0)"
    )];
    for i in 1..=20 {
        statements.push(format!(
            "INSERT INTO campaigns (id, org_id, name, created_at) \
            VALUES ({i}, {org_id}, 'Campaign {i}', 0)"
        ));
    }
    for i in 1..=8 {
        statements.push(format!(
            "INSERT INTO templates (id, org_id, name, created_at) \
            VALUES ({i}, {org_id}, 'Template {i}', 0)"
        ));
    }
    let contact = "(SELECT MIN(id) FROM contacts)";
    statements.extend(seed_sql(org_id, owner_id, contact, sends));
    match backend {
        Backend::Sqlite => {
            let path = server.config.data_dir.join("mailtally.db");
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            run_sql!(pool, &statements);
        }
        Backend::Postgres(_) => {
            let url = server.config.database_url.clone().unwrap();
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            run_sql!(pool, &statements);
        }
    }
}

/// Signs in through the form; answers the session cookie.
async fn sign_in(server: &TestServer, email: &str, password: &str) -> String {
    let http = &server.http;
    let res = http.get(server.url("/login")).send().await.unwrap();
    let anon = res.headers()["set-cookie"].to_str().unwrap();
    let anon = anon.split(';').next().unwrap().to_string();
    let html = res.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = &html[start..start + html[start..].find('"').unwrap()];
    let res = http
        .post(server.url("/login"))
        .header("cookie", anon)
        .form(&[("csrf", csrf), ("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "sign-in failed");
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("mt_session="))
        .unwrap()
}

fn report(label: &str, mut times: Vec<Duration>) -> Duration {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = times[times.len() / 2];
    let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
    println!(
        "  {label:<44} min {:7.1} ms   median {:7.1} ms   p95 {:7.1} ms",
        ms(times[0]),
        ms(median),
        ms(p95)
    );
    median
}

/// Each store query of the page alone, to see where the time goes.
async fn time_queries(server: &TestServer, owner_id: i64) {
    use mailtally::stats::Range;
    use mailtally::store::GroupBy;

    let owner = server.store().user_by_id(owner_id).await.unwrap();
    let scope = mailtally::http::Caller(owner).scope();
    let window = Range::All.window(time::OffsetDateTime::now_utc());
    let store = server.store();
    for (label, run) in [("stats_summary", 0), ("stats_rows", 1), ("stats_daily", 2)] {
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let started = Instant::now();
            match run {
                0 => drop(store.stats_summary(scope, window).await.unwrap()),
                1 => drop(
                    store
                        .stats_rows(scope, window, GroupBy::Campaign)
                        .await
                        .unwrap(),
                ),
                _ => drop(store.stats_daily(scope, window, 0).await.unwrap()),
            }
            times.push(started.elapsed());
        }
        report(&format!("store.{label} (all time, alone)"), times);
    }
}

#[tokio::main]
async fn main() {
    let sends: usize = std::env::var("STATS_BENCH_SENDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        let (owner_id, _) = mailtally::cli::add_user(
            server.store(),
            "Bench",
            "owner@bench.example",
            Role::Owner,
            None,
        )
        .await
        .unwrap();
        let hash = mailtally::web::hash_password("bench password 123").unwrap();
        server
            .store()
            .set_password_hash(owner_id, Some(&hash))
            .await
            .unwrap();
        let started = Instant::now();
        seed(&server, &backend, owner_id, sends).await;
        println!(
            "{}: seeded {sends} sends in {:.1} s",
            backend.name(),
            started.elapsed().as_secs_f64()
        );
        let cookie = sign_in(&server, "owner@bench.example", "bench password 123").await;
        time_queries(&server, owner_id).await;

        let mut worst = Duration::ZERO;
        for query in [
            "range=all",
            "range=90d",
            "range=30d",
            "view=templates&range=all",
            "range=all&sort=open_rate&dir=desc",
        ] {
            let url = server.url(&format!("/crm/stats?{query}"));
            let mut times = Vec::with_capacity(ROUNDS);
            for round in 0..ROUNDS + 2 {
                let started = Instant::now();
                let res = server
                    .http
                    .get(&url)
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                let body = res.text().await.unwrap();
                let elapsed = started.elapsed();
                assert!(body.contains("Total sends"));
                // The first two warm caches and pools.
                if round >= 2 {
                    times.push(elapsed);
                }
            }
            worst = worst.max(report(&format!("GET /crm/stats?{query}"), times));
        }
        println!(
            "{}: slowest median {:.1} ms (target < 200 ms)",
            backend.name(),
            worst.as_secs_f64() * 1000.0
        );
        server.stop().await;
    }
}
