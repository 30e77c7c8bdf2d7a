//! The demo's CRM part: contacts imported from CSV, templates with merge fields, a
//! broadcast and a three-step drip whose steps fall due while the demo runs, all sent by
//! the scheduler inside the server through the same instrumented send path.

use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};

use super::crowd::Crowd;

/// How many contacts the partner imports; the first `TRIAL` are on a trial.
const CONTACTS: usize = 24;
const TRIAL: usize = 12;
/// The drip's wait between steps; real drips wait days.
const STEP_DELAY: &str = "2s";

/// The CRM templates: hand-written for the demo, with merge fields and fallbacks.
const TEMPLATES: [(&str, &str, &str); 4] = [
    (
        "Product news",
        "What's new this month, {{ first_name | default(\"friend\") }}",
        "<html><body><p>Hi {{ first_name | default(\"there\") }},</p>\
         <p>Three things shipped this month. <a href=\"https://example.com/news/2026-12\">Read \
         the notes</a> or <a href=\"https://example.com/webinar?utm_source=news&amp;utm_medium=\
         email\">join the webinar</a>.</p></body></html>",
    ),
    (
        "Trial day 1",
        "Welcome to your trial, {{ first_name | default(\"there\") }}",
        "<html><body><p>Hi {{ first_name | default(\"there\") }} at {{ company | \
         default(\"your team\") }},</p><p>Start with <a href=\"https://example.com/start\">the \
         five-minute tour</a>.</p></body></html>",
    ),
    (
        "Trial day 3",
        "Tips for {{ company | default(\"your team\") }}",
        "<html><body><p>{{ first_name | default(\"Hello\") }}, teams like yours start with \
         <a href=\"https://example.com/guides/import\">importing contacts</a> and \
         <a href=\"https://example.com/guides/drips\">a first drip</a>.</p></body></html>",
    ),
    (
        "Trial day 7",
        "Your trial ends soon",
        "<html><body><p>{{ first_name | default(\"Hello\") }}, keep everything you built: \
         <a href=\"https://example.com/upgrade\">upgrade now</a>.</p></body></html>",
    ),
];

/// A small client for the demo's API calls as one user.
struct Api<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    token: &'a str,
}

impl Api<'_> {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        request = request.bearer_auth(self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let res = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = res.status();
        let text = res.text().await?;
        anyhow::ensure!(
            status.is_success(),
            "{method} {path} answered {status}: {text}"
        );
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }
}

/// Imports contacts, creates the templates and both campaigns as the partner, launches
/// them, waits until the scheduler has sent every step, and hands the sends to the crowd.
pub async fn run(
    http: &reqwest::Client,
    base: &str,
    partner_token: &str,
    crowd: &mut Crowd,
) -> anyhow::Result<()> {
    let api = Api {
        http,
        base,
        token: partner_token,
    };

    let mut csv = String::from("email,name,company,tags\n");
    for i in 0..CONTACTS {
        let tags = if i < TRIAL {
            "newsletter;trial"
        } else {
            "newsletter"
        };
        let email = Crowd::recipient_address(1000 + i);
        csv.push_str(&format!("{email},Contact {i},Company {},{tags}\n", i % 5));
    }
    let res = http
        .post(format!("{base}/api/v1/contacts/import"))
        .bearer_auth(partner_token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?;
    anyhow::ensure!(
        res.status().is_success(),
        "contact import answered {}",
        res.status()
    );
    println!("imported {CONTACTS} contacts from CSV ({TRIAL} on a trial)");

    let mut template_ids = Vec::new();
    for (name, subject, html) in TEMPLATES {
        let created = api
            .post(
                "/api/v1/templates",
                json!({ "name": name, "subject": subject, "html": html }),
            )
            .await?;
        template_ids.push(created["id"].as_i64().context("a template id")?);
    }

    let broadcast = api
        .post(
            "/api/v1/campaigns",
            json!({ "name": "Product news", "kind": "broadcast",
                    "template_id": template_ids[0], "tag": "newsletter" }),
        )
        .await?;
    let steps: Vec<Value> = template_ids[1..]
        .iter()
        .enumerate()
        .map(
            |(i, id)| json!({ "template_id": id, "delay": if i == 0 { "0s" } else { STEP_DELAY } }),
        )
        .collect();
    let drip = api
        .post(
            "/api/v1/campaigns",
            json!({ "name": "Trial onboarding", "kind": "drip", "steps": steps, "tag": "trial" }),
        )
        .await?;
    let ids = [
        broadcast["id"].as_i64().unwrap_or(0),
        drip["id"].as_i64().unwrap_or(0),
    ];
    for id in ids {
        api.post(&format!("/api/v1/campaigns/{id}/launch"), json!({}))
            .await?;
    }
    println!(
        "launched a broadcast and a three-step drip ({STEP_DELAY} between steps); \
         the scheduler sends them ..."
    );

    wait_until_sent(&api, ids[0], CONTACTS as i64, 1).await?;
    wait_until_sent(&api, ids[1], TRIAL as i64, 3).await?;

    for (id, label) in [(ids[0], "Product news"), (ids[1], "Trial onboarding")] {
        plan_campaign(&api, crowd, id, label).await?;
    }
    Ok(())
}

/// Polls a campaign until each of its `steps` has gone to `contacts` contacts.
async fn wait_until_sent(
    api: &Api<'_>,
    id: i64,
    contacts: i64,
    steps: usize,
) -> anyhow::Result<()> {
    let mut reported = 0;
    for _ in 0..120 {
        let campaign = api.get(&format!("/api/v1/campaigns/{id}")).await?;
        let empty = Vec::new();
        let counts = campaign["counts"]["steps"].as_array().unwrap_or(&empty);
        let done = counts
            .iter()
            .filter(|s| s["sent"].as_i64() == Some(contacts))
            .count();
        while reported < done {
            reported += 1;
            println!(
                "  {} step {reported} of {steps} sent to {contacts} contacts",
                campaign["name"]
            );
        }
        if done == steps {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    anyhow::bail!("campaign {id} did not finish sending in 30 s")
}

/// Hands every send of a campaign to the crowd.
async fn plan_campaign(
    api: &Api<'_>,
    crowd: &mut Crowd,
    id: i64,
    label: &str,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/stats/campaigns/{id}/recipients?range=all&per_page=500");
    let page = api.get(&path).await?;
    let empty = Vec::new();
    for recipient in page["recipients"].as_array().unwrap_or(&empty) {
        let send_id = recipient["send_id"].as_i64().context("a send id")?;
        let detail = api.get(&format!("/api/v1/sends/{send_id}")).await?;
        let links = detail["links"].as_array().map_or(0, Vec::len) as u32;
        let email = recipient["email"].as_str().unwrap_or_default();
        crowd.plan(label, send_id, email, links);
    }
    Ok(())
}
