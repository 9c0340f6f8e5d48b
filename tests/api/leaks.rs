//! Private fields and drafts stay private through aliases, fragments, `node`,
//! nested lists and counts; tokens built to exhaust the authorizer are refused.

use biscuit_auth::{Algorithm, Biscuit, BlockBuilder, PrivateKey};
use serde_json::json;

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn emails_do_not_leak_through_aliases_fragments_or_nested_objects() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    app.create_article(&jake, "Post", &[], false).await;
    let body = app
        .graphql_as(
            &anne.token,
            "fragment Private on User { secret: email }
             { a: user(username: \"jake\") { ...Private }
               articles { nodes { author { ... on User { email } } } edges { node { author { ...Private } } } }
               n: node(id: $ID) { ... on User { email } } }"
                .replace("$ID", &format!("\"{}\"", jake.id))
                .as_str(),
            json!({}),
        )
        .await;
    let text = body.to_string();
    assert!(
        !text.contains("jake@example.org"),
        "an email leaked: {text}"
    );
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["extensions"]["code"].as_str().expect("code"))
        .collect();
    assert!(
        codes.len() >= 4 && codes.iter().all(|c| *c == "FORBIDDEN"),
        "{body}"
    );
}

#[tokio::test]
async fn drafts_do_not_leak_through_counts_comments_or_favorites() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    app.create_article(&jake, "Public", &["shared"], false)
        .await;
    app.create_article(&jake, "Secret", &["shared", "hidden"], true)
        .await;
    let body = app
        .graphql_as(
            &anne.token,
            "{ articles { totalCount } tagged: articles(filter: { tag: \"hidden\" }) { totalCount nodes { title } }
               user(username: \"jake\") { articles { totalCount nodes { title } } favoriteArticles { totalCount } }
               tags { name articleCount } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(!body.to_string().contains("Secret"), "{body}");
    assert_eq!(body["data"]["articles"]["totalCount"], 1);
    assert_eq!(body["data"]["tagged"]["totalCount"], 0);
    assert_eq!(body["data"]["user"]["articles"]["totalCount"], 1);
    assert_eq!(
        body["data"]["tags"],
        json!([{ "name": "shared", "articleCount": 1 }])
    );
}

#[tokio::test]
async fn a_token_crafted_to_exhaust_the_authorizer_is_refused_cleanly() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let public = PrivateKey::from_bytes_hex(&app.tokens.private_key_hex(), Algorithm::Ed25519)
        .expect("key")
        .public();
    // 60 facts and a rule joining them with themselves: 3,600 derived facts.
    let mut facts: String = (0..60).map(|i| format!("seed({i});\n")).collect();
    facts.push_str("pair($x, $y) <- seed($x), seed($y);\n");
    let heavy = Biscuit::from_base64(&jake.token, public)
        .expect("parse")
        .append(BlockBuilder::new().code(facts).expect("block"))
        .expect("append")
        .to_base64()
        .expect("encode");
    let body = app
        .graphql_as(&heavy, "{ viewer { email } }", json!({}))
        .await;
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .expect("an error");
    assert!(code == "FORBIDDEN" || code == "UNAUTHENTICATED", "{body}");
    assert!(!body.to_string().contains("jake@example.org"));
    // The server is fine afterwards.
    let fine = app
        .graphql_as(&jake.token, "{ viewer { email } }", json!({}))
        .await;
    assert_eq!(fine["data"]["viewer"]["email"], "jake@example.org");
    assert_error(&app.graphql_as(&heavy, "mutation { createArticle(input: { title: \"t\", description: \"d\", body: \"b\" }) { article { id } } }", json!({})).await, code);
}
