//! `mailtally serve`: runs until Ctrl-C or SIGTERM, then shuts down gracefully.

use crate::config::Config;
use crate::server;

pub async fn run(config: Config) -> anyhow::Result<()> {
    let running = server::start(&config).await?;
    println!("mailtally is serving at {}", running.base_url);
    let shutdown = running.shutdown_handle();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = shutdown.send(true);
    });
    let store = running.state.store.clone();
    running.wait().await?;
    store.close().await;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
