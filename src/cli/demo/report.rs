//! The demo's report: the stats table by campaign, as the API gives it, beside what the
//! crowd played.

use std::collections::BTreeMap;

use anyhow::Context;
use serde_json::Value;

use super::crowd::Expected;

/// The stats rows by campaign, all time, as the owner sees them.
pub async fn fetch(http: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<Value> {
    let res = http
        .get(format!("{base}/api/v1/stats/campaigns?range=all"))
        .bearer_auth(token)
        .send()
        .await
        .context("reading the stats")?;
    anyhow::ensure!(
        res.status().is_success(),
        "the stats API answered {}",
        res.status()
    );
    Ok(res.json().await?)
}

/// Prints the table, and whether each figure matches what the crowd did.
pub fn print(table: &Value, expected: &BTreeMap<String, Expected>) {
    let empty = Vec::new();
    let rows = table["rows"].as_array().unwrap_or(&empty);
    println!();
    println!(
        "{:<18} {:>5} {:>7} {:>6} {:>6} {:>8} {:>7} {:>6} {:>8} {:>6}",
        "campaign",
        "sends",
        "opened",
        "open%",
        "MPP%",
        "mpp",
        "clicked",
        "click%",
        "filtered",
        "failed"
    );
    let mut mismatches = Vec::new();
    for row in rows {
        let name = row["name"].as_str().unwrap_or("?");
        let n = |key: &str| row[key].as_i64().unwrap_or(0);
        let pct = |key: &str| row[key].as_f64().unwrap_or(0.0) * 100.0;
        println!(
            "{:<18} {:>5} {:>7} {:>5.1}% {:>5.1}% {:>8} {:>7} {:>5.1}% {:>8} {:>6}",
            truncate(name, 18),
            n("sends"),
            n("opened"),
            pct("open_rate"),
            pct("mpp_share"),
            n("mpp_opens"),
            n("clicked"),
            pct("click_rate"),
            n("filtered"),
            n("failed"),
        );
        if let Some(want) = expected.get(name) {
            let pairs = [
                ("sends", want.sends),
                ("opened", want.opened),
                ("clicked", want.clicked),
                ("mpp_opens", want.mpp_opens),
                ("filtered", want.filtered),
            ];
            for (key, value) in pairs {
                if n(key) != value {
                    mismatches.push(format!(
                        "{name}: {key} is {} but the crowd made {value}",
                        n(key)
                    ));
                }
            }
        }
    }
    println!();
    println!("What the crowd did, by the demo's own count:");
    println!(
        "{:<18} {:>5} {:>7} {:>8} {:>7} {:>8}",
        "campaign", "sends", "opened", "mpp", "clicked", "filtered"
    );
    for (name, want) in expected {
        println!(
            "{:<18} {:>5} {:>7} {:>8} {:>7} {:>8}",
            truncate(name, 18),
            want.sends,
            want.opened,
            want.mpp_opens,
            want.clicked,
            want.filtered
        );
    }
    println!();
    println!("open% and click% count people only, over tracked sends; MPP opens (Apple's proxy)");
    println!("and filtered hits (scanners, previews, bots, the honeypot) are kept apart.");
    if mismatches.is_empty() {
        println!("Every figure above matches what the demo's crowd did.");
    } else {
        println!("These figures differ from what the demo's crowd did:");
        for m in mismatches {
            println!("  - {m}");
        }
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}
