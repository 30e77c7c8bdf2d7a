//! Starting and stopping the server: wires config, store, recorder, mailer and routes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::crm::{Scheduler, SchedulerSettings};
use crate::http::{AppState, app};
use crate::mailgun::Mailgun;
use crate::privacy::retention::{self, Retention};
use crate::sending::Mailer;
use crate::store::Store;
use crate::track::{AddressPolicy, Recorder, TokenKey};
use crate::transport::Outbox;

/// A server listening in the background.
pub struct Running {
    /// The address it listens on (the real port when the config asked for port 0).
    pub addr: SocketAddr,
    /// The public base URL its emails point at.
    pub base_url: String,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
    /// The campaign scheduler, when the config runs one.
    scheduler: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets open requests finish, and closes the database.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await.context("server task panicked")??;
        if let Some(scheduler) = self.scheduler {
            scheduler.await.context("campaign scheduler panicked")?;
        }
        self.state.store.close().await;
        Ok(())
    }

    /// Waits until the server ends (it ends on stop).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task panicked")??;
        if let Some(scheduler) = self.scheduler {
            scheduler.await.context("campaign scheduler panicked")?;
        }
        Ok(())
    }

    /// Asks the server to stop; `wait` then returns.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Opens the store and the listener and starts serving.
pub async fn start(config: &Config) -> anyhow::Result<Running> {
    let store = Store::open(config.database_url.as_deref(), &config.data_dir).await?;
    let secret = config.load_secret()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let base_url = match &config.public_base_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!("http://{addr}"),
    };

    let tokens = TokenKey::derive(&secret);
    let mailgun = Mailgun::from_config(&config.mailgun, store.clone(), &secret)?;
    let mailer = Mailer {
        store: store.clone(),
        tokens: tokens.clone(),
        base_url: base_url.clone(),
        tracking_enabled: config.tracking_enabled,
        from: config.from.clone(),
        unsubscribe_mailto: config.unsubscribe_mailto.clone(),
        transport: mailgun.transport(Outbox::new(config.outbox_dir())),
    };
    let state = AppState {
        recorder: Recorder::start_with(store.clone(), address_policy(config)),
        store,
        tokens,
        mailer,
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        mailgun,
    };

    let (shutdown, mut stopped) = watch::channel(false);
    let service = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
    });
    tracing::info!(%addr, tracking = config.tracking_enabled, "listening");

    let scheduler = config.scheduler.enabled.then(|| {
        let settings = SchedulerSettings {
            lease: Duration::from_millis(config.scheduler.lease_ms),
            ..SchedulerSettings::every(Duration::from_millis(config.scheduler.interval_ms))
        };
        let scheduler = Scheduler::new(state.mailer.clone(), settings);
        tokio::spawn(scheduler.run(shutdown.subscribe()))
    });
    // Retention runs wherever events are written; several nodes purging at once only
    // find less to delete.
    let retention = Retention {
        retention_days: config.retention_days,
        full_ip_hours: config.full_ip_hours,
    };
    tokio::spawn(retention::run_job(
        state.store.clone(),
        retention,
        shutdown.subscribe(),
    ));

    Ok(Running {
        addr,
        base_url,
        state,
        shutdown,
        task,
        scheduler,
    })
}

fn address_policy(config: &Config) -> AddressPolicy {
    if config.full_ip_hours > 0 {
        AddressPolicy::FullForAWhile
    } else {
        AddressPolicy::NetworkOnly
    }
}
