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

/// Slugs of `list` (an `articles` connection with `nodes { slug }` and
/// `pageInfo { endCursor hasNextPage }`) paged through `first: 2` at a time.
async fn every_slug(app: &TestApp, token: &str, filter: &str) -> Vec<String> {
    let mut slugs = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = data(
            app.graphql_as(
                token,
                &format!(
                    "query($after: String) {{ articles(first: 2, after: $after{filter}) {{
                       totalCount nodes {{ slug }} pageInfo {{ endCursor hasNextPage }} }} }}"
                ),
                json!({ "after": after }),
            )
            .await,
        );
        let list = &page["articles"];
        for node in list["nodes"].as_array().expect("nodes") {
            slugs.push(node["slug"].as_str().expect("slug").to_owned());
        }
        if list["pageInfo"]["hasNextPage"] != true {
            return slugs;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn a_tags_list_read_through_its_links_follows_publishing_and_retagging() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let mut slugs = Vec::new();
    for n in 0..7 {
        let tags: &[&str] = if n % 2 == 0 { &["t", "u"] } else { &["u"] };
        slugs.push(
            app.create_article(&ann, &format!("Story {n}"), tags, n == 5)
                .await,
        );
    }
    let change = |mutation: &str, slug: &str| {
        let document = format!(
            "mutation($slug: String!) {{ {mutation}(input: {{ slug: $slug }}) {{ article {{ id }} }} }}"
        );
        let slug = slug.to_owned();
        let app = &app;
        let token = ann.token.clone();
        async move {
            data(
                app.graphql_as(&token, &document, json!({ "slug": slug }))
                    .await,
            )
        }
    };
    // A draft published, a published article turned back into a draft, and
    // one retagged: the links follow each.
    change("publishArticle", &slugs[5]).await;
    change("unpublishArticle", &slugs[2]).await;
    let retag = "mutation($slug: String!) { updateArticle(input: { slug: $slug, tags: [\"t\"] }) { article { id } } }";
    data(
        app.graphql_as(&ann.token, retag, json!({ "slug": slugs[3] }))
            .await,
    );

    let everything = data(
        app.graphql(
            "{ articles(first: 100) { nodes { slug tags } } }",
            json!({}),
        )
        .await,
    );
    for tag in ["t", "u"] {
        let expected: Vec<String> = everything["articles"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .filter(|node| {
                node["tags"]
                    .as_array()
                    .expect("tags")
                    .iter()
                    .any(|t| t == tag)
            })
            .map(|node| node["slug"].as_str().expect("slug").to_owned())
            .collect();
        let filter = format!(", filter: {{ tag: \"{tag}\" }}");
        assert_eq!(
            every_slug(&app, &ann.token, &filter).await,
            expected,
            "tag {tag}"
        );
    }
    // The viewer's drafts under a tag: the one unpublished, not the published.
    let drafts = every_slug(&app, &ann.token, ", filter: { tag: \"t\", status: DRAFT }").await;
    assert_eq!(drafts, [slugs[2].clone()]);
}
