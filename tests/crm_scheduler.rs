//! The campaign scheduler under stress (issue 5): several schedulers on one database never
//! send a step twice, and a scheduler killed between steps and restarted loses none.

mod common;
mod crm_support;

use std::time::Duration;

use common::{Backend, TestServer, backends, test_config};
use crm_support::{Api, expected_steps};
use mailtally::crm::{Scheduler, SchedulerSettings};
use mailtally::server;
use mailtally::store::Role;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A server without its own scheduler, so the test runs schedulers by hand.
async fn quiet_server(backend: &Backend) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(backend, dir.path().to_path_buf(), true).await;
    config.scheduler.enabled = false;
    TestServer::start_on(config, dir).await
}

/// Starts a scheduler on a server's mailer, with small batches so schedulers interleave.
fn spawn_scheduler(
    running: &server::Running,
    node: &str,
    stop: &watch::Sender<bool>,
) -> JoinHandle<()> {
    let settings = SchedulerSettings {
        batch: 3,
        node: node.to_string(),
        ..SchedulerSettings::every(Duration::from_millis(10))
    };
    let scheduler = Scheduler::new(running.state.mailer.clone(), settings);
    tokio::spawn(scheduler.run(stop.subscribe()))
}

#[tokio::test]
async fn several_schedulers_never_send_a_step_twice_on_every_backend() {
    for backend in backends() {
        several_schedulers(&backend).await;
    }
}

async fn several_schedulers(backend: &Backend) {
    let first = quiet_server(backend).await;
    // On PostgreSQL a second node shares the first one's database; on SQLite, which is one
    // process's file, the schedulers share the one server.
    let second = match backend {
        Backend::Postgres(_) => {
            let dir = tempfile::tempdir().unwrap();
            let mut config = test_config(backend, dir.path().to_path_buf(), true).await;
            config.database_url = first.config.database_url.clone();
            config.scheduler.enabled = false;
            Some(TestServer::start_on(config, dir).await)
        }
        Backend::Sqlite => None,
    };
    let token = first
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let api = Api::new(&first.running.base_url, &token);

    let contacts = 24;
    for i in 0..contacts {
        api.contact(
            &format!("c{i}@example.org"),
            &format!("C{i} Test"),
            &["many"],
        )
        .await;
    }
    let campaign = api.drip("Busy", "many", &[0, 150, 150]).await;

    let (stop, _) = watch::channel(false);
    let second_running = second.as_ref().map_or(&first.running, |s| &s.running);
    let tasks = vec![
        spawn_scheduler(&first.running, "a1", &stop),
        spawn_scheduler(&first.running, "a2", &stop),
        spawn_scheduler(second_running, "b1", &stop),
        spawn_scheduler(second_running, "b2", &stop),
    ];
    api.launch(campaign).await;
    api.wait_for(campaign, std::time::Duration::from_secs(30), |c| {
        c["counts"]["finished"] == contacts
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(true);
    for task in tasks {
        task.await.unwrap();
    }

    let mut outboxes = vec![first.config.outbox_dir()];
    if let Some(second) = &second {
        outboxes.push(second.config.outbox_dir());
    }
    let outbox_refs: Vec<&std::path::Path> = outboxes.iter().map(|p| p.as_path()).collect();
    let got = api.subjects_by_recipient(campaign, &outbox_refs).await;
    assert_eq!(got.len(), contacts as usize, "{}", backend.name());
    for i in 0..contacts {
        let subjects = &got[&format!("c{i}@example.org")];
        assert_eq!(
            subjects,
            &expected_steps(&format!("C{i}"), 3),
            "{}",
            backend.name()
        );
    }
    let counts = api.campaign(campaign).await["counts"].clone();
    for step in counts["steps"].as_array().unwrap() {
        assert_eq!(step["sent"], contacts, "{counts}");
        assert_eq!(step["interrupted"], 0, "{counts}");
    }

    if let Some(second) = second {
        second.stop().await;
    }
    first.stop().await;
}

#[tokio::test]
async fn a_scheduler_killed_between_steps_loses_and_repeats_nothing_on_every_backend() {
    for backend in backends() {
        killed_and_restarted(&backend).await;
    }
}

async fn killed_and_restarted(backend: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(backend, dir.path().to_path_buf(), true).await;
    config.scheduler.enabled = false;

    let running = server::start(&config).await.unwrap();
    let (_, token) = mailtally::cli::add_user(
        &running.state.store,
        "Acme",
        "o@acme.test",
        Role::Owner,
        None,
    )
    .await
    .unwrap();
    let api = Api::new(&running.base_url, &token);
    for i in 0..5 {
        api.contact(&format!("k{i}@example.org"), &format!("K{i}"), &["k"])
            .await;
    }
    let campaign = api.drip("Restart", "k", &[0, 1500, 200]).await;

    let (stop, _) = watch::channel(false);
    let task = spawn_scheduler(&running, "before", &stop);
    api.launch(campaign).await;
    api.wait_for(campaign, Duration::from_secs(20), |c| {
        c["counts"]["steps"][0]["sent"] == 5
    })
    .await;

    // Kill it outright, then let the second step fall due with nobody running.
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let counts = api.campaign(campaign).await["counts"].clone();
    assert_eq!(counts["steps"][1]["sent"], 0, "{counts}");
    assert_eq!(counts["active"], 5, "{counts}");
    running.stop().await.unwrap();

    // A new process on the same database picks up where the old one stopped.
    let running = server::start(&config).await.unwrap();
    let api = Api::new(&running.base_url, &token);
    let task = spawn_scheduler(&running, "after", &stop);
    api.wait_for(campaign, Duration::from_secs(20), |c| {
        c["counts"]["finished"] == 5
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(true);
    task.await.unwrap();

    let outbox = config.outbox_dir();
    let got = api.subjects_by_recipient(campaign, &[&outbox]).await;
    for i in 0..5 {
        let subjects = &got[&format!("k{i}@example.org")];
        assert_eq!(
            subjects,
            &expected_steps(&format!("K{i}"), 3),
            "{}",
            backend.name()
        );
    }
    let counts = api.campaign(campaign).await["counts"].clone();
    for step in counts["steps"].as_array().unwrap() {
        assert_eq!(step["sent"], 5, "{counts}");
        assert_eq!(step["interrupted"], 0, "{counts}");
        assert_eq!(step["pending"], 0, "{counts}");
    }
    running.stop().await.unwrap();
}
