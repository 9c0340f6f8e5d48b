//! Drafts are visible to their author only, through every path.

use serde_json::json;

use crate::helpers::{TestApp, assert_error, error_codes};

const ARTICLE: &str = "query($s: String!) { article(slug: $s) { id slug status publishedAt } }";
const PUBLISH: &str = "mutation($s: String!) { publishArticle(input: { slug: $s }) { article { status publishedAt } } }";

#[tokio::test]
async fn a_draft_is_hidden_from_everyone_but_its_author_on_every_path() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let slug = app
        .create_article(&jake, "Secret plans", &["secret"], true)
        .await;

    let own = app
        .graphql_as(&jake.token, ARTICLE, json!({ "s": slug }))
        .await;
    assert_eq!(own["data"]["article"]["status"], "DRAFT", "{own}");
    assert!(own["data"]["article"]["publishedAt"].is_null());
    let id = own["data"]["article"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    for token in [None, Some(anne.token.as_str())] {
        let read = |query: &'static str, vars| {
            let app = &app;
            async move {
                match token {
                    Some(t) => app.graphql_as(t, query, vars).await,
                    None => app.graphql(query, vars).await,
                }
            }
        };
        assert!(read(ARTICLE, json!({ "s": slug })).await["data"]["article"].is_null());
        let node = read(
            "query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }",
            json!({ "id": id }),
        )
        .await;
        assert!(node["data"]["node"].is_null(), "{node}");
        assert_eq!(node["data"]["nodes"], json!([null]));
        let lists = read(
            "{ articles { totalCount }
               user(username: \"jake\") { articles { totalCount } }
               tags { name } }",
            json!({}),
        )
        .await;
        assert_eq!(lists["data"]["articles"]["totalCount"], 0, "{lists}");
        assert_eq!(lists["data"]["user"]["articles"]["totalCount"], 0);
        assert_eq!(lists["data"]["tags"], json!([]));
        let drafts = read(
            "{ drafts: articles(filter: { status: DRAFT }) { totalCount }
               user(username: \"jake\") { drafts: articles(status: DRAFT) { totalCount } } }",
            json!({}),
        )
        .await;
        if token.is_some() {
            assert_eq!(drafts["data"]["drafts"]["totalCount"], 0, "{drafts}");
            assert_eq!(drafts["data"]["user"]["drafts"]["totalCount"], 0);
        } else {
            // Drafts need a token; `articles` is non-null, so data is null.
            assert_eq!(
                error_codes(&drafts),
                ["UNAUTHENTICATED", "UNAUTHENTICATED"],
                "{drafts}"
            );
            assert!(drafts["data"].is_null(), "{drafts}");
        }
    }

    let favorite = app
        .graphql_as(
            &anne.token,
            "mutation($s: String!) { favoriteArticle(input: { slug: $s }) { article { id } } }",
            json!({ "s": slug }),
        )
        .await;
    assert_error(&favorite, "NOT_FOUND");
    let comment = app
        .graphql_as(&anne.token, "mutation($s: String!) { addComment(input: { articleSlug: $s, body: \"hi\" }) { comment { id } } }", json!({ "s": slug }))
        .await;
    assert_error(&comment, "NOT_FOUND");
    assert_error(
        &app.graphql_as(&anne.token, PUBLISH, json!({ "s": slug }))
            .await,
        "NOT_FOUND",
    );

    // The author sees it in their own drafts list.
    let drafts = app
        .graphql_as(
            &jake.token,
            "{ articles(filter: { status: DRAFT }) { nodes { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        drafts["data"]["articles"]["nodes"],
        json!([{ "slug": slug }])
    );
}

#[tokio::test]
async fn publishing_a_draft_makes_it_visible_to_everyone() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let slug = app.create_article(&jake, "Soon", &[], true).await;
    app.graphql_as(
        &anne.token,
        "mutation { followUser(input: { username: \"jake\" }) { user { username } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        app.graphql_as(&anne.token, "{ feed { totalCount } }", json!({}))
            .await["data"]["feed"]["totalCount"],
        0
    );

    let published = app
        .graphql_as(&jake.token, PUBLISH, json!({ "s": slug }))
        .await;
    assert_eq!(
        published["data"]["publishArticle"]["article"]["status"], "PUBLISHED",
        "{published}"
    );
    assert!(published["data"]["publishArticle"]["article"]["publishedAt"].is_string());

    assert_eq!(
        app.graphql(ARTICLE, json!({ "s": slug })).await["data"]["article"]["slug"],
        slug.as_str()
    );
    assert_eq!(
        app.graphql_as(&anne.token, "{ feed { totalCount } }", json!({}))
            .await["data"]["feed"]["totalCount"],
        1
    );
    assert_error(
        &app.graphql(PUBLISH, json!({ "s": slug })).await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn a_slug_does_not_tell_whether_someone_else_has_a_draft_of_that_title() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let draft = app.create_article(&jake, "Secret Plan", &[], true).await;
    assert!(
        draft.starts_with("secret-plan-") && draft.len() > "secret-plan-".len(),
        "a draft's slug has a suffix of its own: {draft}"
    );
    // Anne publishing the same title gets the bare slug, as if no draft existed.
    let published = app.create_article(&anne, "Secret Plan", &[], false).await;
    assert_eq!(published, "secret-plan");
    // And her draft of it a suffix that does not depend on Jake's.
    let hers = app.create_article(&anne, "Secret Plan", &[], true).await;
    assert_ne!(hers, draft);
    assert!(hers.starts_with("secret-plan-"), "{hers}");
}
