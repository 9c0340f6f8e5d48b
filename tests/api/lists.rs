//! Lists whose fields are at hand, or load for the whole list at once, are
//! written without their field resolvers (`conduit::graphql::ready`); the
//! response is the same either way.

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WsClient};

/// Every field a card answers from what its page read, with aliases,
/// `__typename`, fragments on the type and on an interface it implements, an
/// inline fragment without a condition, and one field selected twice with
/// different sub-selections.
const CARD: &str = "__typename id slug title heading: title description body status publishedAt createdAt updatedAt
  tags favoritesCount commentCount viewerHasFavorited
  author { __typename id username bio image role createdAt isViewer viewerIsFollowing }
  author { who: username }
  ... on Node { nodeId: id }
  ... { again: slug }
  ...CardFields";

const FRAGMENTS: &str = "fragment CardFields on Article { fragmentTitle: title author { image } }";

/// The home page's lists with `extra` added to every card.
fn home(extra: &str) -> String {
    format!(
        "query($n: Int!) {{ articles(first: $n) {{
           edges {{ __typename cursor node {{ {CARD} {extra} }} }}
           nodes {{ {CARD} {extra} }}
         }} }} {FRAGMENTS}"
    )
}

/// The lists answered directly and through resolvers so far.
fn lists(app: &TestApp) -> (u64, u64) {
    let stats = &app.state.lists;
    (
        stats.direct.load(Ordering::Relaxed),
        stats.resolved.load(Ordering::Relaxed),
    )
}

/// Drops `key` from every card of the response's two lists.
fn without(mut body: Value, key: &str) -> Value {
    let articles = &mut body["data"]["articles"];
    for edge in articles["edges"].as_array_mut().expect("edges") {
        edge["node"].as_object_mut().expect("node").remove(key);
    }
    for node in articles["nodes"].as_array_mut().expect("nodes") {
        node.as_object_mut().expect("node").remove(key);
    }
    body
}

/// Six articles, newest first by anne and jake in turn, with tags, a
/// favorite by anne on every other one and a comment by jake on every third.
async fn publish(app: &TestApp, users: &[TestUser]) {
    for n in 0..6 {
        let author = &users[n % users.len()];
        let tags: &[&str] = match n % 3 {
            0 => &[],
            1 => &["rust"],
            _ => &["web", "Rust", "async"],
        };
        let slug = app
            .create_article(author, &format!("Article {n}"), tags, false)
            .await;
        if n % 2 == 0 {
            app.graphql_as(
                &users[1].token,
                "mutation($s: String!) { favoriteArticle(input: { slug: $s }) { article { id } } }",
                json!({ "s": slug }),
            )
            .await;
        }
        if n % 3 == 0 {
            app.graphql_as(
                &users[0].token,
                "mutation($s: String!) { addComment(input: { articleSlug: $s, body: \"Hi\" }) { comment { id } } }",
                json!({ "s": slug }),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn a_list_answered_from_its_rows_equals_the_list_its_resolvers_answer() {
    let app = TestApp::spawn_configured(|c| c.cache_enabled = false).await;
    let users = [app.register("jake").await, app.register("anne").await];
    publish(&app, &users).await;

    // Anonymous: every field of a card is at hand.
    let before = lists(&app);
    let direct = app.graphql(&home(""), json!({ "n": 10 })).await;
    assert!(direct["errors"].is_null(), "{direct}");
    assert_eq!(lists(&app), (before.0 + 2, before.1), "both lists directly");
    let cards = direct["data"]["articles"]["nodes"]
        .as_array()
        .expect("nodes");
    assert_eq!(cards.len(), 6);
    let card = &cards[0];
    assert_eq!(card["__typename"], "Article");
    assert_eq!(card["heading"], card["title"]);
    assert_eq!(card["nodeId"], card["id"]);
    assert_eq!(card["again"], card["slug"]);
    assert_eq!(card["fragmentTitle"], card["title"]);
    assert_eq!(card["author"]["__typename"], "User");
    assert!(card["author"]["who"].is_string(), "merged author: {card}");
    assert!(
        card["author"].get("image").is_some(),
        "merged author: {card}"
    );
    assert_eq!(card["viewerHasFavorited"], false);

    // A field that loads is loaded for the whole list, which is still
    // written directly; the rest of the response is the same.
    let loads = "loads: comments(first: 1) { totalCount nodes { body } }";
    let before = lists(&app);
    let loaded = app.graphql(&home(loads), json!({ "n": 10 })).await;
    assert!(loaded["errors"].is_null(), "{loaded}");
    assert_eq!(lists(&app), (before.0 + 2, before.1), "both lists directly");
    assert_eq!(without(loaded, "loads"), direct);

    // A field that may fail (another user's email) sends both lists through
    // the resolvers; the rest of the response is the same.
    let fails = "fails: author { email }";
    let before = lists(&app);
    let resolved = app.graphql(&home(fails), json!({ "n": 10 })).await;
    assert_eq!(
        resolved["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{resolved}"
    );
    assert_eq!(lists(&app), (before.0, before.1 + 2), "both lists resolved");
    assert_eq!(without(resolved, "fails")["data"], direct["data"]);

    // The keys come in the order they were selected.
    let text = app
        .post_graphql(None, &home(""), json!({ "n": 1 }))
        .await
        .text()
        .await
        .expect("body");
    assert!(
        text.contains(r#""node":{"__typename":"Article","id":"#)
            && text.contains(r#""tags":"#)
            && text.find(r#""heading":"#) < text.find(r#""tags":"#),
        "{text}"
    );

    // Over a WebSocket the response is not written as JSON text by the
    // server's own writer: the lists are resolved, and answer the same.
    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(None).await;
    let before = lists(&app);
    client
        .send(json!({ "id": "q", "type": "subscribe",
                      "payload": { "query": home(""), "variables": { "n": 10 } } }))
        .await;
    let next = client.next().await.expect("the result");
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["payload"], direct);
    assert_eq!(lists(&app), (before.0, before.1 + 2), "both lists resolved");

    // Signed in: whether the viewer favorited each card, and follows its
    // author, is loaded for the whole list, which is written directly and
    // answers as the resolvers do.
    let query = format!(
        "query($n: Int!) {{ articles(first: $n) {{ edges {{ node {{ {CARD} }} }} }} }} {FRAGMENTS}"
    );
    let before = lists(&app);
    let signed = app
        .graphql_as(&users[1].token, &query, json!({ "n": 10 }))
        .await;
    assert!(signed["errors"].is_null(), "{signed}");
    assert_eq!(lists(&app), (before.0 + 1, before.1));
    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(Some(&users[1].token)).await;
    client
        .send(json!({ "id": "s", "type": "subscribe",
                      "payload": { "query": query, "variables": { "n": 10 } } }))
        .await;
    let next = client.next().await.expect("the result");
    assert_eq!(next["payload"], signed, "resolved over a WebSocket");
    let signed_cards = signed["data"]["articles"]["edges"]
        .as_array()
        .expect("edges");
    let favorited: Vec<bool> = signed_cards
        .iter()
        .map(|e| e["node"]["viewerHasFavorited"].as_bool().expect("bool"))
        .collect();
    let counted: Vec<bool> = signed_cards
        .iter()
        .map(|e| e["node"]["favoritesCount"].as_i64() == Some(1))
        .collect();
    assert_eq!(favorited, counted, "anne favorited every other card");
    let is_viewer: Vec<bool> = signed_cards
        .iter()
        .map(|e| e["node"]["author"]["isViewer"].as_bool().expect("bool"))
        .collect();
    assert_eq!(
        is_viewer,
        [true, false, true, false, true, false],
        "anne wrote every other card"
    );
}

#[tokio::test]
async fn comments_load_their_authors_once_and_are_answered_directly() {
    let app = TestApp::spawn_configured(|c| c.cache_enabled = false).await;
    let users = [app.register("jake").await, app.register("anne").await];
    publish(&app, &users).await;
    let slug = app
        .graphql("{ articles(first: 3) { nodes { slug } } }", json!({}))
        .await["data"]["articles"]["nodes"][2]["slug"]
        .as_str()
        .expect("slug")
        .to_owned();
    let query = |extra: &str| {
        format!(
            "query($s: String!) {{ article(slug: $s) {{ comments {{
               edges {{ cursor node {{ __typename id body createdAt updatedAt {extra} }} }} }} }} }}"
        )
    };

    let before = lists(&app);
    let direct = app.graphql(&query(""), json!({ "s": slug })).await;
    assert_eq!(lists(&app), (before.0 + 1, before.1), "{direct}");
    let before = lists(&app);
    let statements = app.statements();
    let loaded = app
        .graphql(&query("author { username }"), json!({ "s": slug }))
        .await;
    assert_eq!(lists(&app), (before.0 + 1, before.1), "{loaded}");
    // The article, and its page of comments with their authors.
    assert_eq!(app.statements() - statements, 2, "{loaded}");

    let mut edges = loaded["data"]["article"]["comments"]["edges"].clone();
    let edges = edges.as_array_mut().expect("edges");
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["author"]["username"], "jake");
    edges[0]["node"]
        .as_object_mut()
        .expect("node")
        .remove("author");
    assert_eq!(
        Value::Array(edges.clone()),
        direct["data"]["article"]["comments"]["edges"]
    );
}

/// The answer to `document` over a WebSocket, where every list is resolved
/// field by field, as `token` when given.
async fn resolved_answer(app: &TestApp, token: Option<&str>, document: &str) -> Value {
    let mut client = WsClient::connect(app, "graphql-transport-ws").await;
    client.init(token).await;
    client
        .send(json!({ "id": "r", "type": "subscribe", "payload": { "query": document } }))
        .await;
    let next = client.next().await.expect("the result");
    assert_eq!(next["type"], "next", "{next}");
    next["payload"].clone()
}

#[tokio::test]
async fn nested_connections_are_written_directly_and_answer_as_their_resolvers_do() {
    let app = TestApp::spawn_configured(|c| c.cache_enabled = false).await;
    let users = [app.register("jake").await, app.register("anne").await];
    publish(&app, &users).await;
    let slugs: Vec<String> = app
        .graphql("{ articles(first: 6) { nodes { slug } } }", json!({}))
        .await["data"]["articles"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["slug"].as_str().expect("slug").to_owned())
        .collect();
    for (n, slug) in slugs.iter().enumerate().take(4) {
        for k in 0..n {
            app.graphql_as(
                &users[k % 2].token,
                "mutation($s: String!, $b: String!) { addComment(input: { articleSlug: $s, body: $b }) { comment { id } } }",
                json!({ "s": slug, "b": format!("comment {k} on {n}") }),
            )
            .await;
        }
    }
    app.create_article(&users[1], "Anne's draft", &[], true)
        .await;
    app.graphql_as(
        &users[1].token,
        r#"mutation { followUser(input: { username: "jake" }) { user { id } } }"#,
        json!({}),
    )
    .await;

    let written = [
        "{ articles(first: 5) { nodes { slug author { username }
             comments(first: 2) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
               edges { cursor node { __typename body createdAt author { username viewerIsFollowing } } } } } } }",
        r#"{ user(username: "jake") { articles(first: 3) { totalCount nodes { slug favoritesCount viewerHasFavorited
             comments(last: 1, orderBy: { direction: DESC }) { totalCount nodes { body } } } }
           favoriteArticles(first: 2) { totalCount nodes { slug } } } }"#,
        "{ articles(first: 6) { edges { node { author { username
             articles(first: 2) { totalCount nodes { slug tags body author { username } } }
             drafts: articles(first: 1, status: DRAFT) { pageInfo { hasNextPage } } } } } } }",
        "{ articles(first: 6) { nodes { comments { nodes { author { favoriteArticles(first: 1) { nodes { slug } } } } } } } }",
    ];
    for token in [None, Some(users[1].token.as_str())] {
        for document in written {
            let before = lists(&app);
            let direct = app.graphql_with(token, document, json!({})).await;
            let after = lists(&app);
            let resolved = resolved_answer(&app, token, document).await;
            assert_eq!(direct, resolved, "{document} as {token:?}");
            // Drafts need a token (a signed-in viewer sees only their own):
            // anonymously, that list is resolved to tell why.
            if document.contains("DRAFT") && token.is_none() {
                assert!(direct["errors"].is_array(), "{direct}");
                assert!(after.1 > before.1, "resolved: {document}");
                continue;
            }
            assert!(direct["errors"].is_null(), "{direct}");
            assert_eq!(after.1, before.1, "no list resolved: {document}");
            assert!(after.0 > before.0, "written directly: {document}");
        }
    }

    // Arguments a resolver refuses: the list is resolved, and the errors
    // are the resolvers'.
    for document in [
        "{ articles(first: 2) { nodes { comments(first: 500) { totalCount nodes { body } } } } }",
        r#"{ articles(first: 2) { nodes { comments(after: "nonsense") { nodes { body } } } } }"#,
        "{ articles(first: 2) { nodes { author { articles(status: DRAFT) { totalCount } } } } }",
    ] {
        let before = lists(&app);
        let direct = app.graphql(document, json!({})).await;
        assert!(lists(&app).1 > before.1, "resolved: {document}");
        assert!(direct["errors"].is_array(), "{direct}");
        assert_eq!(direct, resolved_answer(&app, None, document).await);
    }
}
