//! The answers the GraphQL specification gives, byte for byte, over HTTP
//! POST, HTTP GET and WebSocket alike: repeated fields merged, keys in the
//! document's collected order, `@skip`/`@include` with variables' defaults,
//! nulls propagated to the nearest nullable parent, and `{}` for an object
//! that selects nothing.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WsClient};

/// A server with two articles by jake (tags `rust` and `web`).
async fn app_with_articles() -> (TestApp, TestUser) {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    app.create_article(&jake, "First words", &["rust"], false)
        .await;
    app.create_article(&jake, "Second words", &["web", "rust"], false)
        .await;
    (app, jake)
}

/// The answer to `document` with `variables` as JSON text, the same over
/// POST, GET and WebSocket (asserted), as `token` when given.
async fn answer(app: &TestApp, token: Option<&str>, document: &str, variables: Value) -> String {
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", app.address);
    let bearer = token.map(|t| format!("Bearer {t}")).unwrap_or_default();
    let mut post = client
        .post(&url)
        .json(&json!({ "query": document, "variables": variables }));
    let mut get = client
        .get(&url)
        .query(&[("query", document), ("variables", &variables.to_string())])
        .header("content-type", "application/json");
    if token.is_some() {
        post = post.header("authorization", &bearer);
        get = get.header("authorization", &bearer);
    }
    let post = post.send().await.expect("POST").text().await.expect("text");
    let get = get.send().await.expect("GET").text().await.expect("text");
    assert_eq!(get, post, "GET and POST answer alike: {document}");

    let mut socket = WsClient::connect(app, "graphql-transport-ws").await;
    socket.init(token).await;
    socket
        .send(json!({ "id": "1", "type": "subscribe",
            "payload": { "query": document, "variables": variables } }))
        .await;
    let message = socket.next_text().await;
    let message: Message = serde_json::from_str(&message).expect("a message");
    assert_eq!(message.r#type, "next", "{}", message.payload.get());
    assert_eq!(
        message.payload.get(),
        post,
        "WebSocket and POST answer alike: {document}"
    );
    post
}

/// A graphql-transport-ws message, its payload as written.
#[derive(serde::Deserialize)]
struct Message {
    r#type: String,
    payload: Box<serde_json::value::RawValue>,
}

#[tokio::test]
async fn a_list_selected_twice_under_one_key_answers_every_field() {
    let (app, _) = app_with_articles().await;
    let expected = r#"{"data":{"articles":{"nodes":[{"slug":"#;
    for document in [
        "{ articles(first: 2) { nodes { slug } nodes { title } } }",
        "{ articles(first: 2) { ...A ...B } }
         fragment A on ArticleConnection { nodes { slug } }
         fragment B on ArticleConnection { nodes { title } }",
        "{ articles(first: 2) { nodes { slug } ... on ArticleConnection { nodes { title } } } }",
        "{ articles(first: 2) { nodes { slug } } articles(first: 2) { nodes { title } } }",
    ] {
        let text = answer(&app, None, document, json!({})).await;
        assert!(text.starts_with(expected), "{document}: {text}");
        let body: Value = serde_json::from_str(&text).expect("JSON");
        let nodes = body["data"]["articles"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), 2, "{text}");
        for node in nodes {
            assert!(
                node["slug"].is_string() && node["title"].is_string(),
                "{text}"
            );
            assert_eq!(node.as_object().expect("object").len(), 2, "{text}");
        }
        assert!(body.get("errors").is_none(), "{text}");
    }
}

#[tokio::test]
async fn keys_come_in_the_order_the_document_collects_them() {
    let (app, jake) = app_with_articles().await;
    let document = "{ articles(first: 2) {
        nodes { title viewerHasFavorited author { viewerIsFollowing username } }
        totalCount
        pageInfo { hasNextPage endCursor }
        ... on ArticleConnection { edges { cursor } totalCount }
    } }";
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let text = answer(&app, Some(&jake.token), document, json!({})).await;
        let keys: Vec<&str> = [
            "nodes",
            "title",
            "viewerHasFavorited",
            "author",
            "viewerIsFollowing",
            "username",
            "totalCount",
            "pageInfo",
            "hasNextPage",
            "endCursor",
            "edges",
            "cursor",
        ]
        .into_iter()
        .collect();
        let positions: Vec<usize> = keys
            .iter()
            .map(|key| text.find(&format!("\"{key}\"")).expect(key))
            .collect();
        assert!(
            positions.windows(2).all(|pair| pair[0] < pair[1]),
            "keys out of order: {text}"
        );
        seen.insert(text);
    }
    assert_eq!(seen.len(), 1, "every run answers the same text");
}

#[tokio::test]
async fn skip_and_include_use_the_variables_defaults() {
    let (app, _) = app_with_articles().await;
    let document = "query($s: Boolean = true, $i: Boolean = false) {
        articles(first: 1) { nodes { slug title @skip(if: $s) body @include(if: $i) } }
    }";
    let text = answer(&app, None, document, json!({})).await;
    let body: Value = serde_json::from_str(&text).expect("JSON");
    let node = &body["data"]["articles"]["nodes"][0];
    assert!(node["slug"].is_string(), "{text}");
    assert!(
        node.get("title").is_none() && node.get("body").is_none(),
        "{text}"
    );

    // A value sent wins over the default.
    let text = answer(&app, None, document, json!({ "s": false, "i": true })).await;
    let body: Value = serde_json::from_str(&text).expect("JSON");
    let node = &body["data"]["articles"]["nodes"][0];
    assert!(
        node["title"].is_string() && node["body"].is_string(),
        "{text}"
    );
}

#[tokio::test]
async fn a_failed_non_null_field_nulls_its_nearest_nullable_parent() {
    let (app, _) = app_with_articles().await;
    // A user's drafts (`ArticleConnection!`) need a token: `user` is nullable.
    let text = answer(
        &app,
        None,
        r#"{ user(username: "jake") { username articles(status: DRAFT) { totalCount } } articles(first: 1) { totalCount } }"#,
        json!({}),
    )
    .await;
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert!(
        text.starts_with(r#"{"data":{"user":null,"articles":{"totalCount":2}}"#),
        "{text}"
    );
    assert_eq!(
        body["errors"][0]["path"],
        json!(["user", "articles"]),
        "{text}"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(body["errors"][0]["locations"].is_array(), "{text}");

    // Through a list of non-null items up to `articles`, which is non-null:
    // `data` itself is null.
    let text = answer(
        &app,
        None,
        "{ articles(first: 2) { nodes { slug author { articles(status: DRAFT) { totalCount } } } } }",
        json!({}),
    )
    .await;
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert!(body["data"].is_null(), "{text}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2), "{text}");
    assert_eq!(
        body["errors"][0]["path"],
        json!(["articles", "nodes", 0, "author", "articles"]),
        "{text}"
    );
}

#[tokio::test]
async fn a_private_field_fails_alone() {
    let (app, _) = app_with_articles().await;
    let text = answer(
        &app,
        None,
        r#"{ user(username: "jake") { username email } }"#,
        json!({}),
    )
    .await;
    assert!(
        text.starts_with(r#"{"data":{"user":{"username":"jake","email":null}}"#),
        "{text}"
    );
    // The only field of an object, and of every object of a list: each
    // object answers with its failed field null, and nothing above it is.
    for document in [
        r#"{ user(username: "jake") { email } }"#,
        "{ articles(first: 2) { nodes { author { email } } } }",
    ] {
        let text = answer(&app, None, document, json!({})).await;
        let body: Value = serde_json::from_str(&text).expect("JSON");
        let emails: Vec<&Value> = match body["data"]["user"].is_object() {
            true => vec![&body["data"]["user"]["email"]],
            false => body["data"]["articles"]["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|node| &node["author"]["email"])
                .collect(),
        };
        assert!(!emails.is_empty(), "{text}");
        assert!(emails.iter().all(|email| email.is_null()), "{text}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{text}"
        );
        assert!(!text.contains(r#""__typename""#), "{text}");
    }
}

#[tokio::test]
async fn an_object_that_collects_no_field_answers_an_empty_object() {
    let (app, _) = app_with_articles().await;
    let text = answer(
        &app,
        None,
        "{ articles(first: 1) { nodes { title @skip(if: true) } pageInfo { ... on PageInfo @skip(if: true) { hasNextPage } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        text,
        r#"{"data":{"articles":{"nodes":[{}],"pageInfo":{}}}}"#
    );
    // Merged with an occurrence that does select something.
    let text = answer(
        &app,
        None,
        "{ articles(first: 1) { nodes { title @skip(if: true) } nodes { slug @include(if: false) } totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        text,
        r#"{"data":{"articles":{"nodes":[{}],"totalCount":2}}}"#
    );
    // A node of another type than its only fragment asks for.
    let body = app
        .graphql("{ articles(first: 1) { nodes { id } } }", json!({}))
        .await;
    let id = body["data"]["articles"]["nodes"][0]["id"]
        .as_str()
        .expect("an id");
    let text = answer(
        &app,
        None,
        "query($id: ID!) { node(id: $id) { ... on User { username } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(text, r#"{"data":{"node":{}}}"#);
}

/// Asserts that `document` is refused before it runs, the same way over
/// POST (errors and no `data`) and WebSocket (an `error` message, and no
/// `complete` after it), with BAD_USER_INPUT; returns the POST body.
async fn refused(app: &TestApp, document: &str, variables: Value) -> Value {
    let body = app.graphql(document, variables.clone()).await;
    assert!(body.get("data").is_none(), "{document}: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{document}: {body}"
    );
    let mut socket = WsClient::connect(app, "graphql-transport-ws").await;
    socket.init(None).await;
    socket
        .send(json!({ "id": "1", "type": "subscribe",
            "payload": { "query": document, "variables": variables } }))
        .await;
    let message = socket.next().await.expect("an answer");
    assert_eq!(message["type"], "error", "{document}: {message}");
    assert_eq!(message["id"], "1");
    assert_eq!(message["payload"], body["errors"], "{document}");
    assert!(
        socket
            .quiet_for(std::time::Duration::from_millis(300))
            .await,
        "nothing follows an error"
    );
    body
}

#[tokio::test]
async fn fields_that_cannot_merge_under_one_key_are_refused() {
    let (app, _) = app_with_articles().await;
    for document in [
        "{ articles(first: 1) { nodes { x: slug ... on Article { x: title } } } }",
        "{ a: articles(first: 1) { totalCount } a: articles(first: 2) { totalCount } }",
        "{ articles(first: 1) { nodes { author { n: username } } nodes { author { n: bio } } } }",
    ] {
        let body = refused(&app, document, json!({})).await;
        let message = body["errors"][0]["message"].as_str().expect("a message");
        assert!(message.contains("conflict"), "{message}");
    }
    // Exclusive types may use one key for different fields.
    let text = answer(
        &app,
        None,
        "{ articles(first: 1) { nodes { id } } }",
        json!({}),
    )
    .await;
    let body: Value = serde_json::from_str(&text).expect("JSON");
    let id = body["data"]["articles"]["nodes"][0]["id"].clone();
    let text = answer(
        &app,
        None,
        "query($id: ID!) { node(id: $id) { ... on Article { x: slug } ... on User { x: username } } }",
        json!({ "id": id }),
    )
    .await;
    assert!(
        text.starts_with(r#"{"data":{"node":{"x":"second-words"#),
        "{text}"
    );
}

#[tokio::test]
async fn directives_on_typename_are_validated_and_their_variables_used() {
    let (app, _) = app_with_articles().await;
    let document = "query($v: Boolean!) { __typename @skip(if: $v) }";
    assert_eq!(
        answer(&app, None, document, json!({ "v": true })).await,
        r#"{"data":{}}"#
    );
    assert_eq!(
        answer(&app, None, document, json!({ "v": false })).await,
        r#"{"data":{"__typename":"Query"}}"#
    );
    for document in [
        "{ __typename @unknown }",
        "{ __typename @skip }",
        "{ __typename @skip(if: $undefined) }",
        "{ articles { nodes { __typename(x: 1) } } }",
    ] {
        refused(&app, document, json!({})).await;
    }
}

#[tokio::test]
async fn escaped_surrogate_pairs_are_read_as_their_character() {
    let (app, jake) = app_with_articles().await;
    app.create_article(&jake, "Gothic", &["\u{1D518}"], false)
        .await;
    let text = answer(
        &app,
        None,
        r#"{ articles(filter: { tag: "\ud835\udd18" }) { nodes { title tags } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        text,
        "{\"data\":{\"articles\":{\"nodes\":[{\"title\":\"Gothic\",\"tags\":[\"\u{1D518}\"]}]}}}"
    );
    // A lone surrogate is no character.
    let body = app
        .graphql(
            r#"{ articles(filter: { tag: "\ud835" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
}

#[tokio::test]
async fn a_variable_given_no_value_leaves_the_arguments_default() {
    let (app, _) = app_with_articles().await;
    let text = answer(
        &app,
        None,
        "query($n: Int) { tags(first: $n) { name } }",
        json!({}),
    )
    .await;
    assert_eq!(
        text,
        r#"{"data":{"tags":[{"name":"rust"},{"name":"web"}]}}"#
    );
}

#[tokio::test]
async fn validation_errors_come_in_one_order_on_every_request() {
    let (app, _) = app_with_articles().await;
    let document = "query($a: Int, $b: Int, $c: Int) { x y { z } ...F } fragment F on Query { w }";
    let first = refused(&app, document, json!({})).await;
    assert!(
        first["errors"].as_array().map(Vec::len) > Some(3),
        "{first}"
    );
    for _ in 0..10 {
        assert_eq!(app.graphql(document, json!({})).await, first);
    }
}

#[tokio::test]
async fn the_rules_see_what_async_graphql_skips_and_not_what_it_imagines() {
    let (app, _) = app_with_articles().await;
    for document in [
        "{ __typename { x } }",
        "{ __typename @include(if: \"yes\") }",
        "{ __typename @skip(if: false) @skip(if: true) }",
        "query($v: String! @skip(if: false)) { article(slug: $v) { id } }",
    ] {
        refused(&app, document, json!({ "v": "x" })).await;
    }
    // A field in a fragment without a type condition is on the enclosing type.
    let text = answer(
        &app,
        None,
        r#"{ node(id: "x") { ... on Comment { body ... on Node { ... on User { ... { body: __typename } } } } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(text, r#"{"data":{"node":null}}"#);
}

#[tokio::test]
async fn braced_unicode_escapes_are_read() {
    let (app, _) = app_with_articles().await;
    let text = answer(
        &app,
        None,
        r#"{ user(username: "\u{6A}ake") { username } }"#,
        json!({}),
    )
    .await;
    assert_eq!(text, r#"{"data":{"user":{"username":"jake"}}}"#);
}
