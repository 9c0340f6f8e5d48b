//! Statement bounds: random documents over the whole schema (lists nested up
//! to five deep, named and inline fragments, one connection under two aliases
//! with different arguments, every page size the variable `$n`) run on a
//! seeded database, anonymously and signed in. Each must answer without
//! errors, cost the same SQL statements with `n = 1` as with `n = 50`, and
//! cost no more statements than it has list and relation fields.
//!
//! A document's *list and relation fields* are its distinct field positions
//! whose type is an object, an interface or a list (`schema.graphql` says
//! which), or that relate the viewer to an object (`viewerHasFavorited`,
//! `viewerIsFollowing`: favorites and follows are relations too): fields with the same response key at the same place merge into one
//! (under an interface, one per type condition they sit under), and a field
//! inside a fragment counts once per place the fragment is spread. The count
//! is made from the document's text and the schema, apart from the generator.
//!
//! Documents come from a seeded generator. The seed is printed, and
//! `STATEMENT_BOUNDS_SEED=<seed>` makes the same documents again;
//! `STATEMENT_BOUNDS_DOCUMENTS` sets how many (40 by default).

use std::collections::HashMap;

use async_graphql::parser::parse_query;
use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{
    BaseType, ExecutableDocument, Selection, SelectionSet, TypeKind, TypeSystemDefinition,
};
use conduit::config::Config;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// The schema the server serves (a test keeps it equal to `conduit schema`).
const SCHEMA: &str = include_str!("../../schema.graphql");

const CREATE_ARTICLE: &str = "mutation($input: CreateArticleInput!) {
  createArticle(input: $input) { article { id slug } }
}";

const ADD_COMMENT: &str = "mutation($slug: String!, $body: String!) {
  addComment(input: { articleSlug: $slug, body: $body }) { comment { id } }
}";

const FAVORITE: &str =
    "mutation($slug: String!) { favoriteArticle(input: { slug: $slug }) { article { id } } }";

const FOLLOW: &str =
    "mutation($username: String!) { followUser(input: { username: $username }) { user { id } } }";

/// Every article with its tags: names every tag, which the process then knows.
const EVERY_TAG: &str = "{ articles(first: 100) { nodes { tags } } }";

/// What a request costs before it reads anything.
const TYPENAME: &str = "{ __typename }";

/// The users of the seeded database; the first is the one signed in.
const USERS: [&str; 6] = ["ann", "bob", "cat", "dan", "eve", "fay"];

/// Tags of the seeded articles.
const TAGS: [&str; 5] = ["rust", "web", "async", "db", "ops"];

/// Seeded articles: five by each user.
const ARTICLES: usize = 30;

/// Most relation fields (lists or objects one level further down) nested
/// inside each other, counted from the root.
const MAX_HOPS: usize = 5;

/// Most relation fields the generator writes in one document, not counting
/// those repeated by spreading a fragment again.
const MAX_RELATIONS: usize = 10;

/// Page sizes every document runs with.
const SMALL: u64 = 1;
const LARGE: u64 = 50;

#[tokio::test]
async fn every_document_costs_the_same_statements_for_1_and_50_items_at_most_one_per_list_field() {
    let app = TestApp::spawn_configured(measurable).await;
    let (world, users) = seed(&app).await;
    // Tag names are read once per process: name them all before measuring.
    let named = app.graphql(EVERY_TAG, json!({})).await;
    assert!(named["errors"].is_null(), "{named}");

    let schema = Schema::parse(SCHEMA);
    let seed = std::env::var("STATEMENT_BOUNDS_SEED")
        .ok()
        .map(|s| s.parse::<u64>().expect("STATEMENT_BOUNDS_SEED is a number"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time")
                .as_nanos() as u64
        });
    let documents: usize = std::env::var("STATEMENT_BOUNDS_DOCUMENTS")
        .ok()
        .map(|s| s.parse().expect("STATEMENT_BOUNDS_DOCUMENTS is a number"))
        .unwrap_or(40);
    eprintln!(
        "statement bounds: seed {seed} (STATEMENT_BOUNDS_SEED={seed}), {documents} documents"
    );

    let signed_in = format!("signed in as {}", USERS[0]);
    let callers: [(&str, Option<&str>); 2] = [
        ("anonymous", None),
        (&signed_in, Some(users[0].token.as_str())),
    ];
    let mut rng = Rng::new(seed);
    let mut failures = Vec::new();
    let mut runs = 0;
    for index in 0..documents {
        let document = Generator::new(&mut rng, &world).document();
        let bound = schema.list_and_relation_fields(&document.text);
        for (caller, token) in callers {
            // `feed` needs a token: anonymously it is an error by design.
            if token.is_none() && document.needs_token {
                continue;
            }
            runs += 1;
            let baseline = cost(&app, token, TYPENAME, 0).await;
            assert!(
                baseline.errors.is_none(),
                "{TYPENAME}: {:?}",
                baseline.errors
            );
            let small = cost(&app, token, &document.text, SMALL).await;
            let large = cost(&app, token, &document.text, LARGE).await;
            let (small_n, large_n) = (
                small.statements.saturating_sub(baseline.statements),
                large.statements.saturating_sub(baseline.statements),
            );
            let mut problems = Vec::new();
            for (n, run) in [(SMALL, &small), (LARGE, &large)] {
                if let Some(errors) = &run.errors {
                    problems.push(format!("errors with n={n}: {errors}"));
                }
            }
            if small_n != large_n {
                problems.push("the statements depend on the page size".to_owned());
            }
            if small_n.max(large_n) > bound as u64 {
                problems.push(format!(
                    "more statements than the {bound} list and relation fields"
                ));
            }
            eprintln!(
                "document {index} ({caller}): n={SMALL} {small_n}, n={LARGE} {large_n}, bound {bound}{}",
                if problems.is_empty() { "" } else { "  FAILS" }
            );
            if !problems.is_empty() {
                failures.push(format!(
                    "document {index} ({caller}): statements with n={SMALL}: {small_n}, with n={LARGE}: {large_n}, \
                     list and relation fields: {bound} (a request without fields costs {}); {}\n{}",
                    baseline.statements,
                    problems.join("; "),
                    document.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {runs} runs failed (STATEMENT_BOUNDS_SEED={seed} makes the same documents)\n\n{}\n\nseed {seed}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_bound_counts_merged_fields_once_and_fragment_fields_once_per_spread() {
    let schema = Schema::parse(SCHEMA);
    let count = |document: &str| schema.list_and_relation_fields(document);
    // articles, nodes, author (merged), tags; counts and scalars are not lists.
    assert_eq!(
        count(
            "{ articles(first: 1) { totalCount nodes { title author { username } author { bio followersCount } tags } } }"
        ),
        4
    );
    // Two aliases of one connection are two places.
    assert_eq!(
        count("{ a: articles(first: 1) { nodes { id } } b: articles(last: 1) { nodes { id } } }"),
        4
    );
    // articles, edges, node, nodes, and the fragment's three under each of
    // the two places it is spread.
    assert_eq!(
        count(
            "query { articles(first: 1) { edges { node { ...Card } } nodes { ...Card } } }
             fragment Card on Article { author { username } comments(first: 1) { nodes { body } } }"
        ),
        10
    );
    // A fragment spread twice in one place, merged with a field beside it:
    // viewer, favoriteArticles, nodes, pageInfo.
    assert_eq!(
        count(
            "{ viewer { ...Favorites ...Favorites favoriteArticles(first: 1) { nodes { id } } } }
             fragment Favorites on User { favoriteArticles(first: 1) { pageInfo { hasNextPage } } }"
        ),
        4
    );
    // Under an interface, each type's fields: node, Article.author,
    // Article.tags, Comment.author (and `id` is a scalar however reached).
    assert_eq!(
        count(
            "{ node(id: \"x\") { id ... on Article { author { id } tags } ... on Comment { author { id } } ... on Node { id } } }"
        ),
        4
    );
    // An inline fragment without a condition, or on the type itself, is the same place.
    assert_eq!(
        count(
            "{ article(slug: \"a\") { author { id } ... { author { bio } } ... on Article { author { image } tags } } }"
        ),
        3
    );
    assert_eq!(
        count("{ __typename tags(first: 2) { name articleCount } }"),
        1
    );
}

/// Server settings for measuring: nothing cached, and limits wide enough for
/// the generated documents (five lists deep with pages of 50 is far over the
/// cost a client may ask for).
fn measurable(config: &mut Config) {
    config.cache_enabled = false;
    config.protection.rate_limit_enabled = false;
    config.protection.max_depth = 32;
    config.protection.max_cost = u64::MAX;
    config.protection.max_aliases = 1_000;
    config.protection.request_timeout_ms = 300_000;
}

/// What a request answered and the statements it cost.
struct Cost {
    statements: u64,
    /// The errors, or the HTTP status when it was not 200.
    errors: Option<String>,
}

async fn cost(app: &TestApp, token: Option<&str>, document: &str, n: u64) -> Cost {
    let before = app.statements();
    let response = app.post_graphql(token, document, json!({ "n": n })).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let statements = app.statements() - before;
    let errors = if status != 200 {
        Some(format!("HTTP {status}: {body}"))
    } else if body["errors"].is_null() && body["data"].is_object() {
        None
    } else {
        Some(body["errors"].to_string())
    };
    Cost { statements, errors }
}

/// Names and ids the generated documents use.
struct World {
    /// `(username: …)` arguments.
    usernames: Vec<String>,
    /// `(slug: …)` arguments.
    slugs: Vec<String>,
    /// `(id: …)` arguments: an article, a user and a comment.
    node_ids: Vec<String>,
}

/// Six users who each follow three others, thirty published articles with two
/// or three tags, two favorites and three comments each; every user has
/// five articles and ten favorites.
async fn seed(app: &TestApp) -> (World, Vec<TestUser>) {
    let mut users = Vec::new();
    for name in USERS {
        users.push(app.register(name).await);
    }
    for (i, user) in users.iter().enumerate() {
        for step in 1..=3 {
            let body = app
                .graphql_as(
                    &user.token,
                    FOLLOW,
                    json!({ "username": USERS[(i + step) % USERS.len()] }),
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
        }
    }
    let mut slugs = Vec::new();
    let mut article_ids = Vec::new();
    for j in 0..ARTICLES {
        let mut tags = vec![TAGS[j % 5], TAGS[(j + 2) % 5]];
        if j % 3 == 0 {
            tags.push(TAGS[(j + 4) % 5]);
        }
        let body = app
            .graphql_as(
                &users[j % users.len()].token,
                CREATE_ARTICLE,
                json!({ "input": { "title": format!("Article {j}"), "description": "About it",
                                   "body": format!("The text of article {j}."), "tags": tags } }),
            )
            .await;
        let article = &body["data"]["createArticle"]["article"];
        assert!(article.is_object(), "{body}");
        slugs.push(article["slug"].as_str().expect("slug").to_owned());
        article_ids.push(article["id"].as_str().expect("id").to_owned());
    }
    let mut comment_ids = Vec::new();
    for (j, slug) in slugs.iter().enumerate() {
        for (i, user) in users.iter().enumerate() {
            if (i + j) % 3 == 0 {
                let body = app
                    .graphql_as(&user.token, FAVORITE, json!({ "slug": slug }))
                    .await;
                assert!(body["errors"].is_null(), "{body}");
            }
        }
        for step in 1..=3 {
            let body = app
                .graphql_as(
                    &users[(j + step) % users.len()].token,
                    ADD_COMMENT,
                    json!({ "slug": slug, "body": format!("Comment {step} on {j}") }),
                )
                .await;
            let id = &body["data"]["addComment"]["comment"]["id"];
            comment_ids.push(id.as_str().unwrap_or_else(|| panic!("{body}")).to_owned());
        }
    }
    let world = World {
        usernames: vec![USERS[1].into(), USERS[2].into(), USERS[0].into()],
        slugs: vec![
            slugs[0].clone(),
            slugs[7].clone(),
            slugs[ARTICLES - 1].clone(),
        ],
        node_ids: vec![
            article_ids[3].clone(),
            users[2].id.clone(),
            comment_ids[4].clone(),
        ],
    };
    (world, users)
}

/// A small xorshift generator: a seed makes the same documents everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // splitmix64, so that nearby seeds start far apart and none is zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number below `n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// The types the generator selects from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Query,
    Article,
    User,
    Comment,
    Node,
    Tag,
    PageInfo,
    ArticleConnection,
    ArticleEdge,
    CommentConnection,
    CommentEdge,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Query => "Query",
            Ty::Article => "Article",
            Ty::User => "User",
            Ty::Comment => "Comment",
            Ty::Node => "Node",
            Ty::Tag => "Tag",
            Ty::PageInfo => "PageInfo",
            Ty::ArticleConnection => "ArticleConnection",
            Ty::ArticleEdge => "ArticleEdge",
            Ty::CommentConnection => "CommentConnection",
            Ty::CommentEdge => "CommentEdge",
        }
    }

    /// Fields without a selection. `tags` is a list of strings: a leaf here,
    /// a list for the bound. `email` is left out: it is an error for others.
    fn leaves(self) -> &'static [&'static str] {
        match self {
            Ty::Query => &["__typename"],
            Ty::Article => &[
                "id",
                "slug",
                "title",
                "description",
                "body",
                "tags",
                "status",
                "publishedAt",
                "createdAt",
                "updatedAt",
                "favoritesCount",
                "viewerHasFavorited",
                "commentCount",
                "__typename",
            ],
            Ty::User => &[
                "id",
                "username",
                "bio",
                "image",
                "role",
                "createdAt",
                "followersCount",
                "followingCount",
                "viewerIsFollowing",
                "isViewer",
                "__typename",
            ],
            Ty::Comment => &["id", "body", "createdAt", "updatedAt", "__typename"],
            Ty::Node => &["id", "__typename"],
            Ty::Tag => &["name", "articleCount"],
            Ty::PageInfo => &["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"],
            Ty::ArticleConnection | Ty::CommentConnection => &["totalCount", "__typename"],
            Ty::ArticleEdge | Ty::CommentEdge => &["cursor", "__typename"],
        }
    }

    /// The parts of a connection, which lead to its items without going a
    /// level deeper.
    fn parts(self) -> &'static [(&'static str, Ty)] {
        match self {
            Ty::ArticleConnection => &[
                ("edges", Ty::ArticleEdge),
                ("nodes", Ty::Article),
                ("pageInfo", Ty::PageInfo),
            ],
            Ty::CommentConnection => &[
                ("edges", Ty::CommentEdge),
                ("nodes", Ty::Comment),
                ("pageInfo", Ty::PageInfo),
            ],
            Ty::ArticleEdge => &[("node", Ty::Article)],
            Ty::CommentEdge => &[("node", Ty::Comment)],
            _ => &[],
        }
    }

    /// Types that get named fragments.
    fn has_fragments(self) -> bool {
        matches!(
            self,
            Ty::Article
                | Ty::User
                | Ty::Comment
                | Ty::Node
                | Ty::ArticleConnection
                | Ty::CommentConnection
        )
    }

    /// Whether the type implements `Node`.
    fn is_node(self) -> bool {
        matches!(self, Ty::Article | Ty::User | Ty::Comment)
    }
}

/// A field that goes one level deeper: to a list, or to another object.
struct Relation {
    name: &'static str,
    to: Ty,
    /// The arguments of each variant, written out; each variant gets its own
    /// response key (the field's name for the first, an alias for the
    /// others), so that one key always means one field with one set of
    /// arguments and selections under it always merge.
    variants: Vec<String>,
    /// Whether the field is an error without a token.
    needs_token: bool,
}

impl Relation {
    fn new(name: &'static str, to: Ty, variants: &[&str]) -> Self {
        Self {
            name,
            to,
            variants: variants.iter().map(|v| (*v).to_owned()).collect(),
            needs_token: false,
        }
    }
}

fn relations(ty: Ty, world: &World) -> Vec<Relation> {
    let quoted = |key: &str, values: &[String]| -> Vec<String> {
        values.iter().map(|v| format!("({key}: \"{v}\")")).collect()
    };
    match ty {
        Ty::Query => vec![
            Relation::new(
                "articles",
                Ty::ArticleConnection,
                &[
                    "(first: $n)",
                    "(last: $n)",
                    "(first: $n, filter: { tag: \"rust\" })",
                    "(first: $n, filter: { author: \"bob\" })",
                    "(first: $n, filter: { favoritedBy: \"cat\" })",
                    "(first: $n, orderBy: { direction: ASC })",
                ],
            ),
            Relation {
                needs_token: true,
                ..Relation::new(
                    "feed",
                    Ty::ArticleConnection,
                    &["(first: $n)", "(last: $n)"],
                )
            },
            Relation::new("viewer", Ty::User, &[""]),
            Relation {
                variants: quoted("username", &world.usernames),
                ..Relation::new("user", Ty::User, &[])
            },
            Relation {
                variants: quoted("slug", &world.slugs),
                ..Relation::new("article", Ty::Article, &[])
            },
            Relation {
                variants: quoted("id", &world.node_ids),
                ..Relation::new("node", Ty::Node, &[])
            },
            Relation::new("tags", Ty::Tag, &["(first: $n)"]),
        ],
        Ty::Article => vec![
            Relation::new("author", Ty::User, &[""]),
            Relation::new(
                "comments",
                Ty::CommentConnection,
                &[
                    "(first: $n)",
                    "(last: $n)",
                    "(first: $n, orderBy: { direction: DESC })",
                ],
            ),
        ],
        Ty::User => vec![
            Relation::new(
                "articles",
                Ty::ArticleConnection,
                &[
                    "(first: $n)",
                    "(last: $n)",
                    "(first: $n, orderBy: { direction: ASC })",
                ],
            ),
            Relation::new(
                "favoriteArticles",
                Ty::ArticleConnection,
                &["(first: $n)", "(last: $n)"],
            ),
        ],
        Ty::Comment => vec![
            Relation::new("author", Ty::User, &[""]),
            Relation::new("article", Ty::Article, &[""]),
        ],
        _ => Vec::new(),
    }
}

/// A generated document.
struct Document {
    text: String,
    /// Whether it selects `feed`, which needs a token.
    needs_token: bool,
}

/// A named fragment: its type, how many levels its selection goes down, and
/// the selection.
struct Fragment {
    name: String,
    on: Ty,
    depth: usize,
    selection: String,
}

/// One selection of a selection set, and how many levels it goes down.
type Item = (String, usize);

/// Writes one random document.
struct Generator<'a> {
    rng: &'a mut Rng,
    world: &'a World,
    fragments: Vec<Fragment>,
    relations_left: usize,
    needs_token: bool,
}

impl<'a> Generator<'a> {
    fn new(rng: &'a mut Rng, world: &'a World) -> Self {
        Self {
            rng,
            world,
            fragments: Vec::new(),
            relations_left: MAX_RELATIONS,
            needs_token: false,
        }
    }

    fn document(mut self) -> Document {
        let count = 1 + self.rng.below(3);
        let mut roots = self.relation_fields(Ty::Query, MAX_HOPS, count);
        if self.rng.chance(10) {
            roots.push(("__typename".to_owned(), 0));
        }
        let body: Vec<String> = roots.into_iter().map(|(text, _)| text).collect();
        let fragments: Vec<String> = self
            .fragments
            .iter()
            .map(|f| {
                format!(
                    "fragment {} on {} {{ {} }}",
                    f.name,
                    f.on.name(),
                    f.selection
                )
            })
            .collect();
        let uses_n = body
            .iter()
            .chain(&fragments)
            .any(|text| text.contains("$n"));
        let variables = if uses_n { "($n: Int!)" } else { "" };
        let mut text = format!(
            "query Statements{variables} {{\n  {}\n}}",
            body.join("\n  ")
        );
        for fragment in fragments {
            text.push('\n');
            text.push_str(&fragment);
        }
        Document {
            text,
            needs_token: self.needs_token,
        }
    }

    /// Up to `count` relation fields of `ty` with `hops` levels left, some
    /// repeated under the same key (to merge) or under another alias with
    /// other arguments.
    fn relation_fields(&mut self, ty: Ty, hops: usize, count: usize) -> Vec<Item> {
        let mut items = Vec::new();
        let relations = relations(ty, self.world);
        if hops == 0 || relations.is_empty() {
            return items;
        }
        for _ in 0..count {
            if self.relations_left == 0 {
                break;
            }
            let mut relation = &relations[self.rng.below(relations.len())];
            // A document with `feed` runs signed in only: pick it half as often.
            if relation.needs_token && self.rng.chance(50) {
                relation = &relations[self.rng.below(relations.len())];
            }
            let variant = self.rng.below(relation.variants.len());
            items.push(self.relation(relation, variant, hops));
            let others = relation.variants.len();
            if others > 1 && self.rng.chance(30) {
                let other = (variant + 1 + self.rng.below(others - 1)) % others;
                items.push(self.relation(relation, other, hops));
            }
            if self.rng.chance(15) {
                items.push(self.relation(relation, variant, hops));
            }
        }
        items
    }

    fn relation(&mut self, relation: &Relation, variant: usize, hops: usize) -> Item {
        self.relations_left = self.relations_left.saturating_sub(1);
        self.needs_token |= relation.needs_token;
        let alias = if variant == 0 {
            String::new()
        } else {
            format!("{}{variant}: ", relation.name)
        };
        let (selection, depth) = self.selection(relation.to, hops - 1);
        (
            format!(
                "{alias}{}{} {{ {selection} }}",
                relation.name, relation.variants[variant]
            ),
            depth + 1,
        )
    }

    /// A selection set on `ty` that goes at most `hops` levels further down.
    fn selection(&mut self, ty: Ty, hops: usize) -> Item {
        let mut items: Vec<Item> = Vec::new();
        if ty == Ty::Node {
            if self.rng.chance(50) {
                items.push(("id".to_owned(), 0));
            }
            for on in [Ty::Article, Ty::User, Ty::Comment] {
                if self.rng.chance(60) || (on == Ty::Comment && items.len() < 2) {
                    let (selection, depth) = self.selection(on, hops);
                    items.push((format!("... on {} {{ {selection} }}", on.name()), depth));
                }
            }
        } else {
            let leaves = ty.leaves();
            let wanted = match ty {
                Ty::ArticleConnection
                | Ty::CommentConnection
                | Ty::ArticleEdge
                | Ty::CommentEdge => self.rng.below(2),
                _ => 1 + self.rng.below(3),
            };
            for _ in 0..wanted {
                let leaf = leaves[self.rng.below(leaves.len())];
                if !items.iter().any(|(text, _)| text == leaf) {
                    items.push((leaf.to_owned(), 0));
                }
            }
            for (i, (name, to)) in ty.parts().iter().enumerate() {
                // Usually the items, as `nodes` or `edges { node }`.
                let wanted = match (ty, i) {
                    (Ty::ArticleEdge | Ty::CommentEdge, _) => 85,
                    (_, 2) => 25,
                    _ => 55,
                };
                if self.rng.chance(wanted) {
                    let (selection, depth) = self.selection(*to, hops);
                    items.push((format!("{name} {{ {selection} }}"), depth));
                }
            }
            let count = self.rng.below(3);
            let deeper = self.relation_fields(ty, hops, count);
            items.extend(deeper);
            if items.is_empty() {
                items.push((leaves[0].to_owned(), 0));
            }
        }
        if ty.has_fragments() {
            self.fragments_in(ty, hops, &mut items);
        }
        let depth = items.iter().map(|(_, d)| *d).max().unwrap_or(0);
        let text: Vec<String> = items.into_iter().map(|(text, _)| text).collect();
        (text.join(" "), depth)
    }

    /// Moves some of `items` into a new named fragment or an inline fragment,
    /// and spreads a fragment made earlier when it fits in `hops`.
    fn fragments_in(&mut self, ty: Ty, hops: usize, items: &mut Vec<Item>) {
        if self.rng.chance(25) {
            let moved = items.split_off(self.rng.below(items.len()));
            let depth = moved.iter().map(|(_, d)| *d).max().unwrap_or(0);
            let name = format!("F{}", self.fragments.len());
            let selection: Vec<String> = moved.into_iter().map(|(text, _)| text).collect();
            self.fragments.push(Fragment {
                name: name.clone(),
                on: ty,
                depth,
                selection: selection.join(" "),
            });
            items.push((format!("...{name}"), depth));
        }
        if self.rng.chance(20) {
            let moved = items.split_off(self.rng.below(items.len()));
            let depth = moved.iter().map(|(_, d)| *d).max().unwrap_or(0);
            let selection: Vec<String> = moved.into_iter().map(|(text, _)| text).collect();
            let condition = if ty == Ty::Node || self.rng.chance(50) {
                format!(" on {}", ty.name())
            } else {
                String::new()
            };
            items.push((
                format!("...{condition} {{ {} }}", selection.join(" ")),
                depth,
            ));
        }
        if self.rng.chance(25) {
            let fitting: Vec<(String, usize)> = self
                .fragments
                .iter()
                .filter(|f| f.on == ty && f.depth <= hops)
                .map(|f| (f.name.clone(), f.depth))
                .collect();
            if !fitting.is_empty() {
                let (name, depth) = fitting[self.rng.below(fitting.len())].clone();
                items.push((format!("...{name}"), depth));
            }
        }
        if ty.is_node() && self.rng.chance(10) {
            items.push(("... on Node { id }".to_owned(), 0));
        }
    }
}

/// Fields that tell how the viewer relates to an object: the favorites and
/// follows between the two, each one relation of the document.
const VIEWER_RELATIONS: [&str; 2] = ["viewerHasFavorited", "viewerIsFollowing"];

/// What the bound needs of the schema: each type's fields, and whether each
/// field's type is a list, an object or an interface (or a viewer relation).
struct Schema {
    /// Object, interface and union types by name, with their fields: whether
    /// the field counts, and the name of its type.
    composite: HashMap<String, HashMap<String, (bool, String)>>,
    /// Object types.
    objects: Vec<String>,
}

impl Schema {
    fn parse(sdl: &str) -> Self {
        let document = parse_schema(sdl).expect("schema.graphql parses");
        let mut composite = HashMap::new();
        let mut objects = Vec::new();
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let name = definition.node.name.node.to_string();
            let fields = match &definition.node.kind {
                TypeKind::Object(object) => {
                    objects.push(name.clone());
                    &object.fields
                }
                TypeKind::Interface(interface) => &interface.fields,
                TypeKind::Union(_) => {
                    composite.insert(name, HashMap::new());
                    continue;
                }
                _ => continue,
            };
            let fields = fields
                .iter()
                .map(|field| {
                    let mut ty = &field.node.ty.node;
                    let list = matches!(ty.base, BaseType::List(_));
                    while let BaseType::List(inner) = &ty.base {
                        ty = inner;
                    }
                    let BaseType::Named(named) = &ty.base else {
                        unreachable!("lists were unwrapped")
                    };
                    (field.node.name.node.to_string(), (list, named.to_string()))
                })
                .collect();
            composite.insert(name, fields);
        }
        // A field counts when its type is a list, or names a composite type,
        // or when it is a relation between the viewer and the object.
        let names: Vec<String> = composite.keys().cloned().collect();
        for fields in composite.values_mut() {
            for (name, (counts, named)) in fields.iter_mut() {
                *counts =
                    *counts || names.contains(named) || VIEWER_RELATIONS.contains(&name.as_str());
            }
        }
        Self { composite, objects }
    }

    /// The document's list and relation fields (see the top of this file).
    fn list_and_relation_fields(&self, text: &str) -> usize {
        let document = parse_query(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let operations: Vec<_> = document.operations.iter().collect();
        let [(_, operation)] = operations.as_slice() else {
            panic!("one operation per document: {text}")
        };
        self.positions(&document, "Query", &[&operation.node.selection_set.node])
    }

    /// The list and relation fields of the selection sets `sets`, merged, on `ty`.
    fn positions(&self, document: &ExecutableDocument, ty: &str, sets: &[&SelectionSet]) -> usize {
        // By the type each field is selected on and its response key: the
        // field's name and every selection set it has at this place.
        let mut merged: Vec<((String, String), String, Vec<&SelectionSet>)> = Vec::new();
        for set in sets {
            self.collect(document, ty, set, &mut merged);
        }
        merged
            .iter()
            .map(|((on, _), name, subsets)| {
                if name.starts_with("__") {
                    return 0;
                }
                let (counts, named) = self
                    .composite
                    .get(on)
                    .and_then(|fields| fields.get(name))
                    .unwrap_or_else(|| panic!("no field {on}.{name} in schema.graphql"));
                usize::from(*counts) + self.positions(document, named, subsets)
            })
            .sum()
    }

    fn collect<'d>(
        &self,
        document: &'d ExecutableDocument,
        on: &str,
        set: &'d SelectionSet,
        merged: &mut Vec<((String, String), String, Vec<&'d SelectionSet>)>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let key = (on.to_owned(), field.node.response_key().node.to_string());
                    let sub = &field.node.selection_set.node;
                    match merged.iter_mut().find(|(k, _, _)| *k == key) {
                        Some((_, _, subsets)) => subsets.push(sub),
                        None => merged.push((key, field.node.name.node.to_string(), vec![sub])),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = &document.fragments[&spread.node.fragment_name.node].node;
                    let condition = &fragment.type_condition.node.on.node;
                    let narrowed = self.narrow(on, condition);
                    self.collect(document, &narrowed, &fragment.selection_set.node, merged);
                }
                Selection::InlineFragment(inline) => {
                    let narrowed = match &inline.node.type_condition {
                        Some(condition) => self.narrow(on, &condition.node.on.node),
                        None => on.to_owned(),
                    };
                    self.collect(document, &narrowed, &inline.node.selection_set.node, merged);
                }
            }
        }
    }

    /// The type fields are selected on inside a fragment on `condition`
    /// spread where the type is `on`: an object type names itself; an
    /// interface within an object type keeps the object type.
    fn narrow(&self, on: &str, condition: &str) -> String {
        if self.objects.iter().any(|o| o == condition) || !self.objects.iter().any(|o| o == on) {
            condition.to_owned()
        } else {
            on.to_owned()
        }
    }
}
