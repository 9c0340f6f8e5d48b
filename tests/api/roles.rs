//! Moderators and admins: removing content, bans and role changes.

use serde_json::{Value, json};

use crate::helpers::{TestApp, WsClient, assert_error};

const GRANT: &str = "mutation($u: String!, $r: UserRole!) { grantRole(input: { username: $u, role: $r }) { user { username role } } }";
const BAN: &str = "mutation($u: String!) { banUser(input: { username: $u }) { username banned } }";
const UNBAN: &str =
    "mutation($u: String!) { unbanUser(input: { username: $u }) { username banned } }";
const DELETE_ARTICLE: &str =
    "mutation($s: String!) { deleteArticle(input: { slug: $s }) { deletedArticleId } }";
const UNPUBLISH: &str =
    "mutation($s: String!) { unpublishArticle(input: { slug: $s }) { article { status } } }";
const UPDATE: &str = "mutation($s: String!) { updateArticle(input: { slug: $s, body: \"edited\" }) { article { body } } }";
const ADD_COMMENT: &str = "mutation($s: String!) { addComment(input: { articleSlug: $s, body: \"spam\" }) { comment { id } } }";
const DELETE_COMMENT: &str =
    "mutation($id: ID!) { deleteComment(input: { id: $id }) { deletedCommentId } }";

#[tokio::test]
async fn a_moderator_removes_anyones_content_but_cannot_edit_it() {
    let app = TestApp::spawn().await;
    let root = app.admin("root").await;
    let jake = app.register("jake").await;
    let mod_user = app.register("mia").await;
    let granted = app
        .graphql_as(&root.token, GRANT, json!({ "u": "mia", "r": "MODERATOR" }))
        .await;
    assert_eq!(
        granted["data"]["grantRole"]["user"],
        json!({ "username": "mia", "role": "MODERATOR" }),
        "{granted}"
    );

    let first = app.create_article(&jake, "First", &[], false).await;
    let second = app.create_article(&jake, "Second", &[], false).await;
    let comment = app
        .graphql_as(&jake.token, ADD_COMMENT, json!({ "s": second }))
        .await;
    let comment_id = comment["data"]["addComment"]["comment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // The moderator's token was minted before the grant and still gets the role.
    assert_error(
        &app.graphql_as(&mod_user.token, UPDATE, json!({ "s": first }))
            .await,
        "FORBIDDEN",
    );
    let unpublished = app
        .graphql_as(&mod_user.token, UNPUBLISH, json!({ "s": first }))
        .await;
    assert_eq!(
        unpublished["data"]["unpublishArticle"]["article"]["status"], "DRAFT",
        "{unpublished}"
    );
    let deleted = app
        .graphql_as(&mod_user.token, DELETE_COMMENT, json!({ "id": comment_id }))
        .await;
    assert!(
        deleted["data"]["deleteComment"]["deletedCommentId"].is_string(),
        "{deleted}"
    );
    let removed = app
        .graphql_as(&mod_user.token, DELETE_ARTICLE, json!({ "s": second }))
        .await;
    assert!(
        removed["data"]["deleteArticle"]["deletedArticleId"].is_string(),
        "{removed}"
    );
    assert_error(
        &app.graphql_as(&mod_user.token, BAN, json!({ "u": "jake" }))
            .await,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn a_demoted_moderator_loses_the_power_at_once() {
    let app = TestApp::spawn().await;
    let root = app.admin("root").await;
    let jake = app.register("jake").await;
    let mia = app.register("mia").await;
    app.graphql_as(&root.token, GRANT, json!({ "u": "mia", "r": "MODERATOR" }))
        .await;
    let slug = app.create_article(&jake, "Keep", &[], false).await;
    app.graphql_as(&root.token, GRANT, json!({ "u": "mia", "r": "USER" }))
        .await;
    assert_error(
        &app.graphql_as(&mia.token, UNPUBLISH, json!({ "s": slug }))
            .await,
        "FORBIDDEN",
    );
    let still = app
        .graphql(
            "query($s: String!) { article(slug: $s) { status } }",
            json!({ "s": slug }),
        )
        .await;
    assert_eq!(still["data"]["article"]["status"], "PUBLISHED");
}

#[tokio::test]
async fn a_ban_ends_the_users_tokens_and_hides_their_content_until_lifted() {
    let app = TestApp::spawn().await;
    let root = app.admin("root").await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let slug = app.create_article(&jake, "Spam", &["spam"], false).await;
    let anne_slug = app.create_article(&anne, "Fine", &[], false).await;
    app.graphql_as(&jake.token, ADD_COMMENT, json!({ "s": anne_slug }))
        .await;

    assert_error(
        &app.graphql_as(&anne.token, BAN, json!({ "u": "jake" }))
            .await,
        "FORBIDDEN",
    );
    let banned = app
        .graphql_as(&root.token, BAN, json!({ "u": "jake" }))
        .await;
    assert_eq!(
        banned["data"]["banUser"],
        json!({ "username": "jake", "banned": true }),
        "{banned}"
    );

    assert_error(
        &app.graphql_as(&jake.token, "{ viewer { username } }", json!({}))
            .await,
        "UNAUTHENTICATED",
    );
    // Signing in answers as a wrong password does, right password or not.
    let login = |password: &str| {
        app.graphql(
            "mutation($p: String!) { login(input: { email: \"jake@example.org\", password: $p }) { token } }",
            json!({ "p": password }),
        )
    };
    let (right, wrong) = (
        login("correct horse battery").await,
        login("wrong password").await,
    );
    assert_error(&right, "UNAUTHENTICATED");
    assert_eq!(right["errors"][0]["message"], wrong["errors"][0]["message"]);
    let public = app
        .graphql(
            "query($s: String!, $a: String!) { article(slug: $s) { id } user(username: \"jake\") { id } tags { name }
               articles { totalCount } other: article(slug: $a) { commentCount comments { totalCount } } }",
            json!({ "s": slug, "a": anne_slug }),
        )
        .await;
    assert!(public["data"]["article"].is_null(), "{public}");
    assert!(public["data"]["user"].is_null());
    assert_eq!(public["data"]["tags"], json!([]));
    assert_eq!(public["data"]["articles"]["totalCount"], 1);
    assert_eq!(public["data"]["other"]["commentCount"], 0);
    assert_eq!(public["data"]["other"]["comments"]["totalCount"], 0);
    assert_error(
        &app.graphql_as(&root.token, BAN, json!({ "u": "root" }))
            .await,
        "BAD_USER_INPUT",
    );

    let lifted = app
        .graphql_as(&root.token, UNBAN, json!({ "u": "jake" }))
        .await;
    assert_eq!(lifted["data"]["unbanUser"]["banned"], false, "{lifted}");
    let back = app
        .graphql(
            "query($s: String!) { article(slug: $s) { slug } }",
            json!({ "s": slug }),
        )
        .await;
    assert_eq!(back["data"]["article"]["slug"], slug.as_str());
    assert_error(
        &app.graphql_as(&jake.token, "{ viewer { username } }", json!({}))
            .await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn only_admins_grant_roles() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    app.register("anne").await;
    assert_error(
        &app.graphql_as(&jake.token, GRANT, json!({ "u": "anne", "r": "ADMIN" }))
            .await,
        "FORBIDDEN",
    );
    assert_error(
        &app.graphql_as(&jake.token, GRANT, json!({ "u": "jake", "r": "ADMIN" }))
            .await,
        "FORBIDDEN",
    );
    assert_error(
        &app.graphql(GRANT, json!({ "u": "anne", "r": "ADMIN" }))
            .await,
        "UNAUTHENTICATED",
    );
    let profile = app
        .graphql("{ user(username: \"anne\") { role } }", json!({}))
        .await;
    assert_eq!(profile["data"]["user"]["role"], "USER");
}

/// Runs `query` over an open WebSocket and returns its result's payload, or
/// `{"errors": ...}` for an `error` message.
async fn over_socket(client: &mut WsClient, id: &str, query: &str, variables: Value) -> Value {
    client
        .send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
        .await;
    let message = client.next().await.expect("an answer");
    match message["type"].as_str() {
        Some("next") => {
            let done = client.next().await.expect("complete");
            assert_eq!(done["type"], "complete", "{done}");
            message["payload"].clone()
        }
        Some("error") => json!({ "errors": message["payload"] }),
        _ => panic!("unexpected message: {message}"),
    }
}

#[tokio::test]
async fn a_demoted_admin_loses_the_power_on_an_open_websocket_at_once() {
    let app = TestApp::spawn().await;
    let root = app.admin("root").await;
    let second = app.admin("second").await;
    app.register("jake").await;
    app.register("amy").await;
    let mut socket = WsClient::connect(&app, "graphql-transport-ws").await;
    socket.init(Some(&second.token)).await;
    let banned = over_socket(&mut socket, "1", BAN, json!({ "u": "jake" })).await;
    assert_eq!(banned["data"]["banUser"]["banned"], true, "{banned}");

    let demoted = app
        .graphql_as(&root.token, GRANT, json!({ "u": "second", "r": "USER" }))
        .await;
    assert_eq!(
        demoted["data"]["grantRole"]["user"]["role"], "USER",
        "{demoted}"
    );
    // The next operation on the same socket, within the same second.
    for (id, query, variables) in [
        ("2", BAN, json!({ "u": "amy" })),
        ("3", UNBAN, json!({ "u": "jake" })),
        ("4", GRANT, json!({ "u": "amy", "r": "ADMIN" })),
    ] {
        let refused = over_socket(&mut socket, id, query, variables).await;
        assert_error(&refused, "FORBIDDEN");
    }
    // Promoted again, the same socket gets the power back.
    app.graphql_as(&root.token, GRANT, json!({ "u": "second", "r": "ADMIN" }))
        .await;
    let unbanned = over_socket(&mut socket, "5", UNBAN, json!({ "u": "jake" })).await;
    assert_eq!(unbanned["data"]["unbanUser"]["banned"], false, "{unbanned}");
}

#[tokio::test]
async fn account_administration_refuses_alike_whether_the_user_exists_or_not() {
    let app = TestApp::spawn().await;
    let root = app.admin("root").await;
    let jake = app.register("jake").await;
    app.register("anne").await;
    let revoke =
        "mutation($u: String) { revokeAllSessions(input: { username: $u }) { user { username } } }";
    for (query, variables) in [
        (BAN, json!({ "u": "anne" })),
        (UNBAN, json!({ "u": "anne" })),
        (GRANT, json!({ "u": "anne", "r": "ADMIN" })),
        (revoke, json!({ "u": "anne" })),
    ] {
        let mut missing = variables.clone();
        missing["u"] = json!("nobody-by-that-name");
        // Someone who may not: the same refusal for both names.
        let existing = app.graphql_as(&jake.token, query, variables.clone()).await;
        let absent = app.graphql_as(&jake.token, query, missing.clone()).await;
        assert_error(&existing, "FORBIDDEN");
        assert_error(&absent, "FORBIDDEN");
        assert_eq!(
            existing["errors"][0]["message"],
            absent["errors"][0]["message"]
        );
        // An admin learns that the name does not exist.
        assert_error(
            &app.graphql_as(&root.token, query, missing).await,
            "NOT_FOUND",
        );
    }
}
