//! Comments: add, list, delete.

use serde_json::json;

use crate::helpers::{TestApp, assert_error};

const ADD: &str = "mutation($s: String!, $b: String!) { addComment(input: { articleSlug: $s, body: $b }) { comment { id body author { username } article { slug } } } }";
const DELETE: &str =
    "mutation($id: ID!) { deleteComment(input: { id: $id }) { deletedCommentId } }";
const COMMENTS: &str = "query($s: String!) { article(slug: $s) { commentCount comments(first: 10) { totalCount nodes { body author { username } } } } }";

#[tokio::test]
async fn signed_in_users_comment_and_everyone_reads_the_comments_in_order() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let slug = app.create_article(&jake, "Talk", &[], false).await;

    let first = app
        .graphql_as(&anne.token, ADD, json!({ "s": slug, "b": "First!" }))
        .await;
    let comment = &first["data"]["addComment"]["comment"];
    assert_eq!(comment["body"], "First!", "{first}");
    assert_eq!(comment["author"]["username"], "anne");
    assert_eq!(comment["article"]["slug"], slug);
    app.graphql_as(&jake.token, ADD, json!({ "s": slug, "b": "Thanks" }))
        .await;

    let body = app.graphql(COMMENTS, json!({ "s": slug })).await;
    let article = &body["data"]["article"];
    assert_eq!(article["commentCount"], 2);
    assert_eq!(article["comments"]["totalCount"], 2);
    assert_eq!(
        article["comments"]["nodes"],
        json!([{ "body": "First!", "author": { "username": "anne" } }, { "body": "Thanks", "author": { "username": "jake" } }])
    );
}

#[tokio::test]
async fn adding_a_comment_needs_a_token_a_body_and_an_existing_article() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let slug = app.create_article(&jake, "Talk", &[], false).await;
    assert_error(
        &app.graphql(ADD, json!({ "s": slug, "b": "hi" })).await,
        "UNAUTHENTICATED",
    );
    let empty = app
        .graphql_as(&jake.token, ADD, json!({ "s": slug, "b": "   " }))
        .await;
    assert_error(&empty, "BAD_USER_INPUT");
    assert_eq!(
        empty["errors"][0]["extensions"]["fields"][0]["field"],
        "body"
    );
    assert_error(
        &app.graphql_as(&jake.token, ADD, json!({ "s": "missing", "b": "hi" }))
            .await,
        "NOT_FOUND",
    );
    assert_eq!(
        app.graphql(COMMENTS, json!({ "s": slug })).await["data"]["article"]["commentCount"],
        0
    );
}

#[tokio::test]
async fn only_the_commenter_deletes_a_comment() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let slug = app.create_article(&jake, "Talk", &[], false).await;
    let added = app
        .graphql_as(&anne.token, ADD, json!({ "s": slug, "b": "mine" }))
        .await;
    let id = added["data"]["addComment"]["comment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    assert_error(
        &app.graphql(DELETE, json!({ "id": id })).await,
        "UNAUTHENTICATED",
    );
    assert_error(
        &app.graphql_as(&jake.token, DELETE, json!({ "id": id }))
            .await,
        "FORBIDDEN",
    );
    assert_error(
        &app.graphql_as(&anne.token, DELETE, json!({ "id": "garbage" }))
            .await,
        "BAD_USER_INPUT",
    );

    let deleted = app
        .graphql_as(&anne.token, DELETE, json!({ "id": id }))
        .await;
    assert_eq!(
        deleted["data"]["deleteComment"]["deletedCommentId"],
        id.as_str()
    );
    assert_eq!(
        app.graphql(COMMENTS, json!({ "s": slug })).await["data"]["article"]["commentCount"],
        0
    );
    assert_error(
        &app.graphql_as(&anne.token, DELETE, json!({ "id": id }))
            .await,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn comments_and_articles_resolve_through_node() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let slug = app.create_article(&jake, "Talk", &[], false).await;
    let added = app
        .graphql_as(&jake.token, ADD, json!({ "s": slug, "b": "hello" }))
        .await;
    let id = added["data"]["addComment"]["comment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let body = app
        .graphql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename ... on Comment { body } ... on User { username } } }",
            json!({ "ids": [id, jake.id, "bm90aGluZw"] }),
        )
        .await;
    let nodes = &body["data"]["nodes"];
    assert_eq!(nodes[0]["__typename"], "Comment");
    assert_eq!(nodes[0]["body"], "hello");
    assert_eq!(nodes[1]["username"], "jake");
    assert!(nodes[2].is_null());
}
