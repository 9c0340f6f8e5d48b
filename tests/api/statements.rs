//! The home page: a fixed number of SQL statements whatever the page size, and
//! each card's author, tags and counts right.

use serde_json::json;

use conduit::cache::Generation;

use crate::helpers::{CREATE_ARTICLE, TestApp};

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
    // The process reads each tag's name once; names are known from here on.
    app.graphql_as(viewer, HOME, json!({ "n": 50 })).await;
    let mut costs = Vec::new();
    let mut pages = Vec::new();
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
        pages.push(body);
    }
    assert_eq!(
        costs[0], costs[1],
        "statements for 5 and 50 articles: {costs:?}"
    );
    // The page with the cards' relations (authors, tags and both counts), its
    // total count, the viewer's favorites and the viewer's follows.
    assert_eq!(costs[0], 4, "statements for the home page");

    // The same page from the cache: its relations are read apart, in one
    // statement, and show the same.
    let before = app.statements();
    let cached = app.graphql_as(viewer, HOME, json!({ "n": 50 })).await;
    let cost = app.statements() - before;
    assert_eq!(cached, pages[1], "the page read apart from its relations");
    if app.state.cache.keeps_values() {
        // The cards' relations, the viewer's favorites and follows.
        assert_eq!(cost, 3, "statements for the home page from the cache");
    }
}

#[tokio::test]
async fn each_card_of_a_list_shows_its_own_author_tags_and_counts() {
    let app = TestApp::spawn().await;
    let admin = app.admin("root").await;
    let jake = app.register("jake").await;
    let anne = app.register("anne").await;
    let carl = app.register("carl").await;
    let bare = app.create_article(&anne, "Bare", &[], false).await;
    let busy = app
        .create_article(&jake, "Busy", &["web", "rust", "async"], false)
        .await;
    for (user, slug) in [(&anne, &busy), (&carl, &busy), (&jake, &bare)] {
        app.graphql_as(
            &user.token,
            "mutation($s: String!) { favoriteArticle(input: { slug: $s }) { article { id } } }",
            json!({ "s": slug }),
        )
        .await;
    }
    let comment = "mutation($s: String!) { addComment(input: { articleSlug: $s, body: \"Hi\" }) { comment { id } } }";
    for user in [&anne, &carl, &carl] {
        app.graphql_as(&user.token, comment, json!({ "s": busy }))
            .await;
    }
    // A ban hides carl's comments from the counts.
    let banned = app
        .graphql_as(
            &admin.token,
            "mutation { banUser(input: { username: \"carl\" }) { banned } }",
            json!({}),
        )
        .await;
    assert_eq!(banned["data"]["banUser"]["banned"], true, "{banned}");

    let body = app
        .graphql(
            "{ articles(first: 10) { nodes { slug tags favoritesCount commentCount author { username } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["articles"]["nodes"],
        json!([
            { "slug": busy, "tags": ["async", "rust", "web"], "favoritesCount": 2, "commentCount": 1,
              "author": { "username": "jake" } },
            { "slug": bare, "tags": [], "favoritesCount": 1, "commentCount": 0,
              "author": { "username": "anne" } },
        ]),
        "{body}"
    );
}

#[tokio::test]
async fn each_tag_name_is_read_once_per_process() {
    let app = TestApp::spawn_configured(|c| c.cache_enabled = false).await;
    let jake = app.register("jake").await;
    app.create_article(&jake, "First", &["rust", "web"], false)
        .await;
    // Another process, on the same database, that has named no tag yet.
    let reader = app.spawn_peer().await;
    let list = "{ articles(first: 10) { nodes { title tags } } }";
    let cost = |before: u64| reader.statements() - before;

    // The page and its relations in one statement, then the two names.
    let before = reader.statements();
    let first = reader.graphql(list, json!({})).await;
    assert_eq!(
        first["data"]["articles"]["nodes"][0]["tags"],
        json!(["rust", "web"]),
        "{first}"
    );
    assert_eq!(cost(before), 2, "the first page and its tag names");
    let before = reader.statements();
    assert_eq!(reader.graphql(list, json!({})).await, first);
    assert_eq!(cost(before), 1, "the names were read again");

    // A new tag is read once, beside those already known.
    app.create_article(&jake, "Second", &["async", "rust"], false)
        .await;
    let before = reader.statements();
    let second = reader.graphql(list, json!({})).await;
    assert_eq!(
        second["data"]["articles"]["nodes"][0]["tags"],
        json!(["async", "rust"]),
        "{second}"
    );
    assert_eq!(cost(before), 2);
    let before = reader.statements();
    reader.graphql(list, json!({})).await;
    assert_eq!(cost(before), 1);
}

#[tokio::test]
async fn the_longest_tag_names_come_back_whole_in_a_list() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    // Ten names of 32 three-byte characters: 969 bytes joined.
    let mut names: Vec<String> = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
        .iter()
        .map(|c| c.repeat(32))
        .collect();
    let tags: Vec<&str> = names.iter().map(String::as_str).collect();
    app.create_article(&jake, "Numbers", &tags, false).await;
    let body = app
        .graphql("{ articles(first: 1) { nodes { tags } } }", json!({}))
        .await;
    let mut listed: Vec<String> =
        serde_json::from_value(body["data"]["articles"]["nodes"][0]["tags"].clone())
            .unwrap_or_else(|_| panic!("tags: {body}"));
    // Collations order these characters differently; every name must be whole.
    listed.sort();
    names.sort();
    assert_eq!(listed, names);
}

#[tokio::test]
async fn mysql_sessions_have_room_for_the_longest_list_of_tag_names() {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
    let app = TestApp::spawn().await;
    if app.state.db.get_database_backend() != DatabaseBackend::MySql {
        return;
    }
    // Ten names of 32 four-byte characters joined by commas: 1,289 bytes.
    let row = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::MySql,
            "SELECT CAST(@@SESSION.group_concat_max_len AS SIGNED) AS n",
        ))
        .await
        .expect("the query runs")
        .expect("one row");
    let limit: i64 = row.try_get("", "n").expect("a number");
    // Exactly what each new connection sets: MariaDB's own default is larger,
    // MySQL's (1,024) too small.
    assert_eq!(limit, 65536, "group_concat_max_len");
}

#[tokio::test]
async fn a_list_that_shows_bodies_gets_them_after_one_that_left_them_out() {
    let app = TestApp::spawn().await;
    let author = app.register("writer").await;
    for n in 0..3 {
        let body = app
            .graphql_as(
                &author.token,
                CREATE_ARTICLE,
                json!({ "input": { "title": format!("Story {n}"), "description": "About it",
                                   "body": format!("Body number {n}."), "tags": [] } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    app.state.cache.invalidate(&[Generation::all_lists()]).await;
    let cost = |query: &'static str| {
        let app = &app;
        async move {
            let before = app.statements();
            let body = app.graphql(query, json!({})).await;
            assert!(body["errors"].is_null(), "{body}");
            (body, app.statements() - before)
        }
    };

    // Cards first: their page (cached without bodies) must not answer a
    // selection that shows bodies.
    let (cards, cards_cost) = cost("{ articles(first: 10) { edges { node { slug } } } }").await;
    assert_eq!(
        cards["data"]["articles"]["edges"].as_array().map(Vec::len),
        Some(3)
    );
    let (full, full_cost) = cost("{ articles(first: 10) { nodes { slug body } } }").await;
    let bodies: Vec<&str> = full["data"]["articles"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|node| node["body"].as_str())
        .collect();
    assert_eq!(
        bodies,
        ["Body number 2.", "Body number 1.", "Body number 0."]
    );
    assert_eq!(
        (cards_cost, full_cost),
        (1, 1),
        "each list is one statement, its bodies read with it or not at all"
    );
    let (edges, _) = cost("{ articles(first: 10) { edges { node { body } } } }").await;
    assert_eq!(
        edges["data"]["articles"]["edges"][0]["node"]["body"],
        "Body number 2."
    );
}
