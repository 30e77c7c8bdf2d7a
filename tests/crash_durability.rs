//! Group commit never loses an answered hit: SIGKILL the server during a burst of tracked
//! requests, restart it, and find every answered request in the database.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Backend, backends, client, message_parts, simple_email, tracked_urls};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mailtally");

struct Env {
    data_dir: std::path::PathBuf,
    database_url: Option<String>,
}

impl Env {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("MAILTALLY_DATA_DIR", &self.data_dir)
            .env("MAILTALLY_LISTEN", "127.0.0.1:0")
            .env("EMAIL_TRACKING_ENABLED", "true")
            .env("RUST_LOG", "warn")
            .env_remove("PUBLIC_BASE_URL");
        match &self.database_url {
            Some(url) => command.env("DATABASE_URL", url),
            None => command.env_remove("DATABASE_URL"),
        };
        command
    }

    /// Starts `mailtally serve` and returns it with its base URL.
    fn serve(&self) -> (Child, String) {
        let mut child = self
            .command(&["serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting mailtally serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(
            base.starts_with("http://"),
            "unexpected first line: {line:?}"
        );
        (child, base)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answered_hits_survive_sigkill() {
    for backend in backends() {
        answered_hits_survive_sigkill_on(&backend).await;
    }
}

async fn answered_hits_survive_sigkill_on(backend: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres(base) => Some(common::fresh_postgres_url(base).await),
    };
    let env = Env {
        data_dir: dir.path().to_path_buf(),
        database_url,
    };

    let out = env
        .command(&[
            "user",
            "add",
            "--org",
            "Acme",
            "--email",
            "o@acme.test",
            "--role",
            "owner",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_string();

    let (mut server, base) = env.serve();
    let http = client();
    let sent: Value = http
        .post(format!("{base}/api/v1/sends"))
        .bearer_auth(&token)
        .json(&simple_email("reader@example.org", "Burst"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let send_id = sent["id"].as_i64().expect("a send id");
    let eml = std::fs::read_to_string(dir.path().join(format!("outbox/{send_id}.eml"))).unwrap();
    let (html, _) = message_parts(&eml);
    let targets = [
        tracked_urls(&html, &base, "open").remove(0),
        tracked_urls(&html, &base, "click").remove(0),
    ];

    // Sixteen clients hammer the pixel and a link, each request with a user agent of its
    // own, and note every request that got its answer.
    let answered = Arc::new(Mutex::new(HashSet::new()));
    let mut clients = Vec::new();
    for worker in 0..16 {
        let (answered, http) = (answered.clone(), http.clone());
        let url = targets[worker % 2].clone();
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                let agent = format!("burst-{worker}-{i}");
                let res = http.get(&url).header("user-agent", &agent).send().await;
                match res {
                    Ok(res) if res.status() == 200 || res.status() == 302 => {
                        answered.lock().unwrap().insert(agent);
                    }
                    _ => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() > 50,
        "the burst was too small to mean anything: {}",
        answered.len()
    );

    let (mut server, base) = env.serve();
    let detail: Value = http
        .get(format!("{base}/api/v1/sends/{send_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let stored: HashSet<String> = detail["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["user_agent"].as_str().unwrap().to_string())
        .collect();
    let lost: Vec<&String> = answered.iter().filter(|a| !stored.contains(*a)).collect();
    assert!(
        lost.is_empty(),
        "{}: {} of {} answered hits lost, e.g. {:?}",
        backend.name(),
        lost.len(),
        answered.len(),
        lost.iter().take(5).collect::<Vec<_>>()
    );
    eprintln!(
        "{}: {} answered hits, all stored",
        backend.name(),
        answered.len()
    );
}
