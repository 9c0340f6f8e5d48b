//! The home page runs a fixed number of SQL statements whatever the page size.

use serde_json::json;

use conduit::cache::Generation;

use crate::helpers::TestApp;

const HOME: &str = "query($n: Int!) {
  articles(first: $n) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { slug title description createdAt tags favoritesCount viewerHasFavorited commentCount
                   author { username image viewerIsFollowing } } }
  }
}";

#[tokio::test]
async fn the_home_page_costs_the_same_statements_for_5_and_50_articles() {
    let app = TestApp::spawn().await;
    let mut users = Vec::new();
    for name in ["jake", "anne", "carl"] {
        users.push(app.register(name).await);
    }
    for n in 0..50 {
        let author = &users[n % users.len()];
        let slug = app
            .create_article(
                author,
                &format!("Article {n}"),
                &["tag-a", &format!("t{}", n % 7)],
                false,
            )
            .await;
        if n % 3 == 0 {
            app.graphql_as(
                &users[0].token,
                "mutation($s: String!) { favoriteArticle(input: { slug: $s }) { article { id } } }",
                json!({ "s": slug }),
            )
            .await;
        }
    }
    let viewer = &users[1].token;
    let mut costs = Vec::new();
    for n in [5, 50] {
        // Measure with a cold cache: drop every cached list first.
        app.state.cache.invalidate(&[Generation::all_lists()]).await;
        let before = app.statements();
        let body = app.graphql_as(viewer, HOME, json!({ "n": n })).await;
        let after = app.statements();
        assert!(body["errors"].is_null(), "{body}");
        assert_eq!(
            body["data"]["articles"]["edges"].as_array().map(Vec::len),
            Some(n)
        );
        costs.push(after - before);
    }
    assert_eq!(
        costs[0], costs[1],
        "statements for 5 and 50 articles: {costs:?}"
    );
    assert!(costs[0] <= 8, "the home page ran {} statements", costs[0]);
    assert!(
        costs[0] >= 6,
        "the counter saw only {} statements; is it wired?",
        costs[0]
    );
}
