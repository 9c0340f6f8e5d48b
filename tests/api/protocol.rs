//! GraphQL over HTTP: content negotiation, methods, CSRF prevention, CORS,
//! body and header limits, batching, timeouts and production mode.

use std::time::Duration;

use conduit::config::Environment;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, assert_error, error_codes};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn post(app: &TestApp, body: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", app.address))
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

async fn get(
    app: &TestApp,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .get(format!("{}/graphql", app.address))
        .query(query);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn the_accept_header_picks_the_response_type() {
    let app = TestApp::spawn().await;
    let body = json!({ "query": "{ __typename }" }).to_string();
    let (status, headers, data) = post(&app, &body, &[JSON, ("accept", GRAPHQL_RESPONSE)]).await;
    assert_eq!(status, 200);
    assert!(
        content_type(&headers).starts_with(GRAPHQL_RESPONSE),
        "{headers:?}"
    );
    assert_eq!(data["data"]["__typename"], "Query");
    for accept in [None, Some("application/json"), Some("*/*")] {
        let mut sent = vec![JSON];
        if let Some(accept) = accept {
            sent.push(("accept", accept));
        }
        let (status, headers, _) = post(&app, &body, &sent).await;
        assert_eq!(status, 200);
        assert!(
            content_type(&headers).starts_with("application/json"),
            "{accept:?} gave {headers:?}"
        );
        assert!(content_type(&headers).contains("charset=utf-8"));
    }
    let (status, _, data) = post(&app, &body, &[JSON, ("accept", "text/html")]).await;
    assert_eq!(status, 406);
    assert_error(&data, "BAD_REQUEST");
}

#[tokio::test]
async fn request_errors_are_400_in_graphql_response_json_and_200_in_json() {
    let app = TestApp::spawn().await;
    let cases = [
        json!({ "query": "{ articles { " }),
        json!({ "query": "{ noSuchField }" }),
        json!({ "query": "query($n: Int!) { tags(first: $n) { name } }", "variables": { "n": "ten" } }),
    ];
    for case in cases {
        let body = case.to_string();
        let (status, _, data) = post(&app, &body, &[JSON, ("accept", GRAPHQL_RESPONSE)]).await;
        assert_eq!(status, 400, "{case}: {data}");
        assert!(data.get("data").is_none(), "no data entry: {data}");
        assert_error(&data, "BAD_USER_INPUT");
        let (status, _, data) = post(&app, &body, &[JSON, ("accept", "application/json")]).await;
        assert_eq!(status, 200, "{case}: {data}");
        assert_error(&data, "BAD_USER_INPUT");
    }
    // An error inside execution still answers 200 with data.
    let (status, _, data) = post(
        &app,
        &json!({ "query": "{ tags { name } article(slug: \"none\") { title } }" }).to_string(),
        &[JSON, ("accept", GRAPHQL_RESPONSE)],
    )
    .await;
    assert_eq!(status, 200, "{data}");
    assert!(data["data"]["tags"].is_array());
}

#[tokio::test]
async fn validation_is_skipped_only_for_documents_that_passed_it_and_take_no_variables() {
    let app = TestApp::spawn().await;
    let author = app.register("validated").await;
    app.create_article(&author, "Checked once", &["rust"], false)
        .await;
    let run = |query: &'static str, variables: Value| {
        let app = &app;
        async move { app.graphql(query, variables).await }
    };

    // A rule execution would not enforce: a document that failed it fails
    // again, however often it is sent.
    let unused_fragment = "{ tags { name } } fragment Unused on Article { slug }";
    for _ in 0..3 {
        let body = run(unused_fragment, json!({})).await;
        assert!(body.get("data").is_none(), "a request error: {body}");
        assert_error(&body, "BAD_USER_INPUT");
    }

    // A document that passed answers the same once it skips the rules.
    let literal = "{ articles(first: 5) { edges { node { slug tags author { username } } } } }";
    let first = run(literal, json!({})).await;
    assert_eq!(
        first["data"]["articles"]["edges"][0]["node"]["tags"],
        json!(["rust"])
    );
    for _ in 0..2 {
        assert_eq!(run(literal, json!({})).await, first);
    }

    // Variable values are checked on every request, before anything runs.
    let with_variables = "query($n: Int) { articles(first: $n) { edges { node { slug } } } }";
    for _ in 0..2 {
        let body = run(with_variables, json!({ "n": 1 })).await;
        assert_eq!(
            body["data"]["articles"]["edges"].as_array().map(Vec::len),
            Some(1)
        );
    }
    let body = run(with_variables, json!({ "n": "one" })).await;
    assert!(body.get("data").is_none(), "a request error: {body}");
    assert_error(&body, "BAD_USER_INPUT");
}

#[tokio::test]
async fn bodies_must_be_json_and_parameters_well_typed() {
    let app = TestApp::spawn().await;
    let body = json!({ "query": "{ __typename }" }).to_string();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin1",
    ] {
        let (status, _, data) = post(&app, &body, &[("content-type", content_type)]).await;
        assert_eq!(status, 415, "{content_type}");
        assert_error(&data, "BAD_REQUEST");
    }
    let (status, _, _) = post(&app, &body, &[]).await;
    assert_eq!(status, 415, "no content type");
    for bad in [
        json!({ "query": 7 }),
        json!({ "query": "{ __typename }", "variables": "x" }),
        json!({ "query": "{ __typename }", "extensions": [1] }),
        json!({}),
    ] {
        let (status, _, data) = post(&app, &bad.to_string(), &[JSON]).await;
        assert_eq!(status, 400, "{bad}");
        assert_error(&data, "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn queries_run_over_get_with_a_preflight_header_and_mutations_never() {
    let app = TestApp::spawn().await;
    let preflight = ("apollo-require-preflight", "true");
    let (status, _, data) = get(
        &app,
        &[
            ("query", "query Q($n: Int) { tags(first: $n) { name } }"),
            ("variables", "{\"n\":5}"),
            ("operationName", "Q"),
        ],
        &[preflight],
    )
    .await;
    assert_eq!(status, 200, "{data}");
    assert!(data["data"]["tags"].is_array());

    // Without a header that forces a preflight, a GET is a possible CSRF.
    let (status, _, data) = get(&app, &[("query", "{ tags { name } }")], &[]).await;
    assert_eq!(status, 400);
    assert_error(&data, "BAD_REQUEST");
    assert!(
        data["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("forgery")
    );
    let (status, _, _) = get(
        &app,
        &[("query", "{ tags { name } }")],
        &[("x-apollo-operation-name", "Tags")],
    )
    .await;
    assert_eq!(status, 200);

    let (status, headers, data) = get(
        &app,
        &[("query", "mutation { logout { revoked } }")],
        &[preflight, ("accept", GRAPHQL_RESPONSE)],
    )
    .await;
    assert_eq!(status, 405, "{data}");
    assert_eq!(headers["allow"], "POST");
    assert_error(&data, "BAD_REQUEST");
}

#[tokio::test]
async fn csrf_prevention_can_be_switched_off() {
    let app = TestApp::spawn_configured(|c| c.protection.csrf_prevention = false).await;
    let (status, _, data) = get(&app, &[("query", "{ tags { name } }")], &[]).await;
    assert_eq!(status, 200, "{data}");
}

#[tokio::test]
async fn cors_answers_listed_origins_only_with_credentials() {
    let app = TestApp::spawn_configured(|c| {
        c.protection.cors_allowed_origins = "https://app.example.org".into();
    })
    .await;
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let listed = preflight("https://app.example.org")
        .await
        .expect("preflight");
    assert_eq!(
        listed.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    assert_eq!(listed.headers()["access-control-allow-credentials"], "true");
    let other = preflight("https://evil.example").await.expect("preflight");
    assert!(other.headers().get("access-control-allow-origin").is_none());
    assert!(
        other
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}

/// A query sent with `origin` in its `Origin` header, or without the header.
async fn query_from(app: &TestApp, origin: Option<&str>) -> reqwest::Result<reqwest::Response> {
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ tags { name } }" }));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await
}

#[tokio::test]
async fn cors_exposes_the_rate_limit_headers_to_listed_origins_only() {
    let app = TestApp::spawn_configured(|c| {
        c.protection.cors_allowed_origins = "https://app.example.org".into();
    })
    .await;
    let query = |origin| query_from(&app, origin);
    let listed = query(Some("https://app.example.org")).await.expect("post");
    let exposed = listed.headers()["access-control-expose-headers"]
        .to_str()
        .expect("text")
        .to_owned();
    for name in ["x-request-id", "x-ratelimit-remaining", "retry-after"] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }
    // A browser reads the list only beside an allowed origin; other callers
    // are not sent it.
    for origin in [None, Some("https://evil.example")] {
        let response = query(origin).await.expect("post");
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("x-ratelimit-remaining"));
        assert!(
            !response
                .headers()
                .contains_key("access-control-expose-headers"),
            "{origin:?}"
        );
        assert!(
            !response
                .headers()
                .contains_key("access-control-allow-credentials"),
            "{origin:?}"
        );
        assert_eq!(response.headers()["vary"], "origin");
    }
}

#[tokio::test]
async fn cors_for_any_origin_lets_every_origin_in_without_credentials() {
    let app = TestApp::spawn_configured(|c| c.protection.cors_allowed_origins = "*".into()).await;
    let query = |origin| query_from(&app, origin);
    let from_page = query(Some("https://anywhere.example")).await.expect("post");
    assert_eq!(from_page.status(), 200);
    let headers = from_page.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(!headers.contains_key("access-control-allow-credentials"));
    assert!(headers.contains_key("access-control-expose-headers"));
    // Every origin gets the same answer, so caches are not told it varies.
    assert!(!headers.contains_key("vary"));
    let from_server = query(None).await.expect("post");
    assert_eq!(from_server.status(), 200);
    for name in [
        "access-control-allow-origin",
        "access-control-expose-headers",
        "vary",
    ] {
        assert!(!from_server.headers().contains_key(name), "{name}");
    }
}

#[tokio::test]
async fn the_body_limit_answers_just_under_and_refuses_just_over() {
    let app = TestApp::spawn_configured(|c| c.protection.max_body_bytes = 1_000).await;
    let padded = |size: usize| {
        let base = json!({ "query": "{ __typename }", "extensions": { "pad": "" } }).to_string();
        let pad = "x".repeat(size - base.len());
        json!({ "query": "{ __typename }", "extensions": { "pad": pad } }).to_string()
    };
    let at_limit = padded(1_000);
    assert_eq!(at_limit.len(), 1_000);
    let (status, _, data) = post(&app, &at_limit, &[JSON]).await;
    assert_eq!(status, 200, "{data}");
    let (status, _, data) = post(&app, &padded(1_001), &[JSON]).await;
    assert_eq!(status, 413);
    assert_error(&data, "LIMIT_EXCEEDED");
    assert_eq!(data["errors"][0]["extensions"]["limit"], "bodyBytes");
}

/// Sends `headers` (plus Host, Content-Type and Content-Length) on a raw
/// connection and returns the status code.
async fn raw_post_status(app: &TestApp, headers: &[(String, String)]) -> u16 {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let body = json!({ "query": "{ __typename }" }).to_string();
    let mut request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text}"))
}

#[tokio::test]
async fn header_limits_answer_just_under_and_refuse_just_over() {
    // The raw request sends four headers of its own: host, content-type,
    // content-length and connection.
    let app = TestApp::spawn_configured(|c| c.protection.max_headers = 10).await;
    let extra = |n: usize| -> Vec<(String, String)> {
        (0..n)
            .map(|i| (format!("x-extra-{i}"), "1".to_owned()))
            .collect()
    };
    assert_eq!(raw_post_status(&app, &extra(6)).await, 200);
    assert_eq!(raw_post_status(&app, &extra(7)).await, 431);

    let app = TestApp::spawn_configured(|c| c.protection.max_header_bytes = 400).await;
    let fixed: usize = ["host", "content-type", "content-length", "connection"]
        .iter()
        .map(|name| name.len())
        .sum::<usize>()
        + app.address.trim_start_matches("http://").len()
        + "application/json".len()
        + json!({ "query": "{ __typename }" })
            .to_string()
            .len()
            .to_string()
            .len()
        + "close".len();
    let sized = |total: usize| {
        vec![(
            "x-pad".to_owned(),
            "p".repeat(total - fixed - "x-pad".len()),
        )]
    };
    assert_eq!(raw_post_status(&app, &sized(400)).await, 200);
    assert_eq!(raw_post_status(&app, &sized(401)).await, 431);
}

#[tokio::test]
async fn batching_is_off_by_default_and_capped_when_on() {
    let app = TestApp::spawn().await;
    let batch = |n: usize| {
        Value::Array(
            (0..n)
                .map(|_| json!({ "query": "{ __typename }" }))
                .collect(),
        )
        .to_string()
    };
    let (status, _, data) = post(&app, &batch(2), &[JSON]).await;
    assert_eq!(status, 400);
    assert_error(&data, "BAD_REQUEST");

    let app = TestApp::spawn_configured(|c| c.protection.max_batch_size = 2).await;
    let (status, _, data) = post(&app, &batch(2), &[JSON]).await;
    assert_eq!(status, 200);
    assert_eq!(data[0]["data"]["__typename"], "Query");
    assert_eq!(data[1]["data"]["__typename"], "Query");
    let (status, _, data) = post(&app, &batch(3), &[JSON]).await;
    assert_eq!(status, 400);
    assert_error(&data, "LIMIT_EXCEEDED");
    assert_eq!(data["errors"][0]["extensions"]["actual"], 3);
}

#[tokio::test]
async fn a_request_over_the_timeout_is_cancelled_with_504() {
    let login = json!({ "query": "mutation { login(input: { email: \"a@b.c\", password: \"whatever1\" }) { token } }" }).to_string();
    let app = TestApp::spawn_configured(|c| c.protection.request_timeout_ms = 1).await;
    let (status, _, data) = post(&app, &login, &[JSON]).await;
    assert_eq!(status, 504, "{data}");
    assert_error(&data, "TIMEOUT");
    let app = TestApp::spawn_configured(|c| c.protection.request_timeout_ms = 30_000).await;
    let (status, _, data) = post(&app, &login, &[JSON]).await;
    assert_eq!(status, 200, "{data}");
    assert_eq!(error_codes(&data), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn work_stops_when_the_client_goes_away() {
    let app = TestApp::spawn().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let body = json!({ "query": "mutation { register(input: { username: \"gone\", email: \"gone@example.org\", password: \"long enough\" }) { token } }" }).to_string();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    // Hang up while the password is being hashed.
    tokio::time::sleep(Duration::from_millis(5)).await;
    drop(stream);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let found = app
        .graphql("{ user(username: \"gone\") { username } }", json!({}))
        .await;
    assert_eq!(
        found["data"]["user"],
        Value::Null,
        "the registration went on: {found}"
    );
}

#[tokio::test]
async fn production_mode_hides_the_schema_and_graphiql() {
    let production = TestApp::spawn_configured(|c| c.environment = Environment::Production).await;
    let (status, _, _) = get(&production, &[], &[("accept", "text/html")]).await;
    assert_eq!(
        status, 406,
        "no GraphiQL, and HTML is not a GraphQL response type"
    );
    let asset = reqwest::get(format!(
        "{}/graphiql/{}/graphiql.min.js",
        production.address,
        conduit::http::graphiql::ASSETS_VERSION
    ))
    .await
    .expect("get");
    assert_eq!(asset.status(), 404, "GraphiQL's assets are off with it");
    let introspection = production
        .graphql("{ __schema { types { name } } }", json!({}))
        .await;
    assert_error(&introspection, "FORBIDDEN");
    assert!(introspection.get("data").is_none(), "{introspection}");
    let typo = production.graphql("{ tagz { name } }", json!({})).await;
    let message = typo["errors"][0]["message"].as_str().expect("message");
    assert!(!message.contains("Did you mean"), "{message}");

    let development = TestApp::spawn_configured(|c| c.environment = Environment::Development).await;
    let typo = development.graphql("{ tagz { name } }", json!({})).await;
    let message = typo["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains("Did you mean"), "{message}");
    let introspection = development
        .graphql("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(
        introspection["data"]["__schema"]["queryType"]["name"],
        "Query"
    );

    let switched_on = TestApp::spawn_configured(|c| {
        c.environment = Environment::Production;
        c.protection.graphiql = Some(true);
    })
    .await;
    let (status, _, page) = get(&switched_on, &[], &[("accept", "text/html")]).await;
    assert_eq!(status, 200);
    assert!(page.as_str().expect("html").contains("graphiql"));
}

#[tokio::test]
async fn the_database_stops_a_statement_over_its_time_limit() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_configured(|c| c.protection.db_statement_timeout_ms = 1_000).await;
    let backend = app.state.db.get_database_backend();
    let sleep = |seconds: f64| match backend {
        sea_orm::DbBackend::Postgres => format!("SELECT pg_sleep({seconds})"),
        sea_orm::DbBackend::MySql => format!("SELECT SLEEP({seconds})"),
        _ => String::new(),
    };
    if backend == sea_orm::DbBackend::Sqlite {
        // SQLite has no statement time limit; the request timeout covers it.
        return;
    }
    app.state
        .db
        .execute_unprepared(&sleep(0.2))
        .await
        .expect("a statement under the limit runs");
    let started = std::time::Instant::now();
    let over = app.state.db.execute_unprepared(&sleep(3.0)).await;
    assert!(over.is_err(), "a statement over the limit is stopped");
    assert!(started.elapsed() < Duration::from_secs(2));
}
