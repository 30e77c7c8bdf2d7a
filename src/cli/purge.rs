//! `mailtally purge`: deletes raw events past the retention period now, as the job inside
//! `serve` does every few minutes. Counters, and so every figure, stay as they are.

use crate::config::Config;
use crate::privacy::retention;
use crate::store::Store;

pub async fn run(config: Config) -> anyhow::Result<()> {
    let store = Store::open(config.database_url.as_deref(), &config.data_dir).await?;
    let purged = retention::purge(&store, config.retention_days).await;
    let cut = match (&purged, config.full_ip_hours) {
        (Ok(_), hours) if hours > 0 => Some(retention::cut_addresses(&store, hours).await),
        _ => None,
    };
    store.close().await;
    let purged = purged?;
    println!(
        "purged {purged} events older than {} days; counters are unchanged",
        config.retention_days
    );
    if let Some(cut) = cut {
        println!("cut {} client addresses to their network", cut?);
    }
    Ok(())
}
