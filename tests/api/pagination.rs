//! Relay pagination: page sizes, cursors forwards and backwards, stable cursors.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  articles(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { title } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

fn titles(body: &Value) -> Vec<String> {
    body["data"]["articles"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {body}"))
        .iter()
        .map(|e| e["node"]["title"].as_str().expect("title").to_owned())
        .collect()
}

async fn five_articles(app: &TestApp) {
    let jake = app.register("jake").await;
    for n in 1..=5 {
        app.create_article(&jake, &format!("A{n}"), &[], false)
            .await;
    }
}

#[tokio::test]
async fn first_and_after_walk_forwards_through_every_article_once() {
    let app = TestApp::spawn().await;
    five_articles(&app).await;
    let one = app.graphql(PAGE, json!({ "first": 2 })).await;
    assert_eq!(titles(&one), ["A5", "A4"]);
    let info = &one["data"]["articles"]["pageInfo"];
    assert_eq!(info["hasNextPage"], true);
    assert_eq!(info["hasPreviousPage"], false);
    assert_eq!(one["data"]["articles"]["totalCount"], 5);
    assert_eq!(
        info["endCursor"],
        one["data"]["articles"]["edges"][1]["cursor"]
    );

    let two = app
        .graphql(PAGE, json!({ "first": 2, "after": info["endCursor"] }))
        .await;
    assert_eq!(titles(&two), ["A3", "A2"]);
    let three = app
        .graphql(
            PAGE,
            json!({ "first": 2, "after": two["data"]["articles"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(titles(&three), ["A1"]);
    assert_eq!(three["data"]["articles"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        three["data"]["articles"]["pageInfo"]["hasPreviousPage"],
        true
    );
}

#[tokio::test]
async fn last_and_before_walk_backwards() {
    let app = TestApp::spawn().await;
    five_articles(&app).await;
    let tail = app.graphql(PAGE, json!({ "last": 2 })).await;
    assert_eq!(titles(&tail), ["A2", "A1"]);
    assert_eq!(
        tail["data"]["articles"]["pageInfo"]["hasPreviousPage"],
        true
    );
    let before = app
        .graphql(
            PAGE,
            json!({ "last": 2, "before": tail["data"]["articles"]["pageInfo"]["startCursor"] }),
        )
        .await;
    assert_eq!(titles(&before), ["A4", "A3"]);
    assert_eq!(before["data"]["articles"]["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn a_cursor_stays_valid_when_articles_are_added() {
    let app = TestApp::spawn().await;
    five_articles(&app).await;
    let one = app.graphql(PAGE, json!({ "first": 2 })).await;
    let cursor = one["data"]["articles"]["pageInfo"]["endCursor"].clone();
    let anne = app.register("anne").await;
    app.create_article(&anne, "Newest", &[], false).await;
    let two = app
        .graphql(PAGE, json!({ "first": 2, "after": cursor }))
        .await;
    assert_eq!(titles(&two), ["A3", "A2"]);
}

#[tokio::test]
async fn page_sizes_outside_one_to_a_hundred_are_refused() {
    let app = TestApp::spawn().await;
    for vars in [
        json!({ "first": 0 }),
        json!({ "first": 1000 }),
        json!({ "last": -1 }),
        json!({ "first": 2, "last": 2 }),
    ] {
        let body = app.graphql(PAGE, vars.clone()).await;
        assert_error(&body, "BAD_USER_INPUT");
        assert!(body["data"].is_null(), "{vars}: {body}");
    }
    let largest = app.graphql(PAGE, json!({ "first": 100 })).await;
    assert!(largest["errors"].is_null(), "{largest}");
}

#[tokio::test]
async fn a_malformed_cursor_is_refused_by_name() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql(
            PAGE,
            json!({ "first": 2, "after": "definitely-not-a-cursor" }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["field"],
        "after"
    );
}

#[tokio::test]
async fn comments_page_oldest_first() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let slug = app.create_article(&jake, "Chatty", &[], false).await;
    for n in 1..=3 {
        app.graphql_as(
            &jake.token,
            "mutation($s: String!, $b: String!) { addComment(input: { articleSlug: $s, body: $b }) { comment { id } } }",
            json!({ "s": slug, "b": format!("c{n}") }),
        )
        .await;
    }
    const COMMENTS: &str = "query($s: String!, $after: String) { article(slug: $s) { comments(first: 2, after: $after) { nodes { body } pageInfo { hasNextPage endCursor } } } }";
    let one = app.graphql(COMMENTS, json!({ "s": slug })).await;
    let page = &one["data"]["article"]["comments"];
    assert_eq!(page["nodes"], json!([{ "body": "c1" }, { "body": "c2" }]));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let two = app
        .graphql(
            COMMENTS,
            json!({ "s": slug, "after": page["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        two["data"]["article"]["comments"]["nodes"],
        json!([{ "body": "c3" }])
    );
}
