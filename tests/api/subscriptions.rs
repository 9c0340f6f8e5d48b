//! Subscriptions over WebSocket, in both subprotocols.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, WsClient};

const ADD: &str = "mutation($s: String!, $b: String!) { addComment(input: { articleSlug: $s, body: $b }) { comment { id } } }";

#[tokio::test]
async fn comment_added_delivers_new_comments_on_the_watched_article_only() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let watched = app.create_article(&jake, "Watched", &[], false).await;
    let other = app.create_article(&jake, "Other", &[], false).await;

    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(None).await;
    client
        .send(json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($s: String!) { commentAdded(articleSlug: $s) { body author { username } article { slug } } }",
            "variables": { "s": watched } } }))
        .await;
    // Give the server a moment to register the subscription.
    tokio::time::sleep(Duration::from_millis(500)).await;

    app.graphql_as(&jake.token, ADD, json!({ "s": other, "b": "elsewhere" }))
        .await;
    app.graphql_as(&jake.token, ADD, json!({ "s": watched, "b": "here" }))
        .await;

    let event = client.next().await.expect("an event");
    assert_eq!(event["type"], "next", "{event}");
    assert_eq!(event["id"], "1");
    assert_eq!(
        event["payload"]["data"]["commentAdded"],
        json!({ "body": "here", "author": { "username": "jake" }, "article": { "slug": watched } })
    );
    assert!(
        client.quiet_for(Duration::from_millis(300)).await,
        "no event for the other article"
    );
}

#[tokio::test]
async fn article_published_never_reveals_drafts_and_filters_by_tag() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;

    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(Some(&anne.token)).await;
    client
        .send(json!({ "id": "pub", "type": "subscribe", "payload": {
            "query": "subscription { articlePublished(tag: \"rust\") { slug status } }" } }))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let draft = app.create_article(&jake, "Draft", &["rust"], true).await;
    app.create_article(&jake, "Untagged", &["go"], false).await;
    assert!(
        client.quiet_for(Duration::from_millis(300)).await,
        "a draft or an unmatched article leaked"
    );

    app.graphql_as(
        &jake.token,
        "mutation($s: String!) { publishArticle(input: { slug: $s }) { article { slug } } }",
        json!({ "s": draft }),
    )
    .await;
    let event = client.next().await.expect("an event");
    assert_eq!(
        event["payload"]["data"]["articlePublished"],
        json!({ "slug": draft, "status": "PUBLISHED" }),
        "{event}"
    );
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_works_too() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let mut client = WsClient::connect(&app, "graphql-ws").await;
    client.init(Some(&jake.token)).await;
    client
        .send(json!({ "id": "7", "type": "start", "payload": {
            "query": "subscription { articlePublished(author: \"jake\") { title author { username } } }" } }))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.create_article(&jake, "Hello", &[], false).await;
    let event = client.next().await.expect("an event");
    assert_eq!(event["type"], "data", "{event}");
    assert_eq!(
        event["payload"]["data"]["articlePublished"],
        json!({ "title": "Hello", "author": { "username": "jake" } })
    );
}

#[tokio::test]
async fn watching_someone_elses_draft_is_not_found() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let draft = app.create_article(&jake, "Hidden", &[], true).await;
    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(Some(&anne.token)).await;
    client
        .send(json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($s: String!) { commentAdded(articleSlug: $s) { body } }", "variables": { "s": draft } } }))
        .await;
    let answer = client.next().await.expect("an answer");
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"],
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn a_bad_token_in_connection_init_closes_the_socket() {
    let app = TestApp::spawn().await;
    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client
        .send(json!({ "type": "connection_init", "payload": { "Authorization": "Bearer not-a-token" } }))
        .await;
    let answer = client.next().await.expect("a close frame");
    assert!(
        answer["close"].as_u64().is_some_and(|code| code >= 1002),
        "{answer}"
    );
    assert!(
        answer["reason"].as_str().expect("reason").contains("token"),
        "{answer}"
    );
}

#[tokio::test]
async fn an_open_subscription_is_closed_when_its_sessions_are_ended() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(Some(&jake.token)).await;
    client
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { articlePublished { slug } }" } }))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.graphql_as(
        &jake.token,
        "mutation { revokeAllSessions { user { username } } }",
        json!({}),
    )
    .await;
    let answer = client.next().await.expect("a close frame");
    assert_eq!(answer["close"], 4403, "{answer}");
}

#[tokio::test]
async fn a_token_narrowed_to_one_article_watches_only_that_article() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let mine = app.create_article(&jake, "Mine", &[], false).await;
    let other = app.create_article(&jake, "Other", &[], false).await;
    let narrowed = app
        .graphql_as(
            &jake.token,
            "mutation($s: String!) { attenuateToken(input: { articleSlugs: [$s] }) { token } }",
            json!({ "s": mine }),
        )
        .await;
    let narrowed = narrowed["data"]["attenuateToken"]["token"]
        .as_str()
        .expect("token")
        .to_owned();

    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(Some(&narrowed)).await;
    client
        .send(json!({ "id": "other", "type": "subscribe", "payload": {
            "query": "subscription($s: String!) { commentAdded(articleSlug: $s) { body } }", "variables": { "s": other } } }))
        .await;
    let refused = client.next().await.expect("an answer");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let done = client
        .next()
        .await
        .expect("the refused subscription completes");
    assert_eq!(done, json!({ "id": "other", "type": "complete" }));

    client
        .send(json!({ "id": "pub", "type": "subscribe", "payload": { "query": "subscription { articlePublished { slug } }" } }))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.create_article(&jake, "Outside", &[], false).await;
    assert!(
        client.quiet_for(Duration::from_millis(400)).await,
        "an article outside the token's scope was delivered"
    );
}

#[tokio::test]
async fn an_open_subscription_is_closed_when_its_token_expires() {
    use conduit::auth::{Claims, Role};
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let id = conduit::graphql::node::parse_global_id(&jake.id)
        .expect("id")
        .1;
    let claims = Claims {
        user_id: id,
        role: Role::User,
        session_epoch: 0,
    };
    let short = app
        .tokens
        .mint_until(claims, chrono::Utc::now() + chrono::Duration::seconds(2))
        .expect("mint");
    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(Some(&short)).await;
    client
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { articlePublished { slug } }" } }))
        .await;
    let answer = client.next().await.expect("a close frame");
    assert_eq!(answer["close"], 4403, "{answer}");
    assert!(
        answer["reason"]
            .as_str()
            .expect("reason")
            .contains("expired"),
        "{answer}"
    );
}

/// Opens `count` `articlePublished` subscriptions with `arguments` on one
/// connection as `token`; returns the connection.
async fn subscribed(app: &TestApp, token: &str, count: usize, arguments: &str) -> WsClient {
    let mut client = WsClient::connect(app, "graphql-transport-ws").await;
    client.init(Some(token)).await;
    for id in 0..count {
        client
            .send(json!({ "id": id.to_string(), "type": "subscribe", "payload": {
                "query": format!("subscription {{ articlePublished{arguments} {{ title slug }} }}") } }))
            .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    client
}

/// Statements the server runs for `publish`, once its subscribers had time
/// to take the event.
async fn statements_for(app: &TestApp, publish: impl std::future::Future<Output = String>) -> u64 {
    let before = settled_statements(app).await;
    publish.await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    settled_statements(app).await - before
}

/// The statement count once it has stopped moving: subscriptions opened just
/// before are admitted (one session read each) at their own pace, and those
/// reads are not part of what a publication costs.
async fn settled_statements(app: &TestApp) -> u64 {
    let mut last = app.statements();
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let now = app.statements();
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("the server kept running statements with nothing asked of it");
}

#[tokio::test]
async fn subscribers_filter_events_before_reading_and_share_one_read() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    // What publishing costs with nobody listening, once the tag exists.
    app.create_article(&jake, "First", &["rust"], false).await;
    let alone = statements_for(&app, app.create_article(&jake, "Alone", &["rust"], false)).await;

    // Fifty subscriptions whose filters no article matches read nothing.
    let _by_tag = subscribed(&app, &anne.token, 25, "(tag: \"nomatch\")").await;
    let _by_author = subscribed(&app, &anne.token, 25, "(author: \"nobody\")").await;
    let unmatched = statements_for(
        &app,
        app.create_article(&jake, "Unmatched", &["rust"], false),
    )
    .await;
    assert_eq!(
        unmatched, alone,
        "subscriptions that do not match read nothing"
    );

    // Thirty that match share the article's read. Articles are published
    // until each of them has heard one, so that all are live.
    let mut matching = subscribed(&app, &anne.token, 30, "(tag: \"rust\", author: \"jake\")").await;
    let mut live = std::collections::HashSet::new();
    for attempt in 0..10 {
        app.create_article(&jake, &format!("Warm-up {attempt}"), &["rust"], false)
            .await;
        while let Ok(message) =
            tokio::time::timeout(Duration::from_millis(1000), matching.next()).await
        {
            let message = message.expect("the connection stays open");
            live.insert(message["id"].as_str().expect("an id").to_owned());
        }
        if live.len() == 30 {
            break;
        }
    }
    assert_eq!(live.len(), 30, "every subscription heard a warm-up");
    let shared = statements_for(&app, app.create_article(&jake, "Shared", &["rust"], false)).await;
    assert!(
        shared < alone + 10,
        "thirty subscribers cost {} statements more than none",
        shared - alone
    );
    for _ in 0..30 {
        let event = matching.next().await.expect("an event");
        assert_eq!(
            event["payload"]["data"]["articlePublished"]["title"], "Shared",
            "{event}"
        );
    }
}

#[tokio::test]
async fn a_caller_has_a_bounded_number_of_subscriptions_across_connections() {
    let app = TestApp::spawn_configured(|c| c.protection.ws_max_subscriptions_per_caller = 3).await;
    let anne = app.register("anne").await;
    let query = "subscription { articlePublished { title } }";
    let mut first = WsClient::connect(&app, "graphql-transport-ws").await;
    first.init(Some(&anne.token)).await;
    let mut second = WsClient::connect(&app, "graphql-transport-ws").await;
    second.init(Some(&anne.token)).await;
    for id in ["a", "b"] {
        first
            .send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
            .await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    second
        .send(json!({ "id": "c", "type": "subscribe", "payload": { "query": query } }))
        .await;
    second
        .send(json!({ "id": "d", "type": "subscribe", "payload": { "query": query } }))
        .await;
    let refused = second.next().await.expect("a refusal");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "d");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "LIMIT_EXCEEDED"
    );
    assert_eq!(
        refused["payload"][0]["extensions"]["limit"],
        "subscriptions per caller"
    );
    // Ending one on the first connection frees a place for the second.
    first.send(json!({ "id": "a", "type": "complete" })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    second
        .send(json!({ "id": "d", "type": "subscribe", "payload": { "query": query } }))
        .await;
    assert!(
        second.quiet_for(Duration::from_millis(300)).await,
        "the subscription is accepted"
    );
}
