//! `mailtally demo`: the main job on real emails, end to end.
//!
//! Starts a server with tracking on in a fresh folder, creates an organisation with a user
//! of every role, sends campaigns built from real public email templates through the
//! HTTP API, plays a realistic crowd of recipients, proxies and scanners against the
//! tracking endpoints over HTTP, and prints the stats table beside what it played.

mod crm;
mod crowd;
mod report;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use ipnet::IpNet;

use crate::config::Config;
use crate::server::{self, Running};
use crate::store::Role;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The demo keeps its database in `DATA_DIR/demo`, which it empties first.
    #[arg(long, env = "MAILTALLY_DATA_DIR", default_value = "./mailtally-data")]
    data_dir: PathBuf,

    /// Where the demo server listens; a free port is taken if this one is busy.
    #[arg(long, env = "MAILTALLY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// Print the report and exit instead of serving on.
    #[arg(long)]
    exit: bool,
}

/// The demo's templates: real public emails, see demo/emails/SOURCES.md.
const EMAILS: [(&str, &str); 5] = [
    (
        "Oxygen welcome",
        include_str!("../../../demo/emails/22-sendwithus-oxygen-welcome.html"),
    ),
    (
        "Go survey",
        include_str!("../../../demo/emails/20-sendwithus-go-survey.html"),
    ),
    (
        "Neopolitan invite",
        include_str!("../../../demo/emails/16-sendwithus-neopolitan-invite.html"),
    ),
    (
        "Merriweather password reset",
        include_str!("../../../demo/emails/26-sendgrid-merriweather-password-reset.html"),
    ),
    (
        "Responsive newsletter",
        include_str!("../../../demo/emails/08-leemunroe-responsive.html"),
    ),
];

/// Who sends what: campaign, template (an index into `EMAILS`), sender, recipients.
const PLAN: [(Option<&str>, usize, &str, usize); 5] = [
    (Some("Welcome series"), 0, "partner@demo.example", 40),
    (Some("Customer survey"), 1, "owner@demo.example", 30),
    (Some("Partner invite"), 2, "rep@demo.example", 20),
    (None, 3, "member@demo.example", 10),
    (Some("Monthly update"), 4, "admin@demo.example", 30),
];

const USERS: [(&str, Role, Option<&str>); 5] = [
    ("owner@demo.example", Role::Owner, None),
    ("admin@demo.example", Role::Admin, None),
    ("partner@demo.example", Role::Partner, None),
    (
        "rep@demo.example",
        Role::SalesRep,
        Some("partner@demo.example"),
    ),
    ("member@demo.example", Role::Member, None),
];

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let dir = args.data_dir.join("demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    let running = start_server(&args, dir.clone()).await?;
    let base = running.base_url.clone();
    println!(
        "mailtally demo: serving at {base} (data in {})",
        dir.display()
    );

    let mut tokens = Vec::new();
    for (email, role, partner) in USERS {
        let (_, token) =
            super::add_user(&running.state.store, "Demo Co", email, role, partner).await?;
        tokens.push((email, role, token));
    }
    let token_of = |email: &str| {
        tokens
            .iter()
            .find(|(e, _, _)| *e == email)
            .map(|(_, _, t)| t.clone())
            .unwrap_or_default()
    };

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("building the HTTP client")?;
    let mut crowd = crowd::Crowd::new(http.clone(), base.clone(), running.state.tokens.clone());
    let mut recipient = 0;
    for (campaign, template, sender, recipients) in PLAN {
        let (template_name, html) = EMAILS[template];
        let label = campaign.unwrap_or("(no campaign)");
        println!("sending {recipients} x {template_name:?} as {sender} ({label})");
        for i in 0..recipients {
            let to = crowd::Crowd::recipient_address(recipient);
            recipient += 1;
            let body = serde_json::json!({
                "to": to,
                "to_name": format!("Reader {i}"),
                "subject": format!("{template_name} for you"),
                "html": html,
                "campaign": campaign,
                "template": template_name,
            });
            let res = http
                .post(format!("{base}/api/v1/sends"))
                .bearer_auth(token_of(sender))
                .json(&body)
                .send()
                .await
                .context("sending through the API")?;
            anyhow::ensure!(
                res.status() == 201,
                "the send API answered {}",
                res.status()
            );
            let sent: serde_json::Value = res.json().await?;
            let links = sent["instrumentation"]["links_rewritten"]
                .as_u64()
                .unwrap_or(0);
            crowd.plan(
                label,
                sent["id"].as_i64().unwrap_or_default(),
                &to,
                links as u32,
            );
        }
    }

    crm::run(&http, &base, &token_of("partner@demo.example"), &mut crowd).await?;

    println!(
        "playing {} visits against the tracker over HTTP ...",
        crowd.planned_visits()
    );
    crowd.play().await?;

    let owner = token_of("owner@demo.example");
    let table = report::fetch(&http, &base, &owner).await?;
    report::print(&table, crowd.expected());

    println!(
        "\nOutbox (the sent .eml files): {}",
        dir.join("outbox").display()
    );
    if args.exit {
        return running.stop().await;
    }

    println!();
    println!("Sign-in tokens (Authorization: Bearer ...):");
    for (email, role, token) in &tokens {
        println!("  {:<9} {email:<22} {token}", role.as_str());
    }
    println!();
    println!("Try:  curl -s -H 'Authorization: Bearer {owner}' \\");
    println!("        '{base}/api/v1/stats/campaigns?range=7d'");
    println!("\nServing at {base}; press Ctrl-C to stop.");
    let shutdown = running.shutdown_handle();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = shutdown.send(true);
    });
    let store = running.state.store.clone();
    running.wait().await?;
    store.close().await;
    Ok(())
}

async fn start_server(args: &DemoArgs, data_dir: PathBuf) -> anyhow::Result<Running> {
    // The crowd speaks through loopback and names its addresses in X-Forwarded-For, as a
    // reverse proxy would, so loopback is the one trusted proxy.
    let loopback: Vec<IpNet> = vec!["127.0.0.0/8".parse()?, "::1/128".parse()?];
    let mut config = Config {
        database_url: None,
        data_dir,
        listen: args.listen,
        public_base_url: None,
        tracking_enabled: true,
        retention_days: 90,
        full_ip_hours: 0,
        secret: None,
        trusted_proxies: loopback,
        from: "Demo Co <hello@demo.example>".into(),
        unsubscribe_mailto: Some("unsubscribe@demo.example".into()),
        scheduler: Default::default(),
        mailgun: Default::default(),
    };
    match server::start(&config).await {
        Ok(running) => Ok(running),
        Err(error) if format!("{error:#}").contains("listening on") => {
            println!("{} is busy ({error:#}); taking a free port", args.listen);
            config.listen = SocketAddr::new(args.listen.ip(), 0);
            server::start(&config).await
        }
        Err(error) => Err(error),
    }
}
