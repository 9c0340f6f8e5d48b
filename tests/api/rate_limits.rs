//! Cost-based rate limiting: points per window per caller, GitHub's headers
//! and `rateLimit` field, 429 with Retry-After, a stricter sign-in budget, and
//! one budget shared by instances through Redis.

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{
    TEST_RATE_LIMIT_WINDOW_SECS, TestApp, TestRedis, WsClient, assert_error, header,
};

async fn post_as(app: &TestApp, token: Option<&str>, query: &str) -> reqwest::Response {
    app.post_graphql(token, query, json!({})).await
}

#[tokio::test]
async fn each_request_is_charged_and_the_budget_shows_in_headers_and_the_field() {
    let app = TestApp::spawn_configured(|c| c.protection.rate_limit_points = 100).await;
    let first = post_as(
        &app,
        None,
        "{ rateLimit { cost limit remaining used resetAt } }",
    )
    .await;
    assert_eq!(header(&first, "x-ratelimit-limit"), 100);
    assert_eq!(header(&first, "x-ratelimit-used"), 1);
    assert_eq!(header(&first, "x-ratelimit-remaining"), 99);
    let reset = header(&first, "x-ratelimit-reset");
    let body: Value = first.json().await.expect("json");
    let field = &body["data"]["rateLimit"];
    assert_eq!(field["cost"], 1);
    assert_eq!(field["remaining"], 99);
    let reset_at = chrono::DateTime::parse_from_rfc3339(field["resetAt"].as_str().expect("time"))
        .expect("rfc3339");
    assert_eq!(reset_at.timestamp() as u64, reset);

    // articles = 1 + 100 * edges; edges = 1 + node; node = 1 + slug + author;
    // author = 1 + username: 1 + 100 * (1 + (1 + 1 + 2)) = 501, which costs
    // ceil(501 / 100) = 6 points.
    let wide = post_as(
        &app,
        None,
        "{ articles(first: 100) { edges { node { slug author { username } } } } }",
    )
    .await;
    assert_eq!(header(&wide, "x-ratelimit-used"), 1 + 6);
}

#[tokio::test]
async fn a_spent_budget_is_refused_with_429_and_retry_after_per_caller() {
    let app = TestApp::spawn_configured(|c| {
        c.protection.rate_limit_points = 3;
        c.protection.rate_limit_mutation_cost = 2;
    })
    .await;
    let jake = app.register("jake").await;
    // jake's own budget: 3 points. A mutation costs 2, a read 1.
    let follow = "mutation { createArticle(input: { title: \"T\", description: \"d\", body: \"b\" }) { article { slug } } }";
    let mutation = post_as(&app, Some(&jake.token), follow).await;
    assert_eq!(mutation.status(), 200);
    assert_eq!(header(&mutation, "x-ratelimit-used"), 2);
    let read = post_as(&app, Some(&jake.token), "{ tags { name } }").await;
    assert_eq!(read.status(), 200, "just under: the last point is spent");
    assert_eq!(header(&read, "x-ratelimit-remaining"), 0);
    let refused = post_as(&app, Some(&jake.token), "{ tags { name } }").await;
    assert_eq!(refused.status(), 429, "just over");
    let retry_after = header(&refused, "retry-after");
    assert!(
        (1..=TEST_RATE_LIMIT_WINDOW_SECS).contains(&retry_after),
        "{retry_after}"
    );
    let body: Value = refused.json().await.expect("json");
    assert_error(&body, "RATE_LIMITED");
    assert!(body.get("data").is_none());

    // Anonymous callers have a budget of their own, per address.
    let anonymous = post_as(&app, None, "{ tags { name } }").await;
    assert_eq!(anonymous.status(), 200);
}

#[tokio::test]
async fn sign_in_attempts_have_a_stricter_budget_per_address() {
    let app = TestApp::spawn_configured(|c| c.protection.auth_rate_limit_attempts = 3).await;
    let login = "mutation { login(input: { email: \"nobody@example.org\", password: \"wrong password\" }) { token } }";
    for attempt in 1..=3 {
        let response = post_as(&app, None, login).await;
        assert_eq!(response.status(), 200, "attempt {attempt}");
        let body: Value = response.json().await.expect("json");
        assert_error(&body, "UNAUTHENTICATED");
    }
    let response = post_as(&app, None, login).await;
    assert_eq!(response.status(), 429);
    let body: Value = response.json().await.expect("json");
    assert_error(&body, "RATE_LIMITED");
    // Reads go on.
    assert_eq!(post_as(&app, None, "{ tags { name } }").await.status(), 200);
}

#[tokio::test]
async fn two_instances_draw_on_one_budget_through_redis() {
    let redis = TestRedis::start().await;
    let a =
        TestApp::spawn_with_redis_configured(&redis.url, |c| c.protection.rate_limit_points = 4)
            .await;
    let b = a.spawn_peer().await;
    for (i, app) in [&a, &b, &a, &b].iter().enumerate() {
        let response = post_as(app, None, "{ tags { name } }").await;
        assert_eq!(response.status(), 200, "request {i}");
        assert_eq!(header(&response, "x-ratelimit-used"), i as u64 + 1);
    }
    assert_eq!(post_as(&b, None, "{ tags { name } }").await.status(), 429);
    assert_eq!(post_as(&a, None, "{ tags { name } }").await.status(), 429);
}

#[tokio::test]
async fn concurrent_charges_through_redis_spend_the_budget_exactly() {
    let redis = TestRedis::start().await;
    let app =
        TestApp::spawn_with_redis_configured(&redis.url, |c| c.protection.rate_limit_points = 25)
            .await;
    let responses =
        futures_util::future::join_all((0..60).map(|_| post_as(&app, None, "{ tags { name } }")))
            .await;
    let allowed: Vec<u64> = responses
        .iter()
        .filter(|response| response.status() == 200)
        .map(|response| header(response, "x-ratelimit-used"))
        .collect();
    let refused = responses.iter().filter(|r| r.status() == 429).count();
    // Charges sent together are added together; a sum that does not fit is
    // charged one by one, so exactly the budget is spent.
    assert_eq!((allowed.len(), refused), (25, 35), "used: {allowed:?}");
    assert_eq!(allowed.iter().max(), Some(&25));
    let rounds = app
        .state
        .rate_limits
        .charge_rounds()
        .expect("a remote store");
    assert!((1..60).contains(&rounds), "60 charges took {rounds} rounds");
    assert_eq!(post_as(&app, None, "{ tags { name } }").await.status(), 429);
}

#[tokio::test]
async fn leases_pay_most_charges_without_a_round_and_other_instances_count_them_as_used() {
    let redis = TestRedis::start().await;
    // A lease of min(10, 1% of 1000) = 10 points.
    let a = TestApp::spawn_with_redis_configured(&redis.url, |c| {
        c.protection.rate_limit_points = 1_000;
        c.protection.rate_limit_lease_points = 10;
    })
    .await;
    let b = a.spawn_peer().await;
    for used in 1..=25 {
        let response = post_as(&a, None, "{ tags { name } }").await;
        assert_eq!(response.status(), 200, "request {used}");
        assert_eq!(header(&response, "x-ratelimit-used"), used);
        assert_eq!(header(&response, "x-ratelimit-remaining"), 1_000 - used);
    }
    // A round took 1 point for its request and 10 ahead, and a lease below 5
    // was topped up in the background: 25 charges, a few rounds.
    let rounds = a.state.rate_limits.charge_rounds().expect("a remote store");
    assert!((1..=8).contains(&rounds), "25 charges took {rounds} rounds");
    // Redis counts the 25 points a spent and up to 10 it holds; b sees them
    // all as used, and takes 1 + 10 for itself.
    let response = post_as(&b, None, "{ tags { name } }").await;
    let used = header(&response, "x-ratelimit-used");
    assert!((26..=36).contains(&used), "b sees {used} used");
    assert_eq!(b.state.rate_limits.charge_rounds(), Some(1));
}

#[tokio::test]
async fn concurrent_charges_paid_from_leases_spend_the_budget_exactly() {
    let redis = TestRedis::start().await;
    // A lease of min(1000, 1% of 300) = 3 points.
    let app =
        TestApp::spawn_with_redis_configured(&redis.url, |c| c.protection.rate_limit_points = 300)
            .await;
    let responses: Vec<(u16, u64)> = futures_util::stream::iter(0..330)
        .map(|_| async {
            let response = post_as(&app, None, "{ tags { name } }").await;
            let used = header(&response, "x-ratelimit-used");
            (response.status().as_u16(), used)
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut allowed: Vec<u64> = responses
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, used)| *used)
        .collect();
    let refused = responses
        .iter()
        .filter(|(status, _)| *status == 429)
        .count();
    assert_eq!((allowed.len(), refused), (300, 30));
    // Each admitted request sees the count after its own charge; two racing
    // for the last points of a lease may see the same one.
    assert!(allowed.iter().all(|used| (1..=300).contains(used)));
    assert_eq!(allowed.iter().max(), Some(&300));
    allowed.sort_unstable();
    allowed.dedup();
    assert!(allowed.len() > 250, "{} distinct counts", allowed.len());
    let rounds = app
        .state
        .rate_limits
        .charge_rounds()
        .expect("a remote store");
    assert!(rounds < 150, "300 charges took {rounds} rounds");
}

#[tokio::test]
async fn instances_drawing_on_one_budget_through_leases_never_admit_more_than_it() {
    let redis = TestRedis::start().await;
    let a =
        TestApp::spawn_with_redis_configured(&redis.url, |c| c.protection.rate_limit_points = 300)
            .await;
    let b = a.spawn_peer().await;
    let statuses: Vec<u16> = futures_util::stream::iter(0..330)
        .map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            async move {
                post_as(app, None, "{ tags { name } }")
                    .await
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let allowed = statuses.iter().filter(|status| **status == 200).count();
    // A lease is 3 points here: at most that waits unspent on each instance
    // when the budget runs dry elsewhere.
    assert!((294..=300).contains(&allowed), "{allowed} admitted");
    assert_eq!(
        statuses.len() - allowed,
        statuses.iter().filter(|s| **s == 429).count()
    );
}

#[tokio::test]
async fn operations_over_websocket_draw_on_the_same_budget() {
    // Signing up is not charged here: with Redis, the address's budget is
    // shared with the instance below, whose first verification of the token
    // costs the address a point.
    let base = TestApp::spawn_configured(|c| c.protection.rate_limit_enabled = false).await;
    let jake = base.register("jake").await;
    let app = base
        .spawn_peer_configured(|c| {
            c.protection.rate_limit_enabled = true;
            c.protection.rate_limit_points = 3;
        })
        .await;
    // One point spent over HTTP.
    let http = post_as(&app, Some(&jake.token), "{ tags { name } }").await;
    assert_eq!(header(&http, "x-ratelimit-used"), 1);

    let mut client = WsClient::connect(&app, "graphql-transport-ws").await;
    client.init(Some(&jake.token)).await;
    let query = "{ rateLimit { used remaining } }";
    for (id, used) in [("a", 2), ("b", 3)] {
        client
            .send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
            .await;
        let next = client.next().await.expect("a result");
        assert_eq!(next["payload"]["data"]["rateLimit"]["used"], used, "{next}");
        assert_eq!(client.next().await.expect("complete")["type"], "complete");
    }
    client
        .send(json!({ "id": "c", "type": "subscribe", "payload": { "query": query } }))
        .await;
    let refused = client.next().await.expect("a refusal");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "RATE_LIMITED",
        "{refused}"
    );
    // And the budget spent over WebSocket is spent over HTTP too.
    assert_eq!(
        post_as(&app, Some(&jake.token), "{ tags { name } }")
            .await
            .status(),
        429
    );
}
