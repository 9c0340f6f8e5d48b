//! Document limits: depth, cost, aliases, root fields, directives and tokens,
//! each answered just under the limit and refused just over it.

use std::time::{Duration, Instant};

use conduit::config::Config;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

/// A server with one published article, with `configure` applied after the
/// article was made.
async fn app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    app.create_article(&jake, "Limits", &["rust"], false).await;
    app.spawn_peer_configured(configure).await
}

/// Asserts `body` was refused for `limit`, naming its maximum and what the document had.
fn assert_refused(body: &Value, limit: &str, max: u64, actual: u64) {
    assert_error(body, "LIMIT_EXCEEDED");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(extensions["limit"], limit, "{body}");
    assert_eq!(extensions["max"], max, "{body}");
    assert_eq!(extensions["actual"], actual, "{body}");
    assert!(body.get("data").is_none(), "nothing ran: {body}");
}

#[tokio::test]
async fn depth_is_answered_at_the_limit_and_refused_over_it() {
    let app = app_with(|c| c.protection.max_depth = 3).await;
    // articles > nodes > slug: depth 3.
    let at = app
        .graphql("{ articles(first: 1) { nodes { slug } } }", json!({}))
        .await;
    assert_eq!(at["data"]["articles"]["nodes"][0]["slug"], "limits", "{at}");
    // articles > nodes > author > username: depth 4.
    let over = app
        .graphql(
            "{ articles(first: 1) { nodes { author { username } } } }",
            json!({}),
        )
        .await;
    assert_refused(&over, "depth", 3, 4);
    // Through a fragment it is the same depth.
    let fragment = app
        .graphql(
            "{ articles(first: 1) { ...A } } fragment A on ArticleConnection { nodes { author { username } } }",
            json!({}),
        )
        .await;
    assert_refused(&fragment, "depth", 3, 4);
}

#[tokio::test]
async fn cost_multiplies_by_page_size_and_is_refused_over_the_limit() {
    let app = app_with(|c| c.protection.max_cost = 21).await;
    // tags: 1 + 10 * (name + articleCount) = 21.
    let at = app
        .graphql("{ tags(first: 10) { name articleCount } }", json!({}))
        .await;
    assert_eq!(at["data"]["tags"][0]["name"], "rust", "{at}");
    // With first: 11 from a variable: 1 + 11 * 2 = 23.
    let over = app
        .graphql(
            "query($n: Int) { tags(first: $n) { name articleCount } }",
            json!({ "n": 11 }),
        )
        .await;
    assert_refused(&over, "cost", 21, 23);
}

#[tokio::test]
async fn aliases_are_answered_at_the_limit_and_refused_over_it() {
    let app = app_with(|c| c.protection.max_aliases = 2).await;
    let at = app
        .graphql("{ a: tags { name } b: tags { name } }", json!({}))
        .await;
    assert_eq!(at["data"]["b"][0]["name"], "rust", "{at}");
    let over = app
        .graphql(
            "{ a: tags { name } b: tags { name } c: tags { name } }",
            json!({}),
        )
        .await;
    assert_refused(&over, "aliases", 2, 3);
}

#[tokio::test]
async fn root_fields_are_answered_at_the_limit_and_refused_over_it() {
    let app = app_with(|c| c.protection.max_root_fields = 2).await;
    let at = app
        .graphql("{ tags { name } viewer { username } }", json!({}))
        .await;
    assert_eq!(at["data"]["tags"][0]["name"], "rust", "{at}");
    let over = app
        .graphql(
            "{ tags { name } viewer { username } __typename }",
            json!({}),
        )
        .await;
    assert_refused(&over, "rootFields", 2, 3);
}

#[tokio::test]
async fn directives_are_answered_at_the_limit_and_refused_over_it() {
    let app = app_with(|c| c.protection.max_directives = 2).await;
    let at = app
        .graphql(
            "{ tags @include(if: true) { name @skip(if: false) } }",
            json!({}),
        )
        .await;
    assert_eq!(at["data"]["tags"][0]["name"], "rust", "{at}");
    let over = app
        .graphql(
            "{ tags @include(if: true) { name @skip(if: false) articleCount @skip(if: false) } }",
            json!({}),
        )
        .await;
    assert_refused(&over, "directives", 2, 3);
}

#[tokio::test]
async fn tokens_are_counted_before_parsing_and_refused_over_the_limit() {
    let app = app_with(|c| c.protection.max_tokens = 11).await;
    // { tags ( first : 2 ) { name } }: 11 tokens.
    let at = app.graphql("{ tags(first: 2) { name } }", json!({})).await;
    assert_eq!(at["data"]["tags"][0]["name"], "rust", "{at}");
    let over = app
        .graphql("{ tags(first: 2) { name articleCount } }", json!({}))
        .await;
    assert_refused(&over, "tokens", 11, 12);
    // Text that would not even parse is refused by its size first; counting
    // stops one token over the limit.
    let garbage = app.graphql(&"{ ( ".repeat(1_000), json!({})).await;
    assert_refused(&garbage, "tokens", 11, 12);
}

#[tokio::test]
async fn the_default_limits_refuse_a_fragment_explosion_at_once() {
    let app = TestApp::spawn().await;
    // Each fragment spreads the next one ten times: 10^20 fields when expanded.
    let mut query = String::from("{ ...F0 }");
    for i in 0..20 {
        let spreads = format!("...F{} ", i + 1).repeat(10);
        query.push_str(&format!(" fragment F{i} on QueryRoot {{ {spreads} }}"));
    }
    query.push_str(" fragment F20 on QueryRoot { tags { name } }");
    let started = Instant::now();
    let body = app.graphql(&query, json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_error(&body, "LIMIT_EXCEEDED");
    assert_eq!(body["errors"][0]["extensions"]["limit"], "cost", "{body}");
}
