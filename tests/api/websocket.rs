//! The WebSocket protocol: close codes for protocol mistakes, and the caps on
//! subscriptions and connections.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, WsClient};

const PUBLISHED: &str = "subscription { articlePublished { slug } }";

fn subscribe(id: &str) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": PUBLISHED } })
}

/// Sends `connection_init` and waits for the acknowledgement.
async fn acknowledged(app: &TestApp) -> WsClient {
    let mut client = WsClient::connect(app, "graphql-transport-ws").await;
    client.init(None).await;
    client
}

/// Asserts the next thing the client sees is a close with `code`.
async fn assert_closed(client: &mut WsClient, code: u16) {
    let message = client.next().await.expect("a close frame");
    assert_eq!(message["close"], code, "{message}");
}

#[tokio::test]
async fn connection_init_must_come_within_the_configured_time() {
    let app = TestApp::spawn_configured(|c| c.protection.ws_init_timeout_ms = 700).await;
    // Just under: init after 300 ms is acknowledged.
    let mut in_time = WsClient::connect(&app, "graphql-transport-ws").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    in_time
        .send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(in_time.next().await.expect("ack")["type"], "connection_ack");
    // The acknowledged connection is not closed when the time passes.
    assert!(in_time.quiet_for(Duration::from_millis(800)).await);
    // Just over: nothing sent, closed with 4408.
    let mut silent = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_closed(&mut silent, 4408).await;
}

#[tokio::test]
async fn a_second_connection_init_closes_with_4429() {
    let app = TestApp::spawn().await;
    let mut client = acknowledged(&app).await;
    client
        .send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_closed(&mut client, 4429).await;
}

#[tokio::test]
async fn subscribing_before_the_acknowledgement_closes_with_4401() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.send(subscribe("1")).await;
    assert_closed(&mut client, 4401).await;
}

#[tokio::test]
async fn a_duplicate_subscription_id_closes_with_4409() {
    let app = TestApp::spawn().await;
    let mut client = acknowledged(&app).await;
    client.send(subscribe("same")).await;
    client.send(subscribe("same")).await;
    assert_closed(&mut client, 4409).await;
}

#[tokio::test]
async fn an_id_can_be_used_again_once_its_operation_completed() {
    let app = TestApp::spawn().await;
    let mut client = acknowledged(&app).await;
    for _ in 0..2 {
        client
            .send(json!({ "id": "q", "type": "subscribe", "payload": { "query": "{ tags(first: 1) { name } }" } }))
            .await;
        let next = client.next().await.expect("the result");
        assert_eq!(next["type"], "next", "{next}");
        let complete = client.next().await.expect("complete");
        assert_eq!(complete, json!({ "type": "complete", "id": "q" }));
    }
}

#[tokio::test]
async fn invalid_messages_close_with_4400() {
    let app = TestApp::spawn().await;
    for text in [
        "not json",
        r#"{"type":"hello"}"#,
        r#"{"type":"subscribe","id":7,"payload":{"query":"{ tags { totalCount } }"}}"#,
    ] {
        let mut client = acknowledged(&app).await;
        client.send_text(text).await;
        assert_closed(&mut client, 4400).await;
    }
    // Before init too.
    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.send_text("[]").await;
    assert_closed(&mut client, 4400).await;
}

#[tokio::test]
async fn a_bad_token_in_connection_init_closes_with_4403() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client
        .send(json!({ "type": "connection_init", "payload": { "Authorization": "Bearer not-a-token" } }))
        .await;
    assert_closed(&mut client, 4403).await;
}

#[tokio::test]
async fn subscriptions_per_connection_are_capped_and_the_connection_stays() {
    let app = TestApp::spawn_configured(|c| c.protection.ws_max_subscriptions = 2).await;
    let jake = app.register("jake").await;
    let mut client = acknowledged(&app).await;
    client.send(subscribe("1")).await;
    client.send(subscribe("2")).await;
    client.send(subscribe("3")).await;
    let refused = client.next().await.expect("an error for the third");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "3");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "LIMIT_EXCEEDED"
    );
    // The two under the cap still deliver.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.create_article(&jake, "Capped", &[], false).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let event = client.next().await.expect("an event");
        assert_eq!(event["type"], "next", "{event}");
        assert_eq!(
            event["payload"]["data"]["articlePublished"]["slug"],
            "capped"
        );
        ids.push(event["id"].as_str().expect("id").to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["1", "2"]);
    // Completing one frees a place.
    client.send(json!({ "id": "1", "type": "complete" })).await;
    let completed = client.next().await.expect("complete");
    assert_eq!(completed, json!({ "type": "complete", "id": "1" }));
    client.send(subscribe("3")).await;
    assert!(client.quiet_for(Duration::from_millis(300)).await);
    app.create_article(&jake, "Again", &[], false).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let event = client.next().await.expect("an event");
        assert_eq!(
            event["payload"]["data"]["articlePublished"]["slug"],
            "again"
        );
        ids.push(event["id"].as_str().expect("id").to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["2", "3"]);
}

#[tokio::test]
async fn connections_per_client_are_capped_with_429() {
    let app = TestApp::spawn_configured(|c| c.protection.ws_max_connections_per_client = 2).await;
    let first = acknowledged(&app).await;
    let _second = acknowledged(&app).await;
    let third = WsClient::try_connect_url(&app.ws_url(), "graphql-transport-ws").await;
    assert_eq!(third.err(), Some(429));
    drop(first);
    // The server notices the closed socket and gives the place back.
    let mut again = None;
    for _ in 0..50 {
        if let Ok(client) = WsClient::try_connect_url(&app.ws_url(), "graphql-transport-ws").await {
            again = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        again.is_some(),
        "a place was freed when a connection closed"
    );
}

/// The HTTP status of a WebSocket upgrade sent with `origin`, if any.
async fn upgrade_status(app: &TestApp, origin: Option<&str>) -> u16 {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = app.ws_url().into_client_request().expect("ws request");
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    if let Some(origin) = origin {
        headers.insert("origin", origin.parse().expect("header"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(err) => panic!("ws connect: {err}"),
    }
}

#[tokio::test]
async fn upgrades_from_origins_outside_the_allowlist_are_refused() {
    let app = TestApp::spawn_configured(|c| {
        c.protection.cors_allowed_origins = "https://app.example".into();
    })
    .await;
    assert_eq!(
        upgrade_status(&app, Some("https://evil.example")).await,
        403
    );
    assert_eq!(upgrade_status(&app, Some("null")).await, 403);
    assert_eq!(upgrade_status(&app, Some("https://app.example")).await, 101);
    assert_eq!(upgrade_status(&app, None).await, 101, "not a browser");
    let own = app.address.clone();
    assert_eq!(
        upgrade_status(&app, Some(&own)).await,
        101,
        "GraphiQL's page"
    );
    // Without an allowlist, any origin may.
    let open = TestApp::spawn().await;
    assert_eq!(
        upgrade_status(&open, Some("https://evil.example")).await,
        101
    );
}
