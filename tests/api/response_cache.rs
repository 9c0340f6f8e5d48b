//! Whole responses to anonymous queries: served from the cache without SQL,
//! fresh after any mutation on any instance, never shared when they depend on
//! the caller, and charged to the caller's budget like a query that ran.

use std::sync::atomic::Ordering;
use std::time::Duration;

use conduit::cache::Generation;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestRedis, WsClient, assert_error, header};

const HOME: &str = "query($first: Int!) { articles(first: $first) { nodes { slug favoritesCount commentCount tags author { username bio } } } }";
const FAVORITE: &str =
    "mutation($s: String!) { favoriteArticle(input: { slug: $s }) { article { favoritesCount } } }";

#[tokio::test]
async fn an_anonymous_query_is_answered_again_without_sql_until_a_mutation() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let slug = app
        .create_article(&jake, "Cached whole", &["one"], false)
        .await;

    let first = app.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(first["data"]["articles"]["nodes"][0]["favoritesCount"], 0);
    let statements = app.statements();
    let again = app.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(again, first);
    assert_eq!(
        app.statements(),
        statements,
        "the same answer ran SQL again"
    );

    // Other variables are another response.
    app.graphql(HOME, json!({ "first": 6 })).await;
    assert!(app.statements() > statements);

    // A favorite bumps no cached read of its own, yet the count shows at once.
    let favorited = app
        .graphql_as(&jake.token, FAVORITE, json!({ "s": slug }))
        .await;
    assert_eq!(
        favorited["data"]["favoriteArticle"]["article"]["favoritesCount"],
        1
    );
    let fresh = app.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(
        fresh["data"]["articles"]["nodes"][0]["favoritesCount"], 1,
        "{fresh}"
    );

    // So does a comment, a profile change, and the author's own bio.
    app.graphql_as(
        &jake.token,
        "mutation($s: String!) { addComment(input: { articleSlug: $s, body: \"Hi\" }) { comment { id } } }",
        json!({ "s": slug }),
    )
    .await;
    app.graphql_as(
        &jake.token,
        "mutation { updateViewer(input: { bio: \"New bio\" }) { user { bio } } }",
        json!({}),
    )
    .await;
    let fresh = app.graphql(HOME, json!({ "first": 5 })).await;
    let node = &fresh["data"]["articles"]["nodes"][0];
    assert_eq!(node["commentCount"], 1, "{fresh}");
    assert_eq!(node["author"]["bio"], "New bio", "{fresh}");
}

#[tokio::test]
async fn a_mutation_on_one_instance_refreshes_the_answers_of_another() {
    let redis = TestRedis::start().await;
    let a = TestApp::spawn_with_redis(&redis.url).await;
    let b = a.spawn_peer().await;
    let jake = a.register("jake").await;
    let slug = a.create_article(&jake, "Seen twice", &[], false).await;
    let before = b.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(before["data"]["articles"]["nodes"][0]["favoritesCount"], 0);
    let statements = b.statements();
    assert_eq!(b.graphql(HOME, json!({ "first": 5 })).await, before);
    assert_eq!(b.statements(), statements, "B answered from the cache");

    a.graphql_as(&jake.token, FAVORITE, json!({ "s": slug }))
        .await;
    let after = b.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(
        after["data"]["articles"]["nodes"][0]["favoritesCount"], 1,
        "{after}"
    );
}

#[tokio::test]
async fn answers_that_depend_on_the_caller_are_never_shared() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    app.create_article(&jake, "Personal", &[], false).await;

    // rateLimit shows the caller's own budget, which every request spends.
    let budget = "{ rateLimit { used } tags { name } }";
    let first = app.graphql(budget, json!({})).await;
    let second = app.graphql(budget, json!({})).await;
    let used = |body: &Value| body["data"]["rateLimit"]["used"].as_u64().expect("used");
    assert_eq!(used(&second), used(&first) + 1, "{first} then {second}");

    // A signed-in caller's reads run every time.
    let viewer = "{ articles(first: 5) { nodes { viewerHasFavorited } } }";
    app.graphql_as(&jake.token, viewer, json!({})).await;
    let statements = app.statements();
    app.graphql_as(&jake.token, viewer, json!({})).await;
    assert!(app.statements() > statements, "a signed-in read was shared");

    // Nor are failed answers: the error is reported again, from a fresh run.
    let failing = "{ feed(first: 5) { nodes { slug } } }";
    assert_error(&app.graphql(failing, json!({})).await, "UNAUTHENTICATED");
    let hits = app.state.cache.stats.hits.load(Ordering::Relaxed);
    assert_error(&app.graphql(failing, json!({})).await, "UNAUTHENTICATED");
    assert_eq!(
        app.state.cache.stats.hits.load(Ordering::Relaxed),
        hits,
        "a failed answer came from the cache"
    );
}

#[tokio::test]
async fn a_cached_answer_is_charged_like_one_that_ran() {
    let app = TestApp::spawn_configured(|c| c.protection.rate_limit_points = 3).await;
    let query = "{ tags { name } }";
    let hits = app.state.cache.stats.hits.load(Ordering::Relaxed);
    for used in 1..=3 {
        let response = app.post_graphql(None, query, json!({})).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "x-ratelimit-used"), used);
    }
    let refused = app.post_graphql(None, query, json!({})).await;
    assert_eq!(refused.status(), 429);
    // The second, third and refused fourth requests were cached answers.
    assert_eq!(app.state.cache.stats.hits.load(Ordering::Relaxed) - hits, 3);
    let body: Value = refused.json().await.expect("json");
    assert_error(&body, "RATE_LIMITED");
}

#[tokio::test]
async fn a_mutation_over_websocket_refreshes_the_answers_too() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let slug = app
        .create_article(&jake, "Over the socket", &[], false)
        .await;
    let before = app.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(before["data"]["articles"]["nodes"][0]["favoritesCount"], 0);

    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(Some(&jake.token)).await;
    client
        .send(json!({ "id": "f", "type": "subscribe", "payload": { "query": FAVORITE, "variables": { "s": slug } } }))
        .await;
    let next = client.next().await.expect("a result");
    assert_eq!(
        next["payload"]["data"]["favoriteArticle"]["article"]["favoritesCount"], 1,
        "{next}"
    );
    assert_eq!(client.next().await.expect("complete")["type"], "complete");

    let after = app.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(
        after["data"]["articles"]["nodes"][0]["favoritesCount"], 1,
        "{after}"
    );
}

/// Reads of the generations an instance sent before serving its copies.
fn freshness_reads(app: &TestApp) -> u64 {
    app.state
        .near_responses
        .as_ref()
        .expect("a shared cache keeps copies")
        .freshness_reads()
}

/// Waits until `app` has listened on its watch and holds a lease on what it
/// heard (a beat of its own came back).
async fn holds_a_lease(app: &TestApp) {
    for _ in 0..200 {
        if app.state.cache.heard_response_tags().is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the instance never held a lease on its watch");
}

/// Counts of an instance's watch.
fn watch_stats(app: &TestApp) -> &conduit::cache::watch::WatchStats {
    &app.state.cache.watch().expect("a watch with redis").stats
}

#[tokio::test]
async fn a_write_waits_for_every_instance_to_hear_it_and_at_most_a_lease_for_one_that_does_not() {
    let redis = TestRedis::start().await;
    let lease = Duration::from_millis(400);
    let a = TestApp::spawn_with_redis_configured(&redis.url, |c| {
        c.cache_copy_lease_ms = lease.as_millis() as u64
    })
    .await;
    let b = a.spawn_peer().await;
    let jake = a.register("jake").await;
    let slug = a.create_article(&jake, "Heard", &[], false).await;
    holds_a_lease(&a).await;
    holds_a_lease(&b).await;
    // B keeps a copy of the page, which it serves on what it heard.
    b.graphql(HOME, json!({ "first": 5 })).await;
    let hits = near_hits(&b);
    let before = b.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(before["data"]["articles"]["nodes"][0]["favoritesCount"], 0);
    assert_eq!(near_hits(&b), hits + 1, "B did not answer from its copy");

    // Both instances confirm: the write does not wait out a lease.
    let unconfirmed = watch_stats(&a).unconfirmed.load(Ordering::Relaxed);
    a.graphql_as(&jake.token, FAVORITE, json!({ "s": slug }))
        .await;
    assert_eq!(
        watch_stats(&a).unconfirmed.load(Ordering::Relaxed),
        unconfirmed
    );
    // B heard the write before A answered it: it knows its copy is out of
    // date without a read.
    let reads = freshness_reads(&b);
    let after = b.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(
        after["data"]["articles"]["nodes"][0]["favoritesCount"], 1,
        "{after}"
    );
    assert_eq!(freshness_reads(&b), reads);
    assert_eq!(near_hits(&b), hits + 1, "B served its out-of-date copy");
    assert_eq!(b.graphql(HOME, json!({ "first": 5 })).await, after);
    assert_eq!(near_hits(&b), hits + 2, "B did not keep the fresh answer");

    // A listener that never confirms: the write waits a whole lease for it.
    let channel = a.state.cache.watch().expect("watch").channel().to_owned();
    let client = redis::Client::open(redis.url.as_str()).expect("redis url");
    let mut silent = client.get_async_pubsub().await.expect("pub/sub");
    silent.subscribe(&channel).await.expect("subscribed");
    let started = std::time::Instant::now();
    a.graphql_as(
        &jake.token,
        "mutation($s: String!) { unfavoriteArticle(input: { slug: $s }) { article { favoritesCount } } }",
        json!({ "s": slug }),
    )
    .await;
    assert!(
        started.elapsed() >= lease,
        "the write did not wait for the silent listener"
    );
    assert_eq!(
        watch_stats(&a).unconfirmed.load(Ordering::Relaxed),
        unconfirmed + 1
    );
    let after = b.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(
        after["data"]["articles"]["nodes"][0]["favoritesCount"], 0,
        "{after}"
    );
    assert_eq!(near_hits(&b), hits + 2, "B served its out-of-date copy");

    // Once it stops listening, writes are confirmed again.
    drop(silent);
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.graphql_as(&jake.token, FAVORITE, json!({ "s": slug }))
        .await;
    assert_eq!(
        watch_stats(&a).unconfirmed.load(Ordering::Relaxed),
        unconfirmed + 1
    );
}

#[tokio::test]
async fn an_instance_that_lost_its_watch_reads_the_generations_until_it_listens_again() {
    let redis = TestRedis::start().await;
    let a = TestApp::spawn_with_redis(&redis.url).await;
    let b = a.spawn_peer().await;
    let jake = a.register("jake").await;
    let slug = a.create_article(&jake, "Cut off", &[], false).await;
    let first = a.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(first["data"]["articles"]["nodes"][0]["favoritesCount"], 0);
    holds_a_lease(&a).await;
    let listens = watch_stats(&a).listens.load(Ordering::Relaxed);

    // Redis drops every listener: A forgets what it heard at once.
    let client = redis::Client::open(redis.url.as_str()).expect("redis url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", "pubsub"])
        .query_async::<()>(&mut connection)
        .await
        .expect("listeners dropped");
    for _ in 0..100 {
        if a.state.cache.heard_response_tags().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(a.state.cache.heard_response_tags(), None);

    // A write on B meanwhile is seen on A, which reads the generations.
    b.graphql_as(&jake.token, FAVORITE, json!({ "s": slug }))
        .await;
    let reads = freshness_reads(&a);
    let after = a.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(
        after["data"]["articles"]["nodes"][0]["favoritesCount"], 1,
        "{after}"
    );
    assert!(
        freshness_reads(&a) > reads,
        "A served a copy without a lease"
    );

    // A listens again, reads the generations once, and serves on what it hears.
    holds_a_lease(&a).await;
    assert!(watch_stats(&a).listens.load(Ordering::Relaxed) > listens);
    let reads = freshness_reads(&a);
    let hits = near_hits(&a);
    assert_eq!(a.graphql(HOME, json!({ "first": 5 })).await, after);
    assert_eq!((near_hits(&a), freshness_reads(&a)), (hits + 1, reads));
}

/// Requests answered from an instance's own copy of a response.
fn near_hits(app: &TestApp) -> u64 {
    app.state
        .near_responses
        .as_ref()
        .expect("a shared cache keeps copies")
        .hits
        .load(Ordering::Relaxed)
}

#[tokio::test]
async fn an_instance_serves_its_own_copy_until_any_instance_writes() {
    let redis = TestRedis::start().await;
    let a = TestApp::spawn_with_redis(&redis.url).await;
    let b = a.spawn_peer().await;
    let jake = a.register("jake").await;
    let slug = a.create_article(&jake, "Kept near", &[], false).await;

    let first = a.graphql(HOME, json!({ "first": 5 })).await;
    holds_a_lease(&a).await;
    let (statements, hits, reads) = (a.statements(), near_hits(&a), freshness_reads(&a));
    assert_eq!(a.graphql(HOME, json!({ "first": 5 })).await, first);
    assert_eq!(near_hits(&a), hits + 1, "A did not answer from its copy");
    assert_eq!(a.statements(), statements);
    assert_eq!(
        freshness_reads(&a),
        reads,
        "A read the generations although it holds a lease on what it heard"
    );

    // A write on B makes A's copy out of date: A runs the query again.
    b.graphql_as(&jake.token, FAVORITE, json!({ "s": slug }))
        .await;
    let after = a.graphql(HOME, json!({ "first": 5 })).await;
    assert_eq!(
        after["data"]["articles"]["nodes"][0]["favoritesCount"], 1,
        "{after}"
    );
    assert_eq!(near_hits(&a), hits + 1, "an out-of-date copy was served");
    // The fresh answer is A's copy from now on.
    assert_eq!(a.graphql(HOME, json!({ "first": 5 })).await, after);
    assert_eq!(near_hits(&a), hits + 2);
}

#[tokio::test]
async fn requests_that_arrive_together_share_the_reads_of_the_generations() {
    let redis = TestRedis::start().await;
    // Without a watch, every copy is checked by a read of the generations.
    let app = TestApp::spawn_with_redis_configured(&redis.url, |c| c.cache_copy_lease_ms = 0).await;
    let jake = app.register("jake").await;
    app.create_article(&jake, "Read together", &[], false).await;
    let first = app.graphql(HOME, json!({ "first": 5 })).await;
    let near = app.state.near_responses.as_ref().expect("copies");
    let (hits, reads) = (near_hits(&app), near.freshness_reads());
    let answers =
        futures_util::future::join_all((0..40).map(|_| app.graphql(HOME, json!({ "first": 5 }))))
            .await;
    assert!(answers.iter().all(|answer| *answer == first));
    assert_eq!(near_hits(&app), hits + 40, "not every answer was the copy");
    let shared = near.freshness_reads() - reads;
    assert!(
        (1..40).contains(&shared),
        "40 answers took {shared} reads of the generations"
    );
}

#[tokio::test]
async fn a_copy_found_out_of_date_is_charged_once() {
    let redis = TestRedis::start().await;
    let app =
        TestApp::spawn_with_redis_configured(&redis.url, |c| c.protection.rate_limit_points = 4)
            .await;
    let query = "{ tags { name } }";
    let used = |response: &reqwest::Response| header(response, "x-ratelimit-used");
    let first = app.post_graphql(None, query, json!({})).await;
    assert_eq!(used(&first), 1);
    let hits = near_hits(&app);
    let second = app.post_graphql(None, query, json!({})).await;
    assert_eq!((used(&second), near_hits(&app)), (2, hits + 1));

    // The copy is out of date (and so are the cached tags): the caller is
    // charged while the generations are read, and the query that runs then
    // is not charged again.
    app.state.cache.invalidate(&[Generation::tags()]).await;
    let statements = app.statements();
    let third = app.post_graphql(None, query, json!({})).await;
    assert_eq!(used(&third), 3);
    assert!(app.statements() > statements, "the query did not run again");
    assert_eq!(near_hits(&app), hits + 1);

    let fourth = app.post_graphql(None, query, json!({})).await;
    assert_eq!((used(&fourth), near_hits(&app)), (4, hits + 2));
    // A copy is refused like any answer the budget cannot pay for.
    let refused = app.post_graphql(None, query, json!({})).await;
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.expect("json");
    assert_error(&body, "RATE_LIMITED");
}
