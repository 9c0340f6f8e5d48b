//! Logout, ending every session, narrowing tokens, and key rotation.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WsClient, assert_error};

const VIEWER: &str = "{ viewer { username email } }";
const LOGIN: &str = "mutation($e: String!) { login(input: { email: $e, password: \"correct horse battery\" }) { token } }";
const ATTENUATE: &str =
    "mutation($input: AttenuateTokenInput!) { attenuateToken(input: $input) { token } }";

fn username(body: &Value) -> &Value {
    &body["data"]["viewer"]["username"]
}

async fn login(app: &TestApp, user: &TestUser, name: &str) -> String {
    let body = app
        .graphql(LOGIN, json!({ "e": format!("{name}@example.org") }))
        .await;
    body["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{user:?}: {body}", user = user.id))
        .to_owned()
}

async fn attenuate(app: &TestApp, token: &str, input: Value) -> String {
    let body = app
        .graphql_as(token, ATTENUATE, json!({ "input": input }))
        .await;
    body["data"]["attenuateToken"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("attenuateToken failed: {body}"))
        .to_owned()
}

#[tokio::test]
async fn logout_ends_the_presented_token_and_its_descendants_only() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let second = login(&app, &jake, "jake").await;
    let child = attenuate(&app, &second, json!({ "readOnly": true })).await;
    assert_eq!(
        username(&app.graphql_as(&child, VIEWER, json!({})).await),
        "jake"
    );

    let out = app
        .graphql_as(&second, "mutation { logout { revoked } }", json!({}))
        .await;
    assert_eq!(out["data"]["logout"]["revoked"], true, "{out}");

    assert_error(
        &app.graphql_as(&second, VIEWER, json!({})).await,
        "UNAUTHENTICATED",
    );
    assert_error(
        &app.graphql_as(&child, VIEWER, json!({})).await,
        "UNAUTHENTICATED",
    );
    assert_eq!(
        username(&app.graphql_as(&jake.token, VIEWER, json!({})).await),
        "jake",
        "the other session lives"
    );
    assert_error(
        &app.graphql("mutation { logout { revoked } }", json!({}))
            .await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn a_read_only_token_may_still_log_itself_out() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let child = attenuate(&app, &jake.token, json!({ "readOnly": true })).await;
    let out = app
        .graphql_as(&child, "mutation { logout { revoked } }", json!({}))
        .await;
    assert_eq!(out["data"]["logout"]["revoked"], true, "{out}");
    assert_error(
        &app.graphql_as(&child, VIEWER, json!({})).await,
        "UNAUTHENTICATED",
    );
    assert_eq!(
        username(&app.graphql_as(&jake.token, VIEWER, json!({})).await),
        "jake"
    );
}

#[tokio::test]
async fn revoke_all_sessions_ends_every_token_but_new_logins_work() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let second = login(&app, &jake, "jake").await;
    let body = app
        .graphql_as(
            &jake.token,
            "mutation { revokeAllSessions { user { username } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["revokeAllSessions"]["user"]["username"], "jake",
        "{body}"
    );
    assert_error(
        &app.graphql_as(&jake.token, VIEWER, json!({})).await,
        "UNAUTHENTICATED",
    );
    assert_error(
        &app.graphql_as(&second, VIEWER, json!({})).await,
        "UNAUTHENTICATED",
    );
    let fresh = login(&app, &jake, "jake").await;
    assert_eq!(
        username(&app.graphql_as(&fresh, VIEWER, json!({})).await),
        "jake"
    );
}

#[tokio::test]
async fn only_admins_end_other_users_sessions() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let body = app
        .graphql_as(
            &anne.token,
            "mutation { revokeAllSessions(input: { username: \"jake\" }) { user { username } } }",
            json!({}),
        )
        .await;
    assert_error(&body, "FORBIDDEN");
    assert_eq!(
        username(&app.graphql_as(&jake.token, VIEWER, json!({})).await),
        "jake"
    );
}

#[tokio::test]
async fn attenuate_token_narrows_to_one_article_and_some_actions() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let first = app.create_article(&jake, "First", &[], false).await;
    let second = app.create_article(&jake, "Second", &[], false).await;
    let narrowed = attenuate(
        &app,
        &jake.token,
        json!({ "articleSlugs": [first], "actions": ["comment.create"] }),
    )
    .await;

    const COMMENT: &str = "mutation($s: String!) { addComment(input: { articleSlug: $s, body: \"hi\" }) { comment { body } } }";
    let allowed = app
        .graphql_as(&narrowed, COMMENT, json!({ "s": first }))
        .await;
    assert_eq!(
        allowed["data"]["addComment"]["comment"]["body"], "hi",
        "{allowed}"
    );
    assert_error(
        &app.graphql_as(&narrowed, COMMENT, json!({ "s": second }))
            .await,
        "FORBIDDEN",
    );
    let publish = app
        .graphql_as(&narrowed, "mutation($s: String!) { unpublishArticle(input: { slug: $s }) { article { status } } }", json!({ "s": first }))
        .await;
    assert_error(&publish, "FORBIDDEN");
    let widen = app
        .graphql_as(
            &narrowed,
            ATTENUATE,
            json!({ "input": { "readOnly": true } }),
        )
        .await;
    assert_error(&widen, "FORBIDDEN");
}

#[tokio::test]
async fn attenuate_token_with_a_short_expiry_stops_working() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let short = attenuate(&app, &jake.token, json!({ "expiresIn": 2 })).await;
    assert_eq!(
        app.graphql_as(&short, VIEWER, json!({})).await["data"]["viewer"]["email"],
        "jake@example.org"
    );
    let mut socket = WsClient::connect(&app, "graphql-transport-ws").await;
    socket.init(Some(&short)).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    // Past its own expiry the token is expired everywhere, public reads too.
    for document in [VIEWER, "{ articles(first: 1) { totalCount } }"] {
        let body = app.graphql_as(&short, document, json!({})).await;
        assert_error(&body, "UNAUTHENTICATED");
        assert_eq!(
            body["errors"][0]["message"], "the token has expired",
            "{body}"
        );
    }
    let closed = socket.next().await.expect("a close frame");
    assert_eq!(closed["close"], 4403, "{closed}");
    let invalid = app
        .graphql_as(
            &jake.token,
            ATTENUATE,
            json!({ "input": { "expiresIn": 0, "actions": ["root.shell"] } }),
        )
        .await;
    assert_error(&invalid, "BAD_USER_INPUT");
    assert_error(
        &app.graphql(ATTENUATE, json!({ "input": { "readOnly": true } }))
            .await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn a_logout_on_one_instance_is_refused_by_another_within_a_second() {
    let a = TestApp::spawn().await;
    let b = a.spawn_peer().await;
    let jake = a.register("jake").await;
    assert_eq!(
        username(&b.graphql_as(&jake.token, VIEWER, json!({})).await),
        "jake"
    );
    let started = std::time::Instant::now();
    a.graphql_as(&jake.token, "mutation { logout { revoked } }", json!({}))
        .await;
    loop {
        let body = b.graphql_as(&jake.token, VIEWER, json!({})).await;
        if body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_millis(1500),
            "instance B still accepts the token: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_role_change_on_one_instance_applies_on_another() {
    let a = TestApp::spawn().await;
    let b = a.spawn_peer().await;
    let root = a.admin("root").await;
    let jake = a.register("jake").await;
    let mia = a.register("mia").await;
    let slug = a.create_article(&jake, "Target", &[], false).await;
    a.graphql_as(
        &root.token,
        "mutation { grantRole(input: { username: \"mia\", role: MODERATOR }) { user { role } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let body = b
        .graphql_as(&mia.token, "mutation($s: String!) { unpublishArticle(input: { slug: $s }) { article { status } } }", json!({ "s": slug }))
        .await;
    assert_eq!(
        body["data"]["unpublishArticle"]["article"]["status"], "DRAFT",
        "{body}"
    );
}

#[tokio::test]
async fn revoke_token_ends_a_given_session_of_ones_own_or_anyones_for_an_admin() {
    let app = TestApp::spawn().await;
    let root = app.admin("root").await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let jakes_other = login(&app, &jake, "jake").await;
    const REVOKE: &str = "mutation($t: String!) { revokeToken(input: { token: $t }) { revoked } }";

    assert_error(
        &app.graphql_as(&anne.token, REVOKE, json!({ "t": jakes_other }))
            .await,
        "FORBIDDEN",
    );
    let own = app
        .graphql_as(&jake.token, REVOKE, json!({ "t": jakes_other }))
        .await;
    assert_eq!(own["data"]["revokeToken"]["revoked"], true, "{own}");
    assert_error(
        &app.graphql_as(&jakes_other, VIEWER, json!({})).await,
        "UNAUTHENTICATED",
    );
    assert_eq!(
        username(&app.graphql_as(&jake.token, VIEWER, json!({})).await),
        "jake"
    );

    let by_admin = app
        .graphql_as(&root.token, REVOKE, json!({ "t": jake.token }))
        .await;
    assert_eq!(
        by_admin["data"]["revokeToken"]["revoked"], true,
        "{by_admin}"
    );
    assert_error(
        &app.graphql_as(&jake.token, VIEWER, json!({})).await,
        "UNAUTHENTICATED",
    );
    assert_error(
        &app.graphql_as(&root.token, REVOKE, json!({ "t": "garbage" }))
            .await,
        "BAD_USER_INPUT",
    );
}
