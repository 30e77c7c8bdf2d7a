//! Helpers shared by the CRM tests: a small JSON client for the API, a drip or broadcast
//! built through it, and reading what each contact was sent from the outbox.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The API as one user sees it.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub fn new(base: &str, token: &str) -> Api {
        Api {
            http: crate::common::client(),
            base: base.to_string(),
            token: token.to_string(),
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let res = request.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Calls and expects `want`, returning the body.
    pub async fn expect(&self, want: u16, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method, path, body).await;
        assert_eq!(status, want, "{method} {path}: {answer}");
        answer
    }

    pub async fn get(&self, path: &str) -> Value {
        self.expect(200, "GET", path, None).await
    }

    pub async fn import_csv(&self, csv: &str) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/api/v1/contacts/import", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "text/csv")
            .body(csv.to_string())
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    pub async fn contact(&self, email: &str, name: &str, tags: &[&str]) -> i64 {
        let body = json!({ "email": email, "name": name, "tags": tags });
        let created = self
            .expect(201, "POST", "/api/v1/contacts", Some(body))
            .await;
        created["id"].as_i64().unwrap()
    }

    pub async fn template(&self, name: &str, subject: &str, html: &str) -> i64 {
        let body = json!({ "name": name, "subject": subject, "html": html,
            "text": format!("{subject} (text)") });
        let created = self
            .expect(201, "POST", "/api/v1/templates", Some(body))
            .await;
        created["id"].as_i64().unwrap()
    }

    /// A drip of one template per delay, `Step N for {{ first_name }}`, launched to `tag`
    /// later; returns its id.
    pub async fn drip(&self, name: &str, tag: &str, delays_ms: &[i64]) -> i64 {
        let mut steps = Vec::new();
        for (i, delay_ms) in delays_ms.iter().enumerate() {
            let template = self
                .template(
                    &format!("{name} step {}", i + 1),
                    &format!("Step {} for {{{{ first_name }}}}", i + 1),
                    &format!(
                        "<p>Hi {{{{ first_name | default(\"there\") }}}}, step {}.</p>\
                         <a href=\"https://example.com/step{}\">Read</a>",
                        i + 1,
                        i + 1
                    ),
                )
                .await;
            steps.push(json!({ "template_id": template, "delay_ms": delay_ms }));
        }
        let body = json!({ "name": name, "kind": "drip", "tag": tag, "steps": steps });
        let created = self
            .expect(201, "POST", "/api/v1/campaigns", Some(body))
            .await;
        created["id"].as_i64().unwrap()
    }

    pub async fn launch(&self, campaign_id: i64) -> Value {
        let path = format!("/api/v1/campaigns/{campaign_id}/launch");
        self.expect(200, "POST", &path, None).await
    }

    pub async fn campaign(&self, campaign_id: i64) -> Value {
        self.get(&format!("/api/v1/campaigns/{campaign_id}")).await
    }

    /// Polls the campaign until `done` holds for it, for at most `limit`.
    pub async fn wait_for(&self, campaign_id: i64, limit: Duration, done: impl Fn(&Value) -> bool) {
        let start = Instant::now();
        loop {
            let campaign = self.campaign(campaign_id).await;
            if done(&campaign) {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "campaign {campaign_id} did not get there: {campaign}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The subjects each recipient of a campaign got, in send order, read from the
    /// outbox `.eml` of each send.
    pub async fn subjects_by_recipient(
        &self,
        campaign_id: i64,
        outboxes: &[&Path],
    ) -> BTreeMap<String, Vec<String>> {
        let path =
            format!("/api/v1/stats/campaigns/{campaign_id}/recipients?range=all&per_page=500");
        let recipients = self.get(&path).await;
        let mut sends: Vec<(i64, String)> = recipients["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["send_id"].as_i64().unwrap(),
                    r["email"].as_str().unwrap().into(),
                )
            })
            .collect();
        sends.sort();
        let mut by_recipient: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (send_id, email) in sends {
            let subject = outbox_subject(outboxes, send_id);
            by_recipient.entry(email).or_default().push(subject);
        }
        by_recipient
    }
}

/// The decoded subject of a send's message, from whichever outbox holds it.
pub fn outbox_subject(outboxes: &[&Path], send_id: i64) -> String {
    for dir in outboxes {
        let path = dir.join(format!("{send_id}.eml"));
        if let Ok(eml) = std::fs::read(&path) {
            let message = mail_parser::MessageParser::default().parse(&eml).unwrap();
            return message.subject().unwrap_or_default().to_string();
        }
    }
    panic!("no outbox holds send {send_id}")
}

/// `Step 1 for {first}`, `Step 2 for {first}`, ... up to `steps`.
pub fn expected_steps(first: &str, steps: usize) -> Vec<String> {
    (1..=steps)
        .map(|i| format!("Step {i} for {first}"))
        .collect()
}
