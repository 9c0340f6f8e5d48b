//! The HTTP surface: malformed bodies, GraphiQL, health probes, request ids.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn a_malformed_json_body_is_a_400_with_a_code() {
    let app = TestApp::spawn().await;
    let response = app.post_raw("{\"query\": ", &[]).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_error(&body, "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_document_that_does_not_parse_or_validate_has_a_code() {
    let app = TestApp::spawn().await;
    assert_error(
        &app.graphql("{ articles { ", json!({})).await,
        "BAD_USER_INPUT",
    );
    assert_error(
        &app.graphql("{ noSuchField }", json!({})).await,
        "BAD_USER_INPUT",
    );
    assert_error(
        &app.graphql(
            "query($n: Int!) { tags(first: $n) { name } }",
            json!({ "n": "ten" }),
        )
        .await,
        "BAD_USER_INPUT",
    );
}

#[tokio::test]
async fn get_graphql_serves_graphiql() {
    let app = TestApp::spawn().await;
    let response = reqwest::Client::new()
        .get(format!("{}/graphql", app.address))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("html");
    assert!(
        html.contains("GraphiQL.createFetcher"),
        "not GraphiQL: {}",
        &html[..html.len().min(200)]
    );
    // Everything the page loads comes from the gateway: it works offline.
    let mut urls: Vec<&str> = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            urls.push(&rest[..rest.find('"').expect("closing quote")]);
        }
    }
    assert_eq!(urls.len(), 5, "{urls:?}");
    for url in &urls {
        assert!(
            url.starts_with("/graphiql/"),
            "{url} is not served by the gateway"
        );
        let asset = reqwest::get(format!("{}{url}", app.address))
            .await
            .expect("asset");
        assert_eq!(asset.status(), 200, "{url}");
        let content_type = asset.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let kind = if url.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(content_type.starts_with(kind), "{url}: {content_type}");
        assert!(
            asset.headers()["cache-control"]
                .to_str()
                .expect("ascii")
                .contains("immutable")
        );
        assert!(
            asset.bytes().await.expect("body").len() > 10_000,
            "{url} is not the bundle"
        );
    }
    let elsewhere = urls[0].replacen("/graphiql/", "/graphiql/older-", 1);
    let missing = reqwest::get(format!("{}{elsewhere}", app.address))
        .await
        .expect("get");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn health_probes_answer_and_every_response_has_a_request_id() {
    let app = TestApp::spawn().await;
    let live = reqwest::get(format!("{}/healthz", app.address))
        .await
        .expect("healthz");
    assert_eq!(live.status(), 200);
    let ready = reqwest::get(format!("{}/readyz", app.address))
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    // A request without an id is given a random UUID, a new one each time.
    let generated: Vec<uuid::Uuid> = [&live, &ready]
        .iter()
        .map(|response| {
            let id = response.headers()["x-request-id"].to_str().expect("text");
            uuid::Uuid::parse_str(id).expect("a UUID")
        })
        .collect();
    assert!(generated.iter().all(|id| id.get_version_num() == 4));
    assert_ne!(generated[0], generated[1]);
    let given = app
        .post_raw(
            json!({ "query": "{ tags { name } }" }).to_string(),
            &[("x-request-id", "abc-123")],
        )
        .await;
    assert_eq!(given.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn an_internal_error_shows_the_code_and_request_id_but_no_sql() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    app.create_article(&jake, "Fine", &[], false).await;
    // Break the database under the running server.
    app.state
        .db
        .execute_unprepared("DROP TABLE article_tags")
        .await
        .expect("drop");

    let response = app
        .post_raw(
            json!({ "query": "{ articles { nodes { title tags } } }" }).to_string(),
            &[],
        )
        .await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body: Value = response.json().await.expect("json");
    assert_error(&body, "INTERNAL");
    let error = &body["errors"][0];
    assert_eq!(error["message"], "internal error");
    assert_eq!(error["extensions"]["requestId"], request_id.as_str());
    let text = body.to_string().to_lowercase();
    assert!(
        !text.contains("article_tags") && !text.contains("select") && !text.contains("sql"),
        "{body}"
    );
}

/// The value of counter `name` in a Prometheus text body.
fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} missing from {text}"))
        .parse()
        .expect("a number")
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_only() {
    let app = TestApp::spawn().await;
    let public = reqwest::get(format!("{}/metrics", app.address))
        .await
        .expect("an answer");
    assert_eq!(public.status(), 404);
    let own = reqwest::get(format!("{}/metrics", app.metrics_address))
        .await
        .expect("an answer");
    assert_eq!(own.status(), 200);
    assert!(
        own.text()
            .await
            .expect("text")
            .contains("conduit_sql_statements_total")
    );
    let other = reqwest::get(format!("{}/graphql", app.metrics_address))
        .await
        .expect("an answer");
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves nothing else"
    );
}

#[tokio::test]
async fn metrics_count_sql_statements_and_cache_reads() {
    let app = TestApp::spawn().await;
    let metrics = || async {
        let response = reqwest::get(format!("{}/metrics", app.metrics_address))
            .await
            .expect("metrics");
        assert_eq!(response.status(), 200);
        response.text().await.expect("text")
    };
    let before = metrics().await;
    assert!(before.contains("# TYPE conduit_sql_statements_total counter"));
    let query = "{ tags(first: 5) { name } }";
    app.graphql(query, json!({})).await;
    let after_miss = metrics().await;
    assert!(
        counter(&after_miss, "conduit_sql_statements_total")
            > counter(&before, "conduit_sql_statements_total"),
        "a cache miss runs SQL"
    );
    // Two misses: the whole anonymous response, and the tags it read.
    assert_eq!(
        counter(&after_miss, "conduit_cache_misses_total"),
        counter(&before, "conduit_cache_misses_total") + 2
    );
    app.graphql(query, json!({})).await;
    let after_hit = metrics().await;
    // One hit: the whole response, so nothing else was read.
    assert_eq!(
        counter(&after_hit, "conduit_cache_hits_total"),
        counter(&after_miss, "conduit_cache_hits_total") + 1
    );
    assert_eq!(
        counter(&after_hit, "conduit_sql_statements_total"),
        counter(&after_miss, "conduit_sql_statements_total")
    );
}

/// The value of `conduit_graphql_errors_total` for `code`.
fn errors_with_code(text: &str, code: &str) -> u64 {
    counter(
        text,
        &format!("conduit_graphql_errors_total{{code=\"{code}\"}}"),
    )
}

#[tokio::test]
async fn metrics_count_responses_and_their_errors_by_code() {
    let app = TestApp::spawn_configured(|config| config.protection.max_batch_size = 2).await;
    let metrics = || async {
        reqwest::get(format!("{}/metrics", app.metrics_address))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    };
    let before = metrics().await;
    let grew = |after: &str, name: &str| counter(after, name) - counter(&before, name);
    let codes_grew =
        |after: &str, code: &str| errors_with_code(after, code) - errors_with_code(&before, code);

    // Two successes, the second answered from the cache.
    let query = "{ tags(first: 5) { name } }";
    for _ in 0..2 {
        let body = app.graphql(query, json!({})).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let after = metrics().await;
    assert_eq!(grew(&after, "conduit_graphql_responses_total"), 2);
    assert_eq!(grew(&after, "conduit_graphql_error_responses_total"), 0);

    // A document that does not validate, a favorite of an article that does
    // not exist, and a body that is not JSON: three responses, one error each.
    assert_error(&app.graphql("{ nope }", json!({})).await, "BAD_USER_INPUT");
    let mutation = r#"mutation { favoriteArticle(input: {slug: "nope"}) { article { slug } } }"#;
    assert_error(&app.graphql(mutation, json!({})).await, "NOT_FOUND");
    assert_eq!(app.post_raw("{\"query\": ", &[]).await.status(), 400);
    let after = metrics().await;
    assert_eq!(grew(&after, "conduit_graphql_responses_total"), 5);
    assert_eq!(grew(&after, "conduit_graphql_error_responses_total"), 3);
    assert_eq!(codes_grew(&after, "BAD_USER_INPUT"), 2);
    assert_eq!(codes_grew(&after, "NOT_FOUND"), 1);
    assert_eq!(codes_grew(&after, "UNAUTHENTICATED"), 0);

    // A batch counts each of its responses.
    let batch = json!([{ "query": query }, { "query": "{ nope }" }]).to_string();
    let response = app.post_raw(batch, &[]).await;
    assert_eq!(response.status(), 200);
    let after = metrics().await;
    assert_eq!(grew(&after, "conduit_graphql_responses_total"), 7);
    assert_eq!(grew(&after, "conduit_graphql_error_responses_total"), 4);
    assert_eq!(codes_grew(&after, "BAD_USER_INPUT"), 3);
}
