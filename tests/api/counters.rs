//! Aggregate counts under concurrent writes: after a storm of favorites,
//! comments, follows, new, retagged, published, unpublished and deleted
//! articles, and bans, sent from many tasks at once, every count the API
//! shows (an article's favorites and comments, a user's followers,
//! following, articles and favorites, the totals of every list and the tags'
//! article counts) equals a `COUNT(*)` over the rows, with the visibility
//! rules of the reads: comments and articles by banned users are hidden,
//! tags count the published articles of authors who are not banned, and
//! favorites and follows count whoever made them.
//!
//! The writes may refuse (NOT_FOUND for an article deleted meanwhile,
//! UNAUTHENTICATED for a user banned meanwhile); nothing may fail otherwise.
//! The counts are read with the cache off, so that each read is the
//! database's answer. `COUNTERS_SEED=<seed>` makes the same storm again.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, QueryResult, Statement};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestUser, error_codes};

const CREATE_ARTICLE: &str = "mutation($input: CreateArticleInput!) {
  createArticle(input: $input) { article { slug } }
}";

const UPDATE_ARTICLE: &str = "mutation($input: UpdateArticleInput!) {
  updateArticle(input: $input) { article { slug } }
}";

const PUBLISH: &str =
    "mutation($slug: String!) { publishArticle(input: { slug: $slug }) { article { slug } } }";

const UNPUBLISH: &str =
    "mutation($slug: String!) { unpublishArticle(input: { slug: $slug }) { article { slug } } }";

const DELETE_ARTICLE: &str =
    "mutation($slug: String!) { deleteArticle(input: { slug: $slug }) { deletedArticleId } }";

const FAVORITE: &str =
    "mutation($slug: String!) { favoriteArticle(input: { slug: $slug }) { article { slug } } }";

const UNFAVORITE: &str =
    "mutation($slug: String!) { unfavoriteArticle(input: { slug: $slug }) { article { slug } } }";

const ADD_COMMENT: &str = "mutation($slug: String!) {
  addComment(input: { articleSlug: $slug, body: \"Me too.\" }) { comment { id } }
}";

const DELETE_COMMENT: &str =
    "mutation($id: ID!) { deleteComment(input: { id: $id }) { deletedCommentId } }";

const FOLLOW: &str = "mutation($username: String!) { followUser(input: { username: $username }) { user { username } } }";

const UNFOLLOW: &str = "mutation($username: String!) { unfollowUser(input: { username: $username }) { user { username } } }";

const BAN: &str =
    "mutation($username: String!) { banUser(input: { username: $username }) { banned } }";

const UNBAN: &str =
    "mutation($username: String!) { unbanUser(input: { username: $username }) { banned } }";

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { token } }";

/// One article's counts, read alone.
const ARTICLE_COUNTS: &str = "query($slug: String!) {
  article(slug: $slug) { favoritesCount commentCount comments(first: 1) { totalCount } }
}";

/// Every published article's counts and its author's, read as one list.
const LIST_COUNTS: &str = "{
  articles(first: 100) {
    totalCount
    nodes {
      slug favoritesCount commentCount comments(first: 1) { totalCount }
      author { username followersCount followingCount
               articles(first: 1) { totalCount } favoriteArticles(first: 1) { totalCount } }
    }
  }
}";

/// One user's counts, read by anyone.
const USER_COUNTS: &str = "query($username: String!) {
  user(username: $username) {
    followersCount followingCount
    articles(first: 1) { totalCount }
    favoriteArticles(first: 1) { totalCount }
  }
}";

/// The counts only the user sees: their drafts and their feed.
const VIEWER_COUNTS: &str = "{
  viewer {
    followersCount followingCount
    articles(first: 1) { totalCount }
    drafts: articles(first: 1, status: DRAFT) { totalCount }
    favoriteArticles(first: 1) { totalCount }
  }
  feed(first: 1) { totalCount }
  ownDrafts: articles(first: 100, filter: { status: DRAFT }) {
    totalCount
    nodes { slug favoritesCount commentCount comments(first: 1) { totalCount } }
  }
}";

const FILTERED_COUNT: &str = "query($filter: ArticleFilterInput) {
  articles(first: 1, filter: $filter) { totalCount }
}";

const TAGS: &str = "{ tags(first: 100) { name articleCount } }";

/// Users who write; the last two are banned and unbanned during the storm,
/// and the one before them is banned after it.
const WRITERS: [&str; 8] = ["w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"];
const VICTIMS: [usize; 2] = [6, 7];
const BANNED_AFTER: usize = 5;

const TAG_NAMES: [&str; 6] = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];

/// Mutations the storm sends, at least.
const STORM_MUTATIONS: usize = 320;

/// Rows of users that are banned, for the counts that leave them out.
const BANNED: &str = "(SELECT id FROM users WHERE banned_at IS NOT NULL)";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_count_equals_a_count_of_the_rows_after_a_storm_of_concurrent_writes() {
    // As `TestApp::spawn` does: the server's own account of an INTERNAL
    // answer, found by its `requestId`.
    if std::env::var_os("TEST_LOG").is_some() {
        conduit::telemetry::init(conduit::config::LogFormat::Pretty);
    }
    let app = TestApp::spawn_configured(|config| {
        // Every read is the database's answer, never a cached one.
        config.cache_enabled = false;
        // Hundreds of writes from a few users at once: no budget may refuse them.
        config.protection.rate_limit_enabled = false;
        config.db_max_connections = 10;
    })
    .await;
    let admin = app.admin("root").await;
    let seeded = seed(&app).await;

    let seed = std::env::var("COUNTERS_SEED")
        .ok()
        .map(|s| s.parse::<u64>().expect("COUNTERS_SEED is a number"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time")
                .as_nanos() as u64
        });
    let tasks = storm(&mut StdRng::seed_from_u64(seed), &seeded);
    let mutations: usize = tasks.iter().map(|(_, ops)| ops.len()).sum();

    let app = Arc::new(app);
    let start = Arc::new(tokio::sync::Barrier::new(tasks.len()));
    let mut running = Vec::new();
    for (actor, ops) in tasks {
        let actor = match actor {
            Some(writer) => Actor {
                name: WRITERS[writer].to_owned(),
                token: seeded.writers[writer].token.clone(),
                victim: VICTIMS.contains(&writer),
            },
            None => Actor {
                name: "root".to_owned(),
                token: admin.token.clone(),
                victim: false,
            },
        };
        let (app, start) = (app.clone(), start.clone());
        running.push(tokio::spawn(async move {
            start.wait().await;
            run(&app, actor, ops).await
        }));
    }
    let mut tally = Tally::default();
    for task in running {
        let done = task.await.expect("a storm task panicked");
        tally.done += done.done;
        tally.refused += done.refused;
        tally.unexpected.extend(done.unexpected);
    }
    eprintln!(
        "counters: seed {seed}: {mutations} mutations: {} done, {} refused, {} unexpected",
        tally.done,
        tally.refused,
        tally.unexpected.len()
    );

    // One more ban, after the storm: its user's rows leave the counts too.
    let banned = app
        .graphql_as(
            &admin.token,
            BAN,
            json!({ "username": WRITERS[BANNED_AFTER] }),
        )
        .await;
    assert_eq!(banned["data"]["banUser"]["banned"], true, "{banned}");

    let mut wrong = Vec::new();
    check_articles(&app, &mut wrong).await;
    check_users(&app, &mut wrong).await;
    check_lists(&app, &mut wrong).await;
    check_tags(&app, &mut wrong).await;
    assert!(
        tally.unexpected.is_empty() && wrong.is_empty(),
        "seed {seed} (COUNTERS_SEED={seed} makes the same storm; TEST_LOG=1 logs the server's errors)\n\
         {} counts differ from COUNT(*):\n{}\n\n\
         {} unexpected answers to the storm's {mutations} mutations ({} done, {} refused as expected):\n{}",
        wrong.len(),
        wrong.join("\n"),
        tally.unexpected.len(),
        tally.done,
        tally.refused,
        tally.unexpected.join("\n"),
    );
}

/// What the storm starts from.
struct Seeded {
    writers: Vec<TestUser>,
    /// Every article: its slug and its author's index in [`WRITERS`].
    articles: Vec<(String, usize)>,
    /// Every comment: its id and its author's index.
    comments: Vec<(String, usize)>,
}

/// Eight writers with four articles each (one a draft), two tags on each;
/// each follows three others, favorites and comments on a share of the
/// published articles.
async fn seed(app: &TestApp) -> Seeded {
    let mut writers = Vec::new();
    for name in WRITERS {
        writers.push(app.register(name).await);
    }
    let mut articles = Vec::new();
    for (i, writer) in writers.iter().enumerate() {
        for k in 0..4 {
            let tags = [TAG_NAMES[(i + k) % 6], TAG_NAMES[(i + 2 * k + 1) % 6]];
            let slug = app
                .create_article(writer, &format!("{} story {k}", WRITERS[i]), &tags, k == 3)
                .await;
            articles.push((slug, i));
        }
    }
    let mut comments = Vec::new();
    for (i, writer) in writers.iter().enumerate() {
        for step in 1..=3 {
            let body = app
                .graphql_as(
                    &writer.token,
                    FOLLOW,
                    json!({ "username": WRITERS[(i + step) % WRITERS.len()] }),
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
        }
        // Published articles only: the drafts are every fourth.
        for (j, (slug, _)) in articles.iter().enumerate().filter(|(j, _)| j % 4 != 3) {
            if (i + j) % 3 == 0 {
                let body = app
                    .graphql_as(&writer.token, FAVORITE, json!({ "slug": slug }))
                    .await;
                assert!(body["errors"].is_null(), "{body}");
            }
            if (i + j) % 4 == 1 {
                let body = app
                    .graphql_as(&writer.token, ADD_COMMENT, json!({ "slug": slug }))
                    .await;
                let id = &body["data"]["addComment"]["comment"]["id"];
                comments.push((
                    id.as_str().unwrap_or_else(|| panic!("{body}")).to_owned(),
                    i,
                ));
            }
        }
    }
    Seeded {
        writers,
        articles,
        comments,
    }
}

/// Stands for the article the task created last.
const CREATED: &str = "<created>";

/// One mutation of the storm.
#[derive(Clone, Debug)]
enum Op {
    Favorite(String),
    Unfavorite(String),
    Comment(String),
    /// A comment by id; `None` for the one the task added last.
    DeleteComment(Option<String>),
    Create {
        tags: Vec<String>,
        draft: bool,
    },
    Retag(String, Vec<String>),
    Publish(String),
    Unpublish(String),
    DeleteArticle(String),
    Follow(String),
    Unfollow(String),
    Ban(String),
    Unban(String),
}

/// The storm: short scripts, each run by one writer (`Some(index)`) or by the
/// admin (`None`), all started at once.
fn storm(rng: &mut StdRng, seeded: &Seeded) -> Vec<(Option<usize>, Vec<Op>)> {
    let any_article = |rng: &mut StdRng| {
        seeded.articles[rng.random_range(0..seeded.articles.len())]
            .0
            .clone()
    };
    let tags = |rng: &mut StdRng| -> Vec<String> {
        let mut tags: Vec<String> = (0..rng.random_range(0..=3))
            .map(|_| TAG_NAMES[rng.random_range(0..TAG_NAMES.len())].to_owned())
            .collect();
        if rng.random_bool(0.15) {
            tags.push(format!("fresh{}", rng.random_range(0..4)));
        }
        tags.sort();
        tags.dedup();
        tags
    };
    let mut tasks: Vec<(Option<usize>, Vec<Op>)> = Vec::new();

    // Bans and unbans of the victims, several scripts each, racing each other.
    for victim in VICTIMS {
        for _ in 0..3 {
            let name = WRITERS[victim].to_owned();
            let ops = (0..rng.random_range(1..=4))
                .map(|k| {
                    if k % 2 == 0 {
                        Op::Ban(name.clone())
                    } else {
                        Op::Unban(name.clone())
                    }
                })
                .collect();
            tasks.push((None, ops));
        }
    }
    // Moderation by the admin.
    for _ in 0..6 {
        let op = match rng.random_range(0..3) {
            0 => Op::Unpublish(any_article(rng)),
            1 => Op::DeleteArticle(any_article(rng)),
            _ => Op::DeleteComment(Some(
                seeded.comments[rng.random_range(0..seeded.comments.len())]
                    .0
                    .clone(),
            )),
        };
        tasks.push((None, vec![op]));
    }

    let mut total: usize = tasks.iter().map(|(_, ops)| ops.len()).sum();
    while total < STORM_MUTATIONS {
        let me = rng.random_range(0..WRITERS.len());
        let own: Vec<&String> = seeded
            .articles
            .iter()
            .filter(|(_, author)| *author == me)
            .map(|(slug, _)| slug)
            .collect();
        let mine = own[rng.random_range(0..own.len())].clone();
        let other = loop {
            let other = rng.random_range(0..WRITERS.len());
            if other != me {
                break WRITERS[other].to_owned();
            }
        };
        let slug = any_article(rng);
        let ops = match rng.random_range(0..13) {
            0 => vec![Op::Favorite(slug.clone()), Op::Favorite(slug)],
            1 => vec![Op::Unfavorite(slug.clone()), Op::Unfavorite(slug)],
            2 => vec![
                Op::Favorite(slug.clone()),
                Op::Unfavorite(slug.clone()),
                Op::Favorite(slug),
            ],
            3 => vec![Op::Comment(slug)],
            4 => vec![Op::Comment(slug), Op::DeleteComment(None)],
            5 => {
                let own: Vec<&(String, usize)> =
                    seeded.comments.iter().filter(|(_, a)| *a == me).collect();
                if own.is_empty() {
                    continue;
                }
                vec![Op::DeleteComment(Some(
                    own[rng.random_range(0..own.len())].0.clone(),
                ))]
            }
            6 => vec![Op::DeleteArticle(mine)],
            7 => {
                let mut ops = vec![Op::Create {
                    tags: tags(rng),
                    draft: rng.random_bool(0.3),
                }];
                for _ in 0..rng.random_range(0..=3) {
                    let created = CREATED.to_owned();
                    ops.push(match rng.random_range(0..6) {
                        0 => Op::Publish(created),
                        1 => Op::Unpublish(created),
                        2 => Op::Retag(created, tags(rng)),
                        3 => Op::Favorite(created),
                        4 => Op::Comment(created),
                        _ => Op::DeleteArticle(created),
                    });
                }
                ops
            }
            8 => vec![Op::Retag(mine, tags(rng))],
            9 => vec![Op::Unpublish(mine.clone()), Op::Publish(mine)],
            10 => vec![Op::Publish(mine)],
            11 => vec![Op::Unpublish(mine)],
            _ => match rng.random_range(0..3) {
                0 => vec![Op::Follow(other.clone()), Op::Follow(other)],
                1 => vec![Op::Unfollow(other.clone()), Op::Unfollow(other)],
                _ => vec![Op::Follow(other.clone()), Op::Unfollow(other)],
            },
        };
        total += ops.len();
        tasks.push((Some(me), ops));
    }
    tasks
}

/// Who runs a script.
struct Actor {
    name: String,
    token: String,
    /// Banned and unbanned during the storm: UNAUTHENTICATED is expected.
    victim: bool,
}

/// What a script's mutations came to.
#[derive(Default)]
struct Tally {
    done: usize,
    refused: usize,
    unexpected: Vec<String>,
}

/// What one mutation came to.
enum Outcome {
    Done(Value),
    /// An expected refusal, with its codes.
    Refused(Vec<String>),
    Unexpected(String),
}

async fn run(app: &TestApp, mut actor: Actor, ops: Vec<Op>) -> Tally {
    let mut tally = Tally::default();
    let mut created: Option<String> = None;
    let mut added: Option<String> = None;
    for op in ops {
        let slug_of = |slug: &String| {
            if slug == CREATED {
                created.clone()
            } else {
                Some(slug.clone())
            }
        };
        let (query, variables) = match &op {
            Op::Favorite(s)
            | Op::Unfavorite(s)
            | Op::Comment(s)
            | Op::Publish(s)
            | Op::Unpublish(s)
            | Op::DeleteArticle(s) => {
                let Some(slug) = slug_of(s) else { continue };
                let query = match &op {
                    Op::Favorite(_) => FAVORITE,
                    Op::Unfavorite(_) => UNFAVORITE,
                    Op::Comment(_) => ADD_COMMENT,
                    Op::Publish(_) => PUBLISH,
                    Op::Unpublish(_) => UNPUBLISH,
                    _ => DELETE_ARTICLE,
                };
                (query, json!({ "slug": slug }))
            }
            Op::DeleteComment(id) => {
                let Some(id) = id.clone().or_else(|| added.take()) else {
                    continue;
                };
                (DELETE_COMMENT, json!({ "id": id }))
            }
            Op::Create { tags, draft } => (
                CREATE_ARTICLE,
                json!({ "input": { "title": format!("{} wrote {}", actor.name, uuid::Uuid::new_v4().simple()),
                                   "description": "Written in the storm", "body": "Text.",
                                   "tags": tags, "draft": draft } }),
            ),
            Op::Retag(s, tags) => {
                let Some(slug) = slug_of(s) else { continue };
                (
                    UPDATE_ARTICLE,
                    json!({ "input": { "slug": slug, "tags": tags, "body": "Changed." } }),
                )
            }
            Op::Follow(name) => (FOLLOW, json!({ "username": name })),
            Op::Unfollow(name) => (UNFOLLOW, json!({ "username": name })),
            Op::Ban(name) => (BAN, json!({ "username": name })),
            Op::Unban(name) => (UNBAN, json!({ "username": name })),
        };
        match send(app, &actor, query, &variables).await {
            Outcome::Done(data) => {
                tally.done += 1;
                if let Some(slug) = data["createArticle"]["article"]["slug"].as_str() {
                    created = Some(slug.to_owned());
                }
                if let Some(id) = data["addComment"]["comment"]["id"].as_str() {
                    added = Some(id.to_owned());
                }
            }
            Outcome::Refused(codes) => {
                tally.refused += 1;
                // A victim's tokens end with its ban: sign in again, which
                // works once the ban is lifted.
                if codes.iter().any(|c| c == "UNAUTHENTICATED")
                    && let Some(token) = login(app, &actor.name).await
                {
                    actor.token = token;
                }
            }
            Outcome::Unexpected(what) => tally
                .unexpected
                .push(format!("{op:?} by {}: {what}", actor.name)),
        }
    }
    tally
}

async fn send(app: &TestApp, actor: &Actor, query: &str, variables: &Value) -> Outcome {
    let response = app
        .post_graphql(Some(&actor.token), query, variables.clone())
        .await;
    let status = response.status();
    let body: Value = match response.json().await {
        Ok(body) => body,
        Err(err) => return Outcome::Unexpected(format!("HTTP {status}, not JSON: {err}")),
    };
    let codes = error_codes(&body);
    let expected =
        |code: &String| code == "NOT_FOUND" || (code == "UNAUTHENTICATED" && actor.victim);
    match (status.as_u16(), codes.is_empty()) {
        (200, true) if body["data"].is_object() => Outcome::Done(body["data"].clone()),
        (200 | 401, false) if codes.iter().all(expected) => Outcome::Refused(codes),
        _ => Outcome::Unexpected(format!("HTTP {status}: {body}")),
    }
}

/// A fresh token for `name`, or `None` while they are banned.
async fn login(app: &TestApp, name: &str) -> Option<String> {
    let body = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": format!("{name}@example.org"), "password": PASSWORD } }),
        )
        .await;
    body["data"]["login"]["token"].as_str().map(str::to_owned)
}

/// `SELECT COUNT(*) FROM <from>`, straight from the database.
async fn count(app: &TestApp, from: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) AS n FROM {from}");
    let row = query(app, &sql).await.into_iter().next().expect("a row");
    row.try_get::<i64>("", "n")
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn query(app: &TestApp, sql: &str) -> Vec<QueryResult> {
    let db = &app.state.db;
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `(id, name)` rows of `sql`, which selects `id` and a text column `name`.
async fn named_rows(app: &TestApp, sql: &str) -> Vec<(i64, String)> {
    query(app, sql)
        .await
        .iter()
        .map(|row| {
            (
                row.try_get("", "id").expect("id"),
                row.try_get("", "name").expect("name"),
            )
        })
        .collect()
}

/// Compares one count the API showed with the database's.
fn expect(wrong: &mut Vec<String>, what: &str, shown: &Value, truth: i64) {
    if shown.as_i64() != Some(truth) {
        wrong.push(format!(
            "{what}: the API shows {shown}, COUNT(*) is {truth}"
        ));
    }
}

/// A fresh token for each writer who is not banned, by index.
async fn tokens(app: &TestApp) -> Vec<Option<String>> {
    let mut tokens = Vec::new();
    for name in WRITERS {
        tokens.push(login(app, name).await);
    }
    tokens
}

/// The counts of one article: favorites, comments (visible ones) and the
/// total of its comment list.
async fn article_truth(app: &TestApp, id: i64) -> (i64, i64) {
    (
        count(app, &format!("favorites WHERE article_id = {id}")).await,
        count(
            app,
            &format!("comments WHERE article_id = {id} AND author_id NOT IN {BANNED}"),
        )
        .await,
    )
}

/// Each article read alone, published ones anonymously and drafts by their
/// authors; articles of banned authors are hidden.
async fn check_articles(app: &TestApp, wrong: &mut Vec<String>) {
    let tokens = tokens(app).await;
    let rows = query(
        app,
        "SELECT a.id AS id, a.slug AS slug, u.username AS author, \
                CASE WHEN a.published_at IS NULL THEN 0 ELSE 1 END AS published, \
                CASE WHEN u.banned_at IS NULL THEN 0 ELSE 1 END AS banned \
         FROM articles a JOIN users u ON u.id = a.author_id",
    )
    .await;
    for row in rows {
        let id: i64 = row.try_get("", "id").expect("id");
        let slug: String = row.try_get("", "slug").expect("slug");
        let author: String = row.try_get("", "author").expect("author");
        let published = flag(&row, "published");
        let banned = flag(&row, "banned");
        let token = WRITERS
            .iter()
            .position(|w| *w == author)
            .and_then(|i| tokens[i].clone());
        let body = match (published, &token) {
            (true, _) => app.graphql(ARTICLE_COUNTS, json!({ "slug": slug })).await,
            (false, Some(token)) => {
                app.graphql_as(token, ARTICLE_COUNTS, json!({ "slug": slug }))
                    .await
            }
            // A banned author's draft: nobody can read it.
            (false, None) => continue,
        };
        let article = &body["data"]["article"];
        if banned {
            if !article.is_null() || !body["errors"].is_null() {
                wrong.push(format!(
                    "article {slug} by banned {author} is shown: {body}"
                ));
            }
            continue;
        }
        if !article.is_object() {
            wrong.push(format!("article {slug} is not shown: {body}"));
            continue;
        }
        let (favorites, comments) = article_truth(app, id).await;
        expect(
            wrong,
            &format!("{slug} favoritesCount"),
            &article["favoritesCount"],
            favorites,
        );
        expect(
            wrong,
            &format!("{slug} commentCount"),
            &article["commentCount"],
            comments,
        );
        expect(
            wrong,
            &format!("{slug} comments.totalCount"),
            &article["comments"]["totalCount"],
            comments,
        );
    }
}

/// A 0-or-1 column as a flag (each backend has its own integer type).
fn flag(row: &QueryResult, column: &str) -> bool {
    row.try_get::<i64>("", column)
        .or_else(|_| row.try_get::<i32>("", column).map(i64::from))
        .unwrap_or_else(|e| panic!("{column}: {e}"))
        != 0
}

/// The counts of a user that anyone sees: followers, following, published
/// articles and favorites among the visible articles.
async fn user_truth(app: &TestApp, id: i64) -> [i64; 4] {
    [
        count(app, &format!("follows WHERE followee_id = {id}")).await,
        count(app, &format!("follows WHERE follower_id = {id}")).await,
        count(
            app,
            &format!("articles WHERE author_id = {id} AND published_at IS NOT NULL"),
        )
        .await,
        count(
            app,
            &format!(
                "favorites f JOIN articles a ON a.id = f.article_id \
                 WHERE f.user_id = {id} AND a.published_at IS NOT NULL \
                   AND a.author_id NOT IN {BANNED}"
            ),
        )
        .await,
    ]
}

/// Each user's profile anonymously (banned ones are hidden), and each
/// writer's own counts signed in: drafts and feed too.
async fn check_users(app: &TestApp, wrong: &mut Vec<String>) {
    let visible = named_rows(
        app,
        "SELECT id, username AS name FROM users WHERE banned_at IS NULL",
    )
    .await;
    let banned = named_rows(
        app,
        "SELECT id, username AS name FROM users WHERE banned_at IS NOT NULL",
    )
    .await;
    for (_, name) in &banned {
        let body = app.graphql(USER_COUNTS, json!({ "username": name })).await;
        if !body["data"]["user"].is_null() {
            wrong.push(format!("banned user {name} is shown: {body}"));
        }
    }
    for (id, name) in &visible {
        let body = app.graphql(USER_COUNTS, json!({ "username": name })).await;
        let user = &body["data"]["user"];
        let [followers, following, articles, favorites] = user_truth(app, *id).await;
        expect(
            wrong,
            &format!("{name} followersCount"),
            &user["followersCount"],
            followers,
        );
        expect(
            wrong,
            &format!("{name} followingCount"),
            &user["followingCount"],
            following,
        );
        expect(
            wrong,
            &format!("{name} articles.totalCount"),
            &user["articles"]["totalCount"],
            articles,
        );
        expect(
            wrong,
            &format!("{name} favoriteArticles.totalCount"),
            &user["favoriteArticles"]["totalCount"],
            favorites,
        );
        let Some(token) = login(app, name).await else {
            wrong.push(format!("{name} is not banned but cannot sign in"));
            continue;
        };
        let body = app.graphql_as(&token, VIEWER_COUNTS, json!({})).await;
        let viewer = &body["data"]["viewer"];
        expect(
            wrong,
            &format!("{name} viewer followersCount"),
            &viewer["followersCount"],
            followers,
        );
        expect(
            wrong,
            &format!("{name} viewer followingCount"),
            &viewer["followingCount"],
            following,
        );
        expect(
            wrong,
            &format!("{name} viewer articles.totalCount"),
            &viewer["articles"]["totalCount"],
            articles,
        );
        expect(
            wrong,
            &format!("{name} viewer favoriteArticles.totalCount"),
            &viewer["favoriteArticles"]["totalCount"],
            favorites,
        );
        let drafts = count(
            app,
            &format!("articles WHERE author_id = {id} AND published_at IS NULL"),
        )
        .await;
        expect(
            wrong,
            &format!("{name} viewer drafts.totalCount"),
            &viewer["drafts"]["totalCount"],
            drafts,
        );
        expect(
            wrong,
            &format!("{name} articles(status: DRAFT).totalCount"),
            &body["data"]["ownDrafts"]["totalCount"],
            drafts,
        );
        for node in body["data"]["ownDrafts"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let slug = node["slug"].as_str().unwrap_or_default();
            let id = query(
                app,
                &format!("SELECT id FROM articles WHERE slug = '{slug}'"),
            )
            .await;
            let Some(id) = id.first().and_then(|row| row.try_get::<i64>("", "id").ok()) else {
                wrong.push(format!("draft {slug} listed but not found: {body}"));
                continue;
            };
            let (favorites, comments) = article_truth(app, id).await;
            expect(
                wrong,
                &format!("draft {slug} favoritesCount"),
                &node["favoritesCount"],
                favorites,
            );
            expect(
                wrong,
                &format!("draft {slug} commentCount"),
                &node["commentCount"],
                comments,
            );
            expect(
                wrong,
                &format!("draft {slug} comments.totalCount"),
                &node["comments"]["totalCount"],
                comments,
            );
        }
        let feed = count(
            app,
            &format!(
                "articles WHERE published_at IS NOT NULL AND author_id NOT IN {BANNED} \
                 AND author_id IN (SELECT followee_id FROM follows WHERE follower_id = {id})"
            ),
        )
        .await;
        expect(
            wrong,
            &format!("{name} feed.totalCount"),
            &body["data"]["feed"]["totalCount"],
            feed,
        );
    }
}

/// The list of every published article, each card's counts and its author's,
/// and the totals of the list under each filter.
async fn check_lists(app: &TestApp, wrong: &mut Vec<String>) {
    let visible =
        format!("articles a WHERE a.published_at IS NOT NULL AND a.author_id NOT IN {BANNED}");
    let body = app.graphql(LIST_COUNTS, json!({})).await;
    let list = &body["data"]["articles"];
    let total = count(app, &visible).await;
    assert!(total <= 100, "one page holds every article: {total}");
    expect(wrong, "articles.totalCount", &list["totalCount"], total);
    let nodes = list["nodes"].as_array().cloned().unwrap_or_default();
    if nodes.len() as i64 != total {
        wrong.push(format!(
            "articles lists {} of {total} articles: {body}",
            nodes.len()
        ));
    }
    for node in &nodes {
        let slug = node["slug"].as_str().unwrap_or_default();
        let id = query(
            app,
            &format!("SELECT id FROM articles WHERE slug = '{slug}'"),
        )
        .await;
        let Some(id) = id.first().and_then(|row| row.try_get::<i64>("", "id").ok()) else {
            wrong.push(format!("{slug} listed but not found"));
            continue;
        };
        let (favorites, comments) = article_truth(app, id).await;
        expect(
            wrong,
            &format!("card {slug} favoritesCount"),
            &node["favoritesCount"],
            favorites,
        );
        expect(
            wrong,
            &format!("card {slug} commentCount"),
            &node["commentCount"],
            comments,
        );
        expect(
            wrong,
            &format!("card {slug} comments.totalCount"),
            &node["comments"]["totalCount"],
            comments,
        );
        let author = &node["author"];
        let name = author["username"].as_str().unwrap_or_default();
        let user = named_rows(
            app,
            &format!("SELECT id, username AS name FROM users WHERE username = '{name}'"),
        )
        .await;
        let Some((user_id, _)) = user.first() else {
            wrong.push(format!("card {slug} has an unknown author: {node}"));
            continue;
        };
        let [followers, following, articles, favorite_articles] = user_truth(app, *user_id).await;
        let what = |field: &str| format!("card {slug} author {name} {field}");
        expect(
            wrong,
            &what("followersCount"),
            &author["followersCount"],
            followers,
        );
        expect(
            wrong,
            &what("followingCount"),
            &author["followingCount"],
            following,
        );
        expect(
            wrong,
            &what("articles.totalCount"),
            &author["articles"]["totalCount"],
            articles,
        );
        expect(
            wrong,
            &what("favoriteArticles.totalCount"),
            &author["favoriteArticles"]["totalCount"],
            favorite_articles,
        );
    }

    let mut filters = vec![(json!({}), String::new())];
    let tags = named_rows(app, "SELECT id, name FROM tags").await;
    for (_, tag) in tags
        .iter()
        .map(|(id, name)| (id, name.as_str()))
        .chain([(&0, "no-such-tag")])
    {
        filters.push((
            json!({ "tag": tag }),
            format!(
                " AND a.id IN (SELECT l.article_id FROM article_tags l JOIN tags t ON t.id = l.tag_id \
                 WHERE t.name = '{tag}')"
            ),
        ));
    }
    let users = named_rows(app, "SELECT id, username AS name FROM users").await;
    for (_, name) in &users {
        let by = format!(" AND a.author_id IN (SELECT id FROM users WHERE username = '{name}')");
        filters.push((json!({ "author": name }), by.clone()));
        filters.push((
            json!({ "favoritedBy": name }),
            format!(
                " AND a.id IN (SELECT f.article_id FROM favorites f JOIN users u ON u.id = f.user_id \
                 WHERE u.username = '{name}')"
            ),
        ));
        let tag = TAG_NAMES[name.len() % TAG_NAMES.len()];
        filters.push((
            json!({ "author": name, "tag": tag }),
            format!(
                "{by} AND a.id IN (SELECT l.article_id FROM article_tags l JOIN tags t ON t.id = l.tag_id \
                 WHERE t.name = '{tag}')"
            ),
        ));
    }
    for (filter, condition) in filters {
        let body = app
            .graphql(FILTERED_COUNT, json!({ "filter": filter }))
            .await;
        let truth = count(app, &format!("{visible}{condition}")).await;
        expect(
            wrong,
            &format!("articles(filter: {filter}).totalCount"),
            &body["data"]["articles"]["totalCount"],
            truth,
        );
    }
}

/// The popular tags: each with the published articles of authors who are not
/// banned, most first, none without any.
async fn check_tags(app: &TestApp, wrong: &mut Vec<String>) {
    let body = app.graphql(TAGS, json!({})).await;
    let shown: Vec<(String, i64)> = body["data"]["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("tags: {body}"))
        .iter()
        .map(|tag| {
            (
                tag["name"].as_str().unwrap_or_default().to_owned(),
                tag["articleCount"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let mut truth = Vec::new();
    for (id, name) in named_rows(app, "SELECT id, name FROM tags").await {
        let articles = count(
            app,
            &format!(
                "article_tags l JOIN articles a ON a.id = l.article_id \
                 WHERE l.tag_id = {id} AND a.published_at IS NOT NULL AND a.author_id NOT IN {BANNED}"
            ),
        )
        .await;
        if articles > 0 {
            truth.push((name, articles));
        }
    }
    let mut sorted = shown.clone();
    sorted.sort();
    truth.sort();
    if sorted != truth {
        wrong.push(format!(
            "tags: the API shows {shown:?}, COUNT(*) gives {truth:?}"
        ));
    }
    if shown.windows(2).any(|pair| pair[0].1 < pair[1].1) {
        wrong.push(format!("tags are not most used first: {shown:?}"));
    }
}
