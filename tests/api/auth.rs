//! Tokens: tampered, foreign, expired and attenuated tokens through the real server.

use std::time::Duration;

use biscuit_auth::{Algorithm, Biscuit, BlockBuilder, PrivateKey};
use conduit::auth::{Claims, Role, TokenKeys};
use serde_json::json;

use crate::helpers::{TestApp, assert_error};

fn claims(user_id: i64) -> Claims {
    Claims {
        user_id,
        role: Role::User,
        session_epoch: 0,
    }
}

const VIEWER: &str = "{ viewer { username email } }";
const PUBLIC: &str = "{ articles(first: 1) { totalCount } }";

fn attenuate(app: &TestApp, token: &str, code: &str) -> String {
    let public = PrivateKey::from_bytes_hex(&app.tokens.private_key_hex(), Algorithm::Ed25519)
        .expect("key")
        .public();
    let biscuit = Biscuit::from_base64(token, public).expect("parse token");
    let block = BlockBuilder::new().code(code).expect("block");
    biscuit
        .append(block)
        .expect("append")
        .to_base64()
        .expect("encode")
}

#[tokio::test]
async fn a_tampered_token_is_unauthenticated_even_for_public_data() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let mut bytes = jake.token.into_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).expect("ascii");
    let body = app.graphql_as(&tampered, PUBLIC, json!({})).await;
    assert_error(&body, "UNAUTHENTICATED");
    assert!(body["data"].is_null());
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let stranger = TokenKeys::generate(Duration::from_secs(60), Default::default());
    let token = stranger.mint(claims(1)).expect("mint");
    assert_error(
        &app.graphql_as(&token, VIEWER, json!({})).await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn an_expired_token_is_unauthenticated_not_anonymous() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    assert_eq!(
        app.graphql_as(&jake.token, VIEWER, json!({})).await["data"]["viewer"]["username"],
        "jake"
    );
    let me = app
        .graphql_as(&jake.token, "{ viewer { id } }", json!({}))
        .await;
    let id =
        conduit::graphql::node::parse_global_id(me["data"]["viewer"]["id"].as_str().expect("id"))
            .expect("global id")
            .1;
    let expired = app
        .tokens
        .mint_until(
            claims(id),
            chrono::Utc::now() - chrono::Duration::seconds(1),
        )
        .expect("mint");
    let body = app.graphql_as(&expired, PUBLIC, json!({})).await;
    assert_error(&body, "UNAUTHENTICATED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("expired")
    );
}

#[tokio::test]
async fn a_malformed_authorization_header_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let response = app
        .post_raw(
            json!({ "query": PUBLIC }).to_string(),
            &[("authorization", "Basic amFrZTpwdw==")],
        )
        .await;
    let body: serde_json::Value = response.json().await.expect("json");
    assert_error(&body, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_read_only_token_reads_private_data_but_cannot_write() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let read_only = attenuate(&app, &jake.token, r#"check if operation("read");"#);

    let me = app.graphql_as(&read_only, VIEWER, json!({})).await;
    assert_eq!(me["data"]["viewer"]["email"], "jake@example.org", "{me}");

    let write = app
        .graphql_as(
            &read_only,
            "mutation { createArticle(input: { title: \"T\", description: \"D\", body: \"B\" }) { article { slug } } }",
            json!({}),
        )
        .await;
    assert_error(&write, "FORBIDDEN");
    let count = app.graphql(PUBLIC, json!({})).await;
    assert_eq!(
        count["data"]["articles"]["totalCount"], 0,
        "nothing was written"
    );
}

#[tokio::test]
async fn a_token_narrowed_to_one_article_cannot_touch_another() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let first = app.create_article(&jake, "First", &[], false).await;
    let second = app.create_article(&jake, "Second", &[], false).await;
    let article = app
        .graphql(
            "query($s: String!) { article(slug: $s) { id } }",
            json!({ "s": first }),
        )
        .await;
    let id = conduit::graphql::node::parse_global_id(
        article["data"]["article"]["id"].as_str().expect("id"),
    )
    .expect("global id")
    .1;
    let narrowed = attenuate(
        &app,
        &jake.token,
        &format!(r#"check if resource("article", {id});"#),
    );

    const UPDATE: &str = "mutation($s: String!) { updateArticle(input: { slug: $s, body: \"New body\" }) { article { body } } }";
    let allowed = app
        .graphql_as(&narrowed, UPDATE, json!({ "s": first }))
        .await;
    assert_eq!(
        allowed["data"]["updateArticle"]["article"]["body"], "New body",
        "{allowed}"
    );
    let refused = app
        .graphql_as(&narrowed, UPDATE, json!({ "s": second }))
        .await;
    assert_error(&refused, "FORBIDDEN");
}

#[tokio::test]
async fn an_appended_block_cannot_claim_another_identity() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let slug = app.create_article(&anne, "Anne's", &[], false).await;
    let anne_id = conduit::graphql::node::parse_global_id(&anne.id)
        .expect("global id")
        .1;
    let forged = attenuate(&app, &jake.token, &format!("user({anne_id});"));
    let body = app
        .graphql_as(
            &forged,
            "mutation($s: String!) { deleteArticle(input: { slug: $s }) { deletedArticleId } }",
            json!({ "s": slug }),
        )
        .await;
    assert_error(&body, "FORBIDDEN");
}

/// Sixty facts and a check joining them four ways with arithmetic: a block
/// any holder can append offline, which once ran for seconds at every
/// verification.
fn four_way_join() -> String {
    let mut code: String = (0..60).map(|i| format!("n({i});\n")).collect();
    code.push_str("check if n($a), n($b), n($c), n($d), $a * $b + $c * $d == 7919;\n");
    code
}

#[tokio::test]
async fn appended_blocks_over_their_bounds_are_refused_before_they_run() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let cases = [
        (four_way_join(), "60 facts"),
        (
            "r($a, $b, $c) <- n($a), n($b), n($c);".to_owned(),
            "3 predicates",
        ),
        (
            // Few facts, but a rule that joins them at every iteration.
            format!(
                "{}r($a, $b) <- n($a), n($b), $a * $b > 3;",
                (0..8).map(|i| format!("n({i});")).collect::<String>()
            ),
            "evaluations",
        ),
    ];
    for (code, named) in cases {
        let narrowed = attenuate(&app, &jake.token, &code);
        let body = app.graphql_as(&narrowed, VIEWER, json!({})).await;
        assert_error(&body, "UNAUTHENTICATED");
        let message = body["errors"][0]["message"].as_str().expect("message");
        assert!(message.contains(named), "{named}: {message}");
    }
    // A narrowing within the bounds is honoured as before.
    let read_only = attenuate(&app, &jake.token, "check if operation(\"read\");");
    let body = app.graphql_as(&read_only, VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["username"], "jake", "{body}");
}

#[tokio::test]
async fn verifying_a_new_token_is_charged_to_its_sender_and_a_refusal_is_remembered() {
    let app = TestApp::spawn_configured(|config| config.protection.rate_limit_points = 2).await;
    let stranger = TokenKeys::generate(Duration::from_secs(60), Default::default());
    let foreign: Vec<String> = (1..=3)
        .map(|id| stranger.mint(claims(id)).expect("mint"))
        .collect();
    // Each new token costs its sender's address a point of two.
    for token in &foreign[..2] {
        let response = app.post_graphql(Some(token), VIEWER, json!({})).await;
        assert_eq!(response.status(), 401);
    }
    let response = app.post_graphql(Some(&foreign[2]), VIEWER, json!({})).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_error(&body, "RATE_LIMITED");
    // A token refused before is refused again from memory, at no charge.
    let again = app.post_graphql(Some(&foreign[0]), VIEWER, json!({})).await;
    assert_eq!(again.status(), 401);
    let body: serde_json::Value = again.json().await.expect("JSON");
    assert_error(&body, "UNAUTHENTICATED");
}

#[tokio::test]
async fn tokens_named_for_revocation_are_charged_like_tokens_sent() {
    let base = TestApp::spawn_configured(|c| c.protection.rate_limit_enabled = false).await;
    let jake = base.register("jake").await;
    // The mutation costs 10 of 12 points; each new token to verify, one.
    let app = base
        .spawn_peer_configured(|c| {
            c.protection.rate_limit_enabled = true;
            c.protection.rate_limit_points = 12;
        })
        .await;
    let stranger = TokenKeys::generate(Duration::from_secs(60), Default::default());
    let tokens: Vec<String> = (1..=3)
        .map(|id| stranger.mint(claims(id)).expect("mint"))
        .collect();
    let response = app
        .post_graphql(
            Some(&jake.token),
            "mutation($a: String!, $b: String!, $c: String!) { a: revokeToken(input: { token: $a }) { revoked } b: revokeToken(input: { token: $b }) { revoked } c: revokeToken(input: { token: $c }) { revoked } }",
            json!({ "a": tokens[0], "b": tokens[1], "c": tokens[2] }),
        )
        .await;
    assert_eq!(response.status(), 429);
    let body: serde_json::Value = response.json().await.expect("JSON");
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| error["extensions"]["code"].as_str().expect("code"))
        .collect();
    // Two foreign tokens fit in what the mutation leaves; the third does not.
    // (Jake's own token is charged to his address, a budget of its own.)
    assert_eq!(
        codes,
        ["BAD_USER_INPUT", "BAD_USER_INPUT", "RATE_LIMITED"],
        "{body}"
    );
}
