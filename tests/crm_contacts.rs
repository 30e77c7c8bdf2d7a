//! Contacts, templates and one-off CRM email over HTTP (issue 5): CSV import all or
//! nothing, role scoping, HTML escaping of contact data, suppression answers, and old sends
//! untouched by template edits.

mod common;
mod crm_support;

use common::{Backend, TestServer, backends, message_parts};
use crm_support::Api;
use mailtally::store::Role;
use serde_json::json;

#[tokio::test]
async fn csv_import_is_all_or_nothing_on_every_backend() {
    for backend in backends() {
        csv_import(&backend).await;
    }
}

async fn csv_import(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let token = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let api = Api::new(&server.running.base_url, &token);

    let bad = "email,name,tags,company\n\
               ada@example.org,Ada Lovelace,lead;vip,Engines\n\
               not-an-email,Nobody,,\n\
               bob@example.org,Bob,lead,Paint\n\
               ADA@example.org,Ada Again,,\n\
               carol@example.org,Carol,lead\n";
    let (status, answer) = api.import_csv(bad).await;
    assert_eq!(status, 400, "{} {answer}", backend.name());
    let lines: Vec<i64> = answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [3, 5, 6], "{answer}");
    assert!(
        answer["rows"][1]["message"]
            .as_str()
            .unwrap()
            .contains("line 2")
    );
    let listed = api.get("/api/v1/contacts").await;
    assert_eq!(
        listed["contacts"],
        json!([]),
        "nothing imported from a failed file"
    );

    let good = "email,name,tags,company\n\
                ada@example.org,Ada Lovelace,lead;vip,Engines\n\
                bob@example.org,Bob,lead,Paint\n";
    let (status, answer) = api.import_csv(good).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer, json!({ "created": 2, "updated": 0 }));

    let again = "email,name,city\nADA@example.org,,London\n";
    let (status, answer) = api.import_csv(again).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer, json!({ "created": 0, "updated": 1 }));

    let found = api.get("/api/v1/contacts?email=Ada@Example.ORG").await;
    let ada = &found["contacts"][0];
    assert_eq!(found["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(ada["name"], "Ada Lovelace", "an empty cell keeps the name");
    assert_eq!(
        ada["fields"],
        json!({ "city": "London", "company": "Engines" })
    );
    assert_eq!(ada["tags"], json!(["lead", "vip"]));
    let tagged = api.get("/api/v1/contacts?tag=lead").await;
    assert_eq!(tagged["contacts"].as_array().unwrap().len(), 2);

    let res = server
        .http
        .post(server.url("/api/v1/contacts/import"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    server.stop().await;
}

#[tokio::test]
async fn roles_scope_contacts_and_campaigns_on_every_backend() {
    for backend in backends() {
        scoping(&backend).await;
    }
}

async fn scoping(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let base = &server.running.base_url;
    let owner = Api::new(
        base,
        &server.user("Acme", "o@acme.test", Role::Owner, None).await,
    );
    let rep = Api::new(
        base,
        &server.user("Acme", "r@acme.test", Role::Member, None).await,
    );
    let other_org = Api::new(
        base,
        &server.user("Else", "e@else.test", Role::Owner, None).await,
    );

    let mine = rep.contact("mine@example.org", "Mine", &["t"]).await;
    let theirs = owner.contact("theirs@example.org", "Theirs", &["t"]).await;

    let seen = rep.get("/api/v1/contacts").await;
    assert_eq!(
        seen["contacts"].as_array().unwrap().len(),
        1,
        "{}",
        backend.name()
    );
    assert_eq!(seen["contacts"][0]["id"], mine);
    let seen = owner.get("/api/v1/contacts").await;
    assert_eq!(seen["contacts"].as_array().unwrap().len(), 2);
    rep.expect(404, "GET", &format!("/api/v1/contacts/{theirs}"), None)
        .await;
    other_org
        .expect(404, "GET", &format!("/api/v1/contacts/{mine}"), None)
        .await;
    let patch = json!({ "owner_id": 1 });
    rep.expect(
        403,
        "PATCH",
        &format!("/api/v1/contacts/{mine}"),
        Some(patch),
    )
    .await;

    // A member's import may not touch someone else's contact.
    let (status, answer) = rep.import_csv("email\ntheirs@example.org\n").await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["rows"][0]["line"], 2);

    let template = owner
        .template("Shared", "Hi {{ first_name }}", "<p>Hi</p>")
        .await;
    let body = json!({ "name": "Rep's", "kind": "broadcast", "template_id": template,
        "tag": "t" });
    let campaign = rep
        .expect(201, "POST", "/api/v1/campaigns", Some(body))
        .await;
    let campaign_id = campaign["id"].as_i64().unwrap();
    let launched = rep.launch(campaign_id).await;
    assert_eq!(
        launched["enrolled"], 1,
        "a member enrolls only its own contacts"
    );
    assert_eq!(
        owner.get("/api/v1/campaigns").await["campaigns"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let other = owner.drip("Owner's", "t", &[0]).await;
    rep.expect(404, "GET", &format!("/api/v1/campaigns/{other}"), None)
        .await;
    assert_eq!(
        rep.get("/api/v1/campaigns").await["campaigns"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let edit = json!({ "subject": "Changed" });
    rep.expect(
        403,
        "PATCH",
        &format!("/api/v1/templates/{template}"),
        Some(edit),
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn one_off_crm_email_escapes_contact_data_and_respects_suppression() {
    for backend in backends() {
        one_off_email(&backend).await;
    }
}

async fn one_off_email(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let token = server
        .user("Acme", "owner@acme.test", Role::Owner, None)
        .await;
    let api = Api::new(&server.running.base_url, &token);

    let body = json!({ "email": "mallory@example.org",
        "name": "<script>alert(1)</script> Mallory", "fields": { "company": "A&B <Ltd>" } });
    let created = api
        .expect(201, "POST", "/api/v1/contacts", Some(body))
        .await;
    let mallory = created["id"].as_i64().unwrap();
    let template = api
        .template(
            "Welcome",
            "Welcome {{ first_name }}",
            "<p>Hi {{ name }} of {{ company | default(\"your company\") }}</p>\
             <a href=\"https://example.com/v1\">Start</a>",
        )
        .await;

    let path = format!("/api/v1/contacts/{mallory}/send");
    let sent = api
        .expect(201, "POST", &path, Some(json!({ "template_id": template })))
        .await;
    let send_id = sent["id"].as_i64().unwrap();
    let (html, text) = message_parts(&server.outbox_message(send_id));
    assert!(!html.contains("<script>"), "{} {html}", backend.name());
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; Mallory"),
        "{html}"
    );
    assert!(html.contains("A&amp;B &lt;Ltd&gt;"), "{html}");
    assert!(
        text.unwrap().contains("Welcome"),
        "the text body is rendered too"
    );

    // Editing the template changes later sends only; the old send keeps its links.
    let edit = json!({ "html": "<p>New</p><a href=\"https://example.com/v2\">Start</a>" });
    api.expect(
        200,
        "PATCH",
        &format!("/api/v1/templates/{template}"),
        Some(edit),
    )
    .await;
    let old = api.get(&format!("/api/v1/sends/{send_id}")).await;
    assert_eq!(old["links"][0]["url"], "https://example.com/v1", "{old}");

    // A written email with merge fields.
    let written = json!({ "subject": "Quick note, {{ first_name }}",
        "html": "<p>{{ email }}</p>" });
    let sent = api.expect(201, "POST", &path, Some(written)).await;
    let (html, _) = message_parts(&server.outbox_message(sent["id"].as_i64().unwrap()));
    assert!(html.contains("mallory@example.org"), "{html}");

    api.expect(
        200,
        "PATCH",
        &format!("/api/v1/contacts/{mallory}"),
        Some(json!({ "status": "blocked" })),
    )
    .await;
    let refused = api
        .expect(409, "POST", &path, Some(json!({ "template_id": template })))
        .await;
    let why = refused["error"].as_str().unwrap();
    assert!(why.contains("blocked (manual)"), "{why}");

    // A manual block can be lifted; an unsubscribe cannot.
    let contact_path = format!("/api/v1/contacts/{mallory}");
    api.expect(
        200,
        "PATCH",
        &contact_path,
        Some(json!({ "status": "active" })),
    )
    .await;
    api.expect(
        200,
        "PATCH",
        &contact_path,
        Some(json!({ "status": "unsubscribed" })),
    )
    .await;
    api.expect(
        409,
        "PATCH",
        &contact_path,
        Some(json!({ "status": "active" })),
    )
    .await;

    let bad = json!({ "name": "Broken", "subject": "x", "html": "{% if %}" });
    api.expect(400, "POST", "/api/v1/templates", Some(bad))
        .await;
    server.stop().await;
}
