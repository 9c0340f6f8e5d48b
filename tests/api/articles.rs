//! Articles: create, read, update, delete, favorites, filters and tags.

use serde_json::{Value, json};

use crate::helpers::{CREATE_ARTICLE, TestApp, assert_error};

const ARTICLE: &str = "query($slug: String!) { article(slug: $slug) { slug title description body tags status favoritesCount viewerHasFavorited commentCount author { username } } }";
const UPDATE: &str = "mutation($input: UpdateArticleInput!) { updateArticle(input: $input) { article { slug title description body tags } } }";
const DELETE: &str =
    "mutation($slug: String!) { deleteArticle(input: { slug: $slug }) { deletedArticleId } }";
const FAVORITE: &str = "mutation($slug: String!) { favoriteArticle(input: { slug: $slug }) { article { favoritesCount viewerHasFavorited } } }";
const UNFAVORITE: &str = "mutation($slug: String!) { unfavoriteArticle(input: { slug: $slug }) { article { favoritesCount viewerHasFavorited } } }";
const LIST: &str = "query($filter: ArticleFilterInput) { articles(first: 20, filter: $filter) { totalCount nodes { slug } } }";
const TAGS: &str = "{ tags { name articleCount } }";

fn slugs(body: &Value) -> Vec<String> {
    body["data"]["articles"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no list: {body}"))
        .iter()
        .map(|n| n["slug"].as_str().expect("slug").to_owned())
        .collect()
}

#[tokio::test]
async fn create_article_publishes_with_tags_and_a_slug_from_the_title() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let body = app
        .graphql_as(
            &jake.token,
            CREATE_ARTICLE,
            json!({ "input": { "title": "How to Train Your Dragon", "description": "Ever wonder how?", "body": "Very carefully.", "tags": ["dragons", " training ", "dragons"] } }),
        )
        .await;
    let article = &body["data"]["createArticle"]["article"];
    assert_eq!(article["slug"], "how-to-train-your-dragon", "{body}");
    assert_eq!(article["status"], "PUBLISHED");
    assert_eq!(article["tags"], json!(["dragons", "training"]));
    assert_eq!(article["author"]["username"], "jake");

    let read = app
        .graphql(ARTICLE, json!({ "slug": "how-to-train-your-dragon" }))
        .await;
    assert_eq!(read["data"]["article"]["body"], "Very carefully.");
    assert_eq!(read["data"]["article"]["favoritesCount"], 0);
    assert_eq!(read["data"]["article"]["viewerHasFavorited"], false);
}

#[tokio::test]
async fn the_same_title_twice_gets_two_different_slugs() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let first = app.create_article(&jake, "Same Title", &[], false).await;
    let second = app.create_article(&jake, "Same Title", &[], false).await;
    assert_eq!(first, "same-title");
    assert_ne!(first, second);
    assert!(second.starts_with("same-title-"), "{second}");
}

#[tokio::test]
async fn create_article_needs_a_token_and_reports_every_invalid_field() {
    let app = TestApp::spawn().await;
    let input =
        json!({ "input": { "title": " ", "description": "", "body": "b", "tags": ["a,b"] } });
    assert_error(
        &app.graphql(CREATE_ARTICLE, input.clone()).await,
        "UNAUTHENTICATED",
    );

    let jake = app.register("jake").await;
    let body = app.graphql_as(&jake.token, CREATE_ARTICLE, input).await;
    assert_error(&body, "BAD_USER_INPUT");
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["title", "description", "tags"]);
    assert_eq!(
        app.graphql(LIST, json!({})).await["data"]["articles"]["totalCount"],
        0
    );
}

#[tokio::test]
async fn the_author_updates_an_article_and_a_new_title_moves_the_slug() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let slug = app
        .create_article(&jake, "Old Title", &["a", "b"], false)
        .await;
    let body = app
        .graphql_as(
            &jake.token,
            UPDATE,
            json!({ "input": { "slug": slug, "title": "New Title", "tags": ["c"] } }),
        )
        .await;
    let article = &body["data"]["updateArticle"]["article"];
    assert_eq!(article["slug"], "new-title", "{body}");
    assert_eq!(article["description"], "About it");
    assert_eq!(article["tags"], json!(["c"]));
    assert!(
        app.graphql(ARTICLE, json!({ "slug": "old-title" })).await["data"]["article"].is_null()
    );
    let tags = app.graphql(TAGS, json!({})).await;
    assert_eq!(
        tags["data"]["tags"],
        json!([{ "name": "c", "articleCount": 1 }])
    );
}

#[tokio::test]
async fn nobody_else_may_update_or_delete_an_article() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let slug = app.create_article(&jake, "Mine", &[], false).await;

    let update = app
        .graphql_as(
            &anne.token,
            UPDATE,
            json!({ "input": { "slug": slug, "body": "hijacked" } }),
        )
        .await;
    assert_error(&update, "FORBIDDEN");
    let delete = app
        .graphql_as(&anne.token, DELETE, json!({ "slug": slug }))
        .await;
    assert_error(&delete, "FORBIDDEN");
    let anonymous = app.graphql(DELETE, json!({ "slug": slug })).await;
    assert_error(&anonymous, "UNAUTHENTICATED");

    let still = app.graphql(ARTICLE, json!({ "slug": slug })).await;
    assert_eq!(still["data"]["article"]["body"], "The text.");
}

#[tokio::test]
async fn an_unknown_slug_is_null_to_read_and_not_found_to_change() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let read = app.graphql(ARTICLE, json!({ "slug": "missing" })).await;
    assert!(read["data"]["article"].is_null());
    assert!(read["errors"].is_null());
    assert_error(
        &app.graphql_as(
            &jake.token,
            UPDATE,
            json!({ "input": { "slug": "missing", "body": "x" } }),
        )
        .await,
        "NOT_FOUND",
    );
    assert_error(
        &app.graphql_as(&jake.token, DELETE, json!({ "slug": "missing" }))
            .await,
        "NOT_FOUND",
    );
    assert_error(
        &app.graphql_as(&jake.token, FAVORITE, json!({ "slug": "missing" }))
            .await,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn update_article_reports_invalid_fields() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let slug = app.create_article(&jake, "Title", &[], false).await;
    let body = app
        .graphql_as(
            &jake.token,
            UPDATE,
            json!({ "input": { "slug": slug, "title": "", "body": "" } }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn deleting_an_article_removes_its_comments_favorites_and_tag_links() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let slug = app.create_article(&jake, "Doomed", &["gone"], false).await;
    app.graphql_as(&anne.token, FAVORITE, json!({ "slug": slug }))
        .await;
    let comment = app
        .graphql_as(
            &anne.token,
            "mutation($s: String!) { addComment(input: { articleSlug: $s, body: \"Nice\" }) { comment { id } } }",
            json!({ "s": slug }),
        )
        .await;
    let comment_id = comment["data"]["addComment"]["comment"]["id"]
        .as_str()
        .expect("comment id")
        .to_owned();

    let body = app
        .graphql_as(&jake.token, DELETE, json!({ "slug": slug }))
        .await;
    assert!(
        body["data"]["deleteArticle"]["deletedArticleId"].is_string(),
        "{body}"
    );

    assert!(app.graphql(ARTICLE, json!({ "slug": slug })).await["data"]["article"].is_null());
    assert_eq!(
        app.graphql(TAGS, json!({})).await["data"]["tags"],
        json!([])
    );
    let node = app
        .graphql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": comment_id }),
        )
        .await;
    assert!(node["data"]["node"].is_null());
    let favorites = app
        .graphql(
            "{ user(username: \"anne\") { favoriteArticles(first: 5) { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        favorites["data"]["user"]["favoriteArticles"]["totalCount"],
        0
    );
}

#[tokio::test]
async fn favorites_count_once_per_user_and_can_be_taken_back() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let slug = app.create_article(&jake, "Likeable", &[], false).await;

    let first = app
        .graphql_as(&anne.token, FAVORITE, json!({ "slug": slug }))
        .await;
    assert_eq!(
        first["data"]["favoriteArticle"]["article"],
        json!({ "favoritesCount": 1, "viewerHasFavorited": true }),
        "{first}"
    );
    let again = app
        .graphql_as(&anne.token, FAVORITE, json!({ "slug": slug }))
        .await;
    assert_eq!(
        again["data"]["favoriteArticle"]["article"]["favoritesCount"],
        1
    );
    let by_jake = app
        .graphql_as(&jake.token, FAVORITE, json!({ "slug": slug }))
        .await;
    assert_eq!(
        by_jake["data"]["favoriteArticle"]["article"]["favoritesCount"],
        2
    );

    let seen_by_jake = app
        .graphql_as(&jake.token, ARTICLE, json!({ "slug": slug }))
        .await;
    assert_eq!(seen_by_jake["data"]["article"]["viewerHasFavorited"], true);
    let anonymous = app.graphql(ARTICLE, json!({ "slug": slug })).await;
    assert_eq!(anonymous["data"]["article"]["viewerHasFavorited"], false);

    let undone = app
        .graphql_as(&anne.token, UNFAVORITE, json!({ "slug": slug }))
        .await;
    assert_eq!(
        undone["data"]["unfavoriteArticle"]["article"],
        json!({ "favoritesCount": 1, "viewerHasFavorited": false })
    );
    assert_error(
        &app.graphql(FAVORITE, json!({ "slug": slug })).await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn articles_filter_by_tag_author_and_who_favorited_them() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let rust = app.create_article(&jake, "Rust", &["rust"], false).await;
    let go = app.create_article(&anne, "Go", &["go"], false).await;
    let both = app
        .create_article(&anne, "Both", &["rust", "go"], false)
        .await;
    app.graphql_as(&jake.token, FAVORITE, json!({ "slug": go }))
        .await;

    let all = app.graphql(LIST, json!({})).await;
    assert_eq!(slugs(&all), [both.clone(), go.clone(), rust.clone()]);
    assert_eq!(all["data"]["articles"]["totalCount"], 3);

    let tagged = app
        .graphql(LIST, json!({ "filter": { "tag": "rust" } }))
        .await;
    assert_eq!(slugs(&tagged), [both.clone(), rust.clone()]);
    assert_eq!(tagged["data"]["articles"]["totalCount"], 2);

    let by_anne = app
        .graphql(LIST, json!({ "filter": { "author": "anne" } }))
        .await;
    assert_eq!(slugs(&by_anne), [both.clone(), go.clone()]);

    let favorited = app
        .graphql(LIST, json!({ "filter": { "favoritedBy": "jake" } }))
        .await;
    assert_eq!(slugs(&favorited), std::slice::from_ref(&go));

    let combined = app
        .graphql(
            LIST,
            json!({ "filter": { "tag": "rust", "author": "anne" } }),
        )
        .await;
    assert_eq!(slugs(&combined), [both]);

    let nobody = app
        .graphql(LIST, json!({ "filter": { "author": "ghost" } }))
        .await;
    assert_eq!(nobody["data"]["articles"]["totalCount"], 0);

    let oldest_first = app
        .graphql(
            "{ articles(orderBy: { direction: ASC }) { nodes { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(slugs(&oldest_first).first(), Some(&rust));
}

#[tokio::test]
async fn popular_tags_count_published_articles_most_used_first() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    app.create_article(&jake, "One", &["rust", "web"], false)
        .await;
    app.create_article(&jake, "Two", &["rust"], false).await;
    app.create_article(&jake, "Draft", &["rust", "secret"], true)
        .await;
    let body = app.graphql(TAGS, json!({})).await;
    assert_eq!(
        body["data"]["tags"],
        json!([{ "name": "rust", "articleCount": 2 }, { "name": "web", "articleCount": 1 }])
    );
    let limited = app.graphql("{ tags(first: 1) { name } }", json!({})).await;
    assert_eq!(limited["data"]["tags"], json!([{ "name": "rust" }]));
    assert_error(
        &app.graphql("{ tags(first: 0) { name } }", json!({})).await,
        "BAD_USER_INPUT",
    );
}
