//! Documents and variables graphql-js refuses before anything runs: literal
//! values of the wrong type, variables used where their type does not fit,
//! and variable values that do not coerce. Each refusal is a request error
//! without `data`; each accepted counterpart runs.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_error};

const ROLE: &str = "query($u: String!) { user(username: $u) { role } }";
const OWN_ARTICLES: &str =
    "{ viewer { articles(status: DRAFT) { totalCount } published: articles { totalCount } } }";

/// Asserts that `body` is a request error, labelled BAD_USER_INPUT, with no
/// `data` at all, and returns its message.
fn refused(body: &Value) -> String {
    assert_error(body, "BAD_USER_INPUT");
    assert!(body.get("data").is_none(), "{body}");
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// How many articles `user` has: drafts and published.
async fn articles_of(app: &TestApp, user: &TestUser) -> (u64, u64) {
    let body = app.graphql_as(&user.token, OWN_ARTICLES, json!({})).await;
    let viewer = &body["data"]["viewer"];
    (
        viewer["articles"]["totalCount"].as_u64().expect("drafts"),
        viewer["published"]["totalCount"]
            .as_u64()
            .expect("published"),
    )
}

#[tokio::test]
async fn a_string_where_an_enum_value_goes_is_refused_before_anything_runs() {
    let app = TestApp::spawn().await;
    let root = app.admin("root").await;
    app.register("mia").await;

    let body = app
        .graphql(
            "{ articles(first: 1, filter: { status: \"PUBLISHED\" }) { totalCount } }",
            json!({}),
        )
        .await;
    let message = refused(&body);
    assert!(message.contains("ArticleStatus"), "{message}");
    let body = app
        .graphql(
            "query($s: ArticleStatus = \"DRAFT\") { viewer { articles(status: $s) { totalCount } } }",
            json!({}),
        )
        .await;
    refused(&body);

    let grant = |role: &str| {
        format!(
            "mutation {{ grantRole(input: {{ username: \"mia\", role: {role} }}) {{ user {{ role }} }} }}"
        )
    };
    let body = app
        .graphql_as(&root.token, &grant("\"ADMIN\""), json!({}))
        .await;
    refused(&body);
    let role = app.graphql(ROLE, json!({ "u": "mia" })).await;
    assert_eq!(role["data"]["user"]["role"], "USER", "nothing ran: {role}");

    let body = app
        .graphql_as(&root.token, &grant("ADMIN"), json!({}))
        .await;
    assert_eq!(body["data"]["grantRole"]["user"]["role"], "ADMIN", "{body}");
}

#[tokio::test]
async fn a_variable_where_its_type_does_not_fit_is_refused_before_anything_runs() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;

    let body = app
        .graphql(
            "query($w: [ID]) { nodes(ids: $w) { __typename } }",
            json!({ "w": ["x"] }),
        )
        .await;
    let message = refused(&body);
    assert_eq!(
        message,
        "Variable \"$w\" of type \"[ID]\" used in position expecting type \"[ID!]!\"."
    );
    let body = app
        .graphql("query($w: Int) { user(username: $w) { id } }", json!({}))
        .await;
    refused(&body);

    let create = |tags: &str| {
        format!(
            "mutation($t: {tags}) {{ createArticle(input: {{ title: \"Tagged\", description: \"d\", body: \"b\", tags: $t }}) {{ article {{ tags }} }} }}"
        )
    };
    let body = app
        .graphql_as(&jake.token, &create("[String]"), json!({ "t": ["rust"] }))
        .await;
    refused(&body);
    assert_eq!(articles_of(&app, &jake).await, (0, 0), "nothing ran");

    let body = app
        .graphql_as(&jake.token, &create("[String!]"), json!({ "t": ["rust"] }))
        .await;
    assert_eq!(
        body["data"]["createArticle"]["article"]["tags"],
        json!(["rust"]),
        "{body}"
    );
    assert_eq!(articles_of(&app, &jake).await, (0, 1));
}

#[tokio::test]
async fn variable_values_that_do_not_coerce_are_refused_before_anything_runs() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;

    let body = app
        .graphql("query($n: Int!) { tags(first: $n) { name } }", json!({}))
        .await;
    assert_eq!(
        refused(&body),
        "Variable \"$n\" of required type \"Int!\" was not provided."
    );
    let filter = "query($f: ArticleFilterInput) { articles(first: 1, filter: $f) { totalCount } }";
    refused(&app.graphql(filter, json!({ "f": "x" })).await);
    refused(&app.graphql(filter, json!({ "f": { "nope": "x" } })).await);
    let authors = "query($a: String, $b: String) { articles(first: 1, filter: { author: $a, favoritedBy: $b }) { totalCount } }";
    refused(&app.graphql(authors, json!({ "a": { "s": "x" } })).await);

    let create = "mutation($d: Boolean!) { createArticle(input: { title: \"Maybe\", description: \"d\", body: \"b\", draft: $d }) { article { status } } }";
    refused(&app.graphql_as(&jake.token, create, json!({})).await);
    refused(
        &app.graphql_as(&jake.token, create, json!({ "d": "yes" }))
            .await,
    );
    assert_eq!(articles_of(&app, &jake).await, (0, 0), "nothing ran");

    let body = app
        .graphql_as(&jake.token, create, json!({ "d": true }))
        .await;
    assert_eq!(
        body["data"]["createArticle"]["article"]["status"], "DRAFT",
        "{body}"
    );
    assert_eq!(articles_of(&app, &jake).await, (1, 0));
    let body = app.graphql(filter, json!({ "f": { "tag": null } })).await;
    assert_eq!(body["data"]["articles"]["totalCount"], 0, "{body}");
}

#[tokio::test]
async fn a_document_that_passed_before_still_has_its_values_checked() {
    let app = TestApp::spawn().await;
    let document = "query($n: Int!, $f: ArticleFilterInput) { articles(first: $n, filter: $f) { totalCount } }";
    let fine = app
        .graphql(document, json!({ "n": 2, "f": { "tag": "rust" } }))
        .await;
    assert_eq!(fine["data"]["articles"]["totalCount"], 0, "{fine}");
    for variables in [
        json!({}),
        json!({ "n": "two" }),
        json!({ "n": 2, "f": "rust" }),
        json!({ "n": 2, "f": { "nope": 1 } }),
    ] {
        let body = app.graphql(document, variables.clone()).await;
        assert!(body.get("data").is_none(), "{variables}: {body}");
        assert_error(&body, "BAD_USER_INPUT");
    }
}
