//! The cache across instances and through Redis failures: two servers share one
//! database and one private Redis; writes through one are read through the
//! other at once, and a frozen or restarted Redis never fails a request nor
//! leaves stale data behind.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{TestApp, TestRedis, WsClient};

const ARTICLE: &str = "query($s: String!) { article(slug: $s) { title body tags } }";
const UPDATE: &str = "mutation($s: String!, $b: String!) { updateArticle(input: { slug: $s, body: $b }) { article { body } } }";
const PROFILE: &str = "query($u: String!) { user(username: $u) { bio } }";
const LIST: &str = "query($t: String) { articles(first: 5, filter: { tag: $t }) { totalCount nodes { title } } tags { name articleCount } }";

#[tokio::test]
async fn repeated_reads_are_served_from_the_cache() {
    let redis = TestRedis::start().await;
    let app = TestApp::spawn_with_redis(&redis.url).await;
    let jake = app.register("jake").await;
    let slug = app.create_article(&jake, "Cached", &[], false).await;
    app.graphql(ARTICLE, json!({ "s": slug })).await;
    let hits = app.state.cache.stats.hits.load(Ordering::Relaxed);
    let statements = app.statements();
    let again = app.graphql(ARTICLE, json!({ "s": slug })).await;
    assert_eq!(again["data"]["article"]["title"], "Cached");
    assert!(
        app.state.cache.stats.hits.load(Ordering::Relaxed) > hits,
        "the second read was not a hit"
    );
    assert!(
        app.statements() - statements <= 1,
        "the article came from the database again"
    );
}

#[tokio::test]
async fn a_write_through_one_instance_is_read_through_another_at_once() {
    let redis = TestRedis::start().await;
    let a = TestApp::spawn_with_redis(&redis.url).await;
    let b = a.spawn_peer().await;
    let jake = a.register("jake").await;
    let slug = a.create_article(&jake, "Shared", &["one"], false).await;

    // Warm B's view of everything.
    assert_eq!(
        b.graphql(ARTICLE, json!({ "s": slug })).await["data"]["article"]["body"],
        "The text."
    );
    assert_eq!(
        b.graphql(PROFILE, json!({ "u": "jake" })).await["data"]["user"]["bio"],
        ""
    );
    let listed = b.graphql(LIST, json!({ "t": "one" })).await;
    assert_eq!(listed["data"]["articles"]["totalCount"], 1);

    a.graphql_as(
        &jake.token,
        UPDATE,
        json!({ "s": slug, "b": "Edited on A" }),
    )
    .await;
    assert_eq!(
        b.graphql(ARTICLE, json!({ "s": slug })).await["data"]["article"]["body"],
        "Edited on A"
    );

    a.graphql_as(
        &jake.token,
        "mutation { updateViewer(input: { bio: \"Now on A\" }) { user { bio } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        b.graphql(PROFILE, json!({ "u": "jake" })).await["data"]["user"]["bio"],
        "Now on A"
    );

    a.create_article(&jake, "Second", &["one"], false).await;
    let listed = b.graphql(LIST, json!({ "t": "one" })).await;
    assert_eq!(listed["data"]["articles"]["totalCount"], 2, "{listed}");
    assert_eq!(
        listed["data"]["tags"],
        json!([{ "name": "one", "articleCount": 2 }])
    );

    a.graphql_as(
        &jake.token,
        "mutation($s: String!) { deleteArticle(input: { slug: $s }) { deletedArticleId } }",
        json!({ "s": slug }),
    )
    .await;
    assert!(b.graphql(ARTICLE, json!({ "s": slug })).await["data"]["article"].is_null());
}

#[tokio::test]
async fn an_event_on_one_instance_reaches_subscribers_on_another() {
    let redis = TestRedis::start().await;
    let a = TestApp::spawn_with_redis(&redis.url).await;
    let b = a.spawn_peer().await;
    let jake = a.register("jake").await;
    tokio::time::sleep(Duration::from_millis(500)).await; // both listeners are up
    let mut client = WsClient::connect(&b, "graphql-transport-ws").await;
    client.init(None).await;
    client
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { articlePublished { title } }" } }))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.create_article(&jake, "From A", &[], false).await;
    let event = client.next().await.expect("an event");
    assert_eq!(
        event["payload"]["data"]["articlePublished"]["title"], "From A",
        "{event}"
    );
}

#[tokio::test]
async fn a_frozen_redis_fails_no_request_and_leaves_nothing_stale() {
    let redis = TestRedis::start().await;
    let a = TestApp::spawn_with_redis(&redis.url).await;
    let b = a.spawn_peer().await;
    let idle = a.spawn_peer().await;
    let jake = a.register("jake").await;
    let slug = a.create_article(&jake, "Frozen", &[], false).await;
    assert_eq!(
        b.graphql(ARTICLE, json!({ "s": slug })).await["data"]["article"]["body"],
        "The text."
    );
    assert_eq!(
        idle.graphql(ARTICLE, json!({ "s": slug })).await["data"]["article"]["body"],
        "The text."
    );

    redis.freeze();
    let started = Instant::now();
    let write = a
        .graphql_as(
            &jake.token,
            UPDATE,
            json!({ "s": slug, "b": "Written while frozen" }),
        )
        .await;
    assert_eq!(
        write["data"]["updateArticle"]["article"]["body"], "Written while frozen",
        "{write}"
    );
    for _ in 0..5 {
        let read = b.graphql(ARTICLE, json!({ "s": slug })).await;
        assert_eq!(
            read["data"]["article"]["body"], "Written while frozen",
            "{read}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "requests waited on a frozen Redis: {:?}",
        started.elapsed()
    );
    assert!(a.state.cache.stats.failures.load(Ordering::Relaxed) > 0);

    redis.thaw();
    tokio::time::sleep(Duration::from_millis(1200)).await; // past the back-off
    // The idle instance saw no failure; the writer's healer drops the old entries.
    for app in [&idle, &b, &a] {
        let read = app.graphql(ARTICLE, json!({ "s": slug })).await;
        assert_eq!(
            read["data"]["article"]["body"], "Written while frozen",
            "stale after Redis came back: {read}"
        );
    }
}

#[tokio::test]
async fn subscriptions_resume_when_redis_returns() {
    let mut redis = TestRedis::start().await;
    let a = TestApp::spawn_with_redis(&redis.url).await;
    let b = a.spawn_peer().await;
    let jake = a.register("jake").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut client = WsClient::connect(&b, "graphql-transport-ws").await;
    client.init(None).await;
    client
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { articlePublished { title } }" } }))
        .await;

    redis.restart().await;
    // Reads and writes work throughout; the listener reconnects within a few seconds.
    let mut delivered = None;
    for attempt in 0..10 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        a.create_article(&jake, &format!("After restart {attempt}"), &[], false)
            .await;
        if let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(300), client.next()).await
        {
            delivered = Some(event);
            break;
        }
    }
    let event = delivered.expect("an event after Redis came back");
    assert!(
        event["payload"]["data"]["articlePublished"]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("After restart")),
        "{event}"
    );
}

#[tokio::test]
async fn a_revocation_announced_over_redis_reaches_another_instance_within_a_second() {
    let redis = TestRedis::start().await;
    let a = TestApp::spawn_with_redis(&redis.url).await;
    let b = a.spawn_peer().await;
    let jake = a.register("jake").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    const VIEWER: &str = "{ viewer { username } }";
    assert_eq!(
        b.graphql_as(&jake.token, VIEWER, json!({})).await["data"]["viewer"]["username"],
        "jake"
    );
    a.graphql_as(
        &jake.token,
        "mutation { revokeAllSessions { user { username } } }",
        json!({}),
    )
    .await;
    let started = Instant::now();
    loop {
        let body = b.graphql_as(&jake.token, VIEWER, json!({})).await;
        if body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "instance B still accepts the token: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
