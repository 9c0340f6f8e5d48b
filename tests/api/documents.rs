//! Automatic persisted queries and trusted documents.

use serde_json::{Value, json};

use crate::helpers::{CREATE_ARTICLE, REGISTER, TestApp, WsClient, assert_error};

fn sha256(document: &str) -> String {
    conduit::documents::sha256_hex(document)
}

fn apq(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app.post_raw(body.to_string(), &[]).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn a_persisted_query_is_found_after_it_was_sent_once() {
    let app = TestApp::spawn().await;
    let query = "query Tags { tags { name } }";
    let hash = sha256(query);
    let (status, body) = post(&app, json!({ "extensions": apq(&hash) })).await;
    assert_eq!(status, 200);
    assert_error(&body, "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");

    let (_, body) = post(&app, json!({ "query": query, "extensions": apq(&hash) })).await;
    assert!(body["data"]["tags"].is_array(), "{body}");
    let (_, body) = post(&app, json!({ "extensions": apq(&hash) })).await;
    assert!(body["data"]["tags"].is_array(), "{body}");

    // Over GET too, as CDNs cache it.
    let response = reqwest::Client::new()
        .get(format!("{}/graphql", app.address))
        .query(&[("extensions", apq(&hash).to_string())])
        .header("apollo-require-preflight", "true")
        .send()
        .await
        .expect("get");
    let body: Value = response.json().await.expect("json");
    assert!(body["data"]["tags"].is_array(), "{body}");

    // A hash that is not the document's is refused, and stores nothing.
    let (status, body) = post(
        &app,
        json!({ "query": "{ tags { articleCount } }", "extensions": apq(&sha256("other")) }),
    )
    .await;
    assert_eq!(status, 400);
    assert_error(&body, "BAD_USER_INPUT");
}

#[tokio::test]
async fn persisted_queries_can_be_switched_off() {
    let app = TestApp::spawn_configured(|c| c.protection.persisted_queries = false).await;
    let query = "{ tags { name } }";
    let (_, body) = post(
        &app,
        json!({ "query": query, "extensions": apq(&sha256(query)) }),
    )
    .await;
    assert_error(&body, "PERSISTED_QUERY_NOT_SUPPORTED");
}

fn manifest(dir: &std::path::Path, documents: &[&str]) -> std::path::PathBuf {
    let map: serde_json::Map<String, Value> = documents
        .iter()
        .map(|doc| (sha256(doc), Value::String((*doc).to_owned())))
        .collect();
    let path = dir.join("persisted-documents.json");
    std::fs::write(&path, Value::Object(map).to_string()).expect("write manifest");
    path
}

#[tokio::test]
async fn trusted_mode_runs_only_documents_in_the_manifest() {
    let dir = tempfile::tempdir().expect("dir");
    let trusted = "query Tags { tags { name } }";
    let path = manifest(dir.path(), &[trusted]);
    let app = TestApp::spawn_configured(|c| {
        c.protection.trusted_documents = Some(path.clone());
        c.protection.trusted_documents_only = true;
    })
    .await;
    // By hash, as documentId or as a persisted query, and as identical text.
    let (_, body) = post(
        &app,
        json!({ "documentId": format!("sha256:{}", sha256(trusted)) }),
    )
    .await;
    assert!(body["data"]["tags"].is_array(), "{body}");
    let (_, body) = post(&app, json!({ "extensions": apq(&sha256(trusted)) })).await;
    assert!(body["data"]["tags"].is_array(), "{body}");
    let (_, body) = post(&app, json!({ "query": trusted })).await;
    assert!(body["data"]["tags"].is_array(), "{body}");

    // Anything else is refused, even a registration attempt.
    let other = "query Tags { tags { name articleCount } }";
    for request in [
        json!({ "query": other }),
        json!({ "query": other, "extensions": apq(&sha256(other)) }),
        json!({ "documentId": sha256(other) }),
    ] {
        let (status, body) = post(&app, request.clone()).await;
        assert_eq!(status, 400, "{request}");
        assert_error(&body, "DOCUMENT_NOT_TRUSTED");
    }
}

#[tokio::test]
async fn without_trusted_mode_the_manifest_serves_hashes_and_other_documents_run() {
    let dir = tempfile::tempdir().expect("dir");
    let trusted = "query Tags { tags { name } }";
    let path = manifest(dir.path(), &[trusted]);
    let app =
        TestApp::spawn_configured(|c| c.protection.trusted_documents = Some(path.clone())).await;
    let (_, body) = post(&app, json!({ "documentId": sha256(trusted) })).await;
    assert!(body["data"]["tags"].is_array(), "{body}");
    let (_, body) = post(&app, json!({ "query": "{ tags { articleCount } }" })).await;
    assert!(body["data"]["tags"].is_array(), "{body}");
}

#[tokio::test]
async fn trusted_mode_holds_over_websocket_too() {
    let dir = tempfile::tempdir().expect("dir");
    let trusted = "subscription Published { articlePublished { slug } }";
    // The helpers' own documents are trusted too, to make the event.
    let path = manifest(dir.path(), &[trusted, REGISTER, CREATE_ARTICLE]);
    let app = TestApp::spawn_configured(|c| {
        c.protection.trusted_documents = Some(path.clone());
        c.protection.trusted_documents_only = true;
    })
    .await;
    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(None).await;
    client
        .send(json!({ "id": "other", "type": "subscribe", "payload": {
            "query": "subscription { articlePublished { slug title } }" } }))
        .await;
    let refused = client.next().await.expect("an error");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "other");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "DOCUMENT_NOT_TRUSTED"
    );
    client
        .send(json!({ "id": "trusted", "type": "subscribe", "payload": { "query": trusted } }))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let jake = app.register("jake").await;
    app.create_article(&jake, "Trusted", &[], false).await;
    let event = client.next().await.expect("an event");
    assert_eq!(event["id"], "trusted", "{event}");
    assert_eq!(
        event["payload"]["data"]["articlePublished"]["slug"],
        "trusted"
    );
}

/// Sends a document with its persisted-query hash, then the hash alone;
/// returns the answer to the hash alone.
async fn register_then_ask(app: &TestApp, query: &str, variables: Value) -> Value {
    let hash = sha256(query);
    post(
        app,
        json!({ "query": query, "variables": variables, "extensions": apq(&hash) }),
    )
    .await;
    post(
        app,
        json!({ "extensions": apq(&hash), "variables": variables }),
    )
    .await
    .1
}

#[tokio::test]
async fn only_documents_that_were_admitted_validated_and_charged_are_persisted() {
    let app = TestApp::spawn_configured(|c| c.protection.max_tokens = 200).await;
    // Fails validation.
    let invalid = "{ nope }";
    assert_error(
        &register_then_ask(&app, invalid, json!({})).await,
        "PERSISTED_QUERY_NOT_FOUND",
    );
    // Over the token limit.
    let long = format!("{{ {} }}", "tags { name } ".repeat(50));
    assert_error(
        &register_then_ask(&app, &long, json!({})).await,
        "PERSISTED_QUERY_NOT_FOUND",
    );
    // Larger than a persisted document may be, though it runs.
    let large = format!(
        "{{ article(slug: \"{}\") {{ title }} }}",
        "x".repeat(70 * 1024)
    );
    let ran = post(
        &app,
        json!({ "query": large, "extensions": apq(&sha256(&large)) }),
    )
    .await
    .1;
    assert!(ran["errors"].is_null(), "{ran}");
    assert_error(
        &register_then_ask(&app, &large, json!({})).await,
        "PERSISTED_QUERY_NOT_FOUND",
    );
    // A good one is kept.
    let good = "query Good { tags { name } }";
    let body = register_then_ask(&app, good, json!({})).await;
    assert!(body["data"]["tags"].is_array(), "{body}");
}

#[tokio::test]
async fn a_registration_its_sender_cannot_pay_for_is_not_kept() {
    let app = TestApp::spawn_configured(|c| c.protection.rate_limit_points = 1).await;
    let spend = post(&app, json!({ "query": "{ tags { name } }" })).await;
    assert!(spend.1["errors"].is_null(), "{}", spend.1);
    let query = "query Unpaid { tags { articleCount } }";
    let (status, refused) = post(
        &app,
        json!({ "query": query, "extensions": apq(&sha256(query)) }),
    )
    .await;
    assert_eq!(status, 429);
    assert_error(&refused, "RATE_LIMITED");
    // Asked by hash, the server does not know it (had it kept the document,
    // running it would be refused for the budget instead).
    let (_, body) = post(&app, json!({ "extensions": apq(&sha256(query)) })).await;
    assert_error(&body, "PERSISTED_QUERY_NOT_FOUND");
}

#[tokio::test]
async fn no_error_echoes_the_document_back() {
    let app = TestApp::spawn().await;
    let filler = "x".repeat(1_000_000);
    let cases = [
        // A syntax error: the parser quotes the whole offending line.
        format!("{{ article(slug: \"{filler}\") "),
        // A value of the wrong type: validation quotes the value.
        format!("{{ articles(orderBy: X{filler}) {{ totalCount }} }}"),
    ];
    for document in cases {
        let (_, body) = post(&app, json!({ "query": document })).await;
        let text = body.to_string();
        assert!(text.len() < 2_000, "{} bytes: {}", text.len(), &text[..300]);
        assert_error(&body, "BAD_USER_INPUT");
    }
    let (_, body) = post(&app, json!({ "query": "{ tags { name }" })).await;
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(
        message.starts_with("syntax error at line 1, column 16: expected"),
        "{message}"
    );
}
