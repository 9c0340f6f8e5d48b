//! Nested connections read for every parent of a level at once answer what
//! each parent's connection answers when it is read alone: the same items,
//! cursors, page info and total count, for every way of paging.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

const ADD_COMMENT: &str = "mutation($slug: String!, $body: String!) {
  addComment(input: { articleSlug: $slug, body: $body }) { comment { id } }
}";

const FAVORITE: &str =
    "mutation($slug: String!) { favoriteArticle(input: { slug: $slug }) { article { id } } }";

/// The fields every page is compared on.
const PAGE: &str = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id } }";

/// Arguments of the pages compared; `$after` and `$before` name a cursor
/// from the middle of each list, so the same values fit every parent.
const ARGUMENTS: [&str; 4] = [
    "first: 2",
    "last: 2",
    "first: 3, orderBy: { direction: DESC }",
    "last: 1, orderBy: { direction: DESC }",
];

/// Three authors with four articles each, each article with a few comments
/// and favorites: every nested list has more items than one page.
async fn seed(app: &TestApp) -> Vec<(String, TestUser)> {
    let mut users = Vec::new();
    for name in ["ann", "bob", "cat"] {
        users.push((name.to_owned(), app.register(name).await));
    }
    for round in 0..4 {
        for (name, user) in &users {
            let slug = app
                .create_article(user, &format!("{name} {round}"), &["t"], false)
                .await;
            for (commenter, (_, other)) in users.iter().enumerate() {
                if (commenter + round) % 3 != 2 {
                    let body = format!("{name} {round} by {commenter}");
                    let answer = app
                        .graphql_as(
                            &other.token,
                            ADD_COMMENT,
                            json!({ "slug": slug, "body": body }),
                        )
                        .await;
                    assert!(answer["errors"].is_null(), "{answer}");
                }
            }
            for (_, other) in users.iter().skip(round % 2) {
                let answer = app
                    .graphql_as(&other.token, FAVORITE, json!({ "slug": slug }))
                    .await;
                assert!(answer["errors"].is_null(), "{answer}");
            }
        }
    }
    users
}

fn data(answer: Value) -> Value {
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"].clone()
}

#[tokio::test]
async fn each_articles_comments_read_together_equal_the_comments_read_alone() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    for arguments in ARGUMENTS {
        let together = data(
            app.graphql(
                &format!("{{ articles(first: 50) {{ nodes {{ slug comments({arguments}) {{ {PAGE} }} }} }} }}"),
                json!({}),
            )
            .await,
        );
        let nodes = together["articles"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), 12);
        for node in nodes {
            let alone = data(
                app.graphql(
                    &format!("query($slug: String!) {{ article(slug: $slug) {{ comments({arguments}) {{ {PAGE} }} }} }}"),
                    json!({ "slug": node["slug"] }),
                )
                .await,
            );
            assert_eq!(
                node["comments"], alone["article"]["comments"],
                "{arguments}"
            );
        }
    }
}

#[tokio::test]
async fn each_authors_lists_read_together_equal_the_lists_read_alone() {
    let app = TestApp::spawn().await;
    let users = seed(&app).await;
    let lists = |arguments: &str| {
        format!(
            "articles({arguments}) {{ {PAGE} }} favoriteArticles({}) {{ {PAGE} }}",
            arguments.split(", orderBy").next().unwrap_or(arguments)
        )
    };
    for arguments in ARGUMENTS {
        for (_, viewer) in &users {
            let together = data(
                app.graphql_as(
                    &viewer.token,
                    &format!(
                        "{{ articles(first: 50) {{ nodes {{ author {{ username {} }} }} }} }}",
                        lists(arguments)
                    ),
                    json!({}),
                )
                .await,
            );
            let nodes = together["articles"]["nodes"].as_array().expect("nodes");
            for node in nodes {
                let author = &node["author"];
                let alone = data(
                    app.graphql_as(
                        &viewer.token,
                        &format!(
                            "query($u: String!) {{ user(username: $u) {{ username {} }} }}",
                            lists(arguments)
                        ),
                        json!({ "u": author["username"] }),
                    )
                    .await,
                );
                assert_eq!(author, &alone["user"], "{arguments}");
            }
        }
    }
}

#[tokio::test]
async fn a_page_after_a_cursor_is_the_same_read_together_or_alone() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let first = data(
        app.graphql("{ articles(first: 50) { nodes { slug comments(first: 1) { pageInfo { endCursor } } } } }", json!({}))
            .await,
    );
    for node in first["articles"]["nodes"].as_array().expect("nodes") {
        let cursor = &node["comments"]["pageInfo"]["endCursor"];
        if cursor.is_null() {
            continue;
        }
        let together = data(
            app.graphql(
                &format!(
                    "query($c: String!) {{ articles(first: 50) {{ nodes {{ slug comments(first: 2, after: $c) {{ {PAGE} }} }} }} }}"
                ),
                json!({ "c": cursor }),
            )
            .await,
        );
        let alone = data(
            app.graphql(
                &format!(
                    "query($c: String!, $slug: String!) {{ article(slug: $slug) {{ comments(first: 2, after: $c) {{ {PAGE} }} }} }}"
                ),
                json!({ "c": cursor, "slug": node["slug"] }),
            )
            .await,
        );
        let mine = together["articles"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .find(|other| other["slug"] == node["slug"])
            .expect("the same article");
        assert_eq!(mine["comments"], alone["article"]["comments"]);
    }
}
