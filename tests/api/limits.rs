//! Document limits: depth, cost, aliases, root fields, directives and tokens,
//! each answered just under the limit and refused just over it.

use std::time::{Duration, Instant};

use conduit::config::Config;
use serde_json::{Value, json};

use crate::helpers::{KillOnDrop, TestApp, WsClient, assert_error, database_url, serve_with};

/// A server with one published article, with `configure` applied after the
/// article was made.
async fn app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    app.create_article(&jake, "Limits", &["rust"], false).await;
    app.spawn_peer_configured(configure).await
}

/// Asserts `body` was refused for `limit`, naming its maximum and what the document had.
fn assert_refused(body: &Value, limit: &str, max: u64, actual: u64) {
    assert_error(body, "LIMIT_EXCEEDED");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(extensions["limit"], limit, "{body}");
    assert_eq!(extensions["max"], max, "{body}");
    assert_eq!(extensions["actual"], actual, "{body}");
    assert!(body.get("data").is_none(), "nothing ran: {body}");
}

#[tokio::test]
async fn depth_is_answered_at_the_limit_and_refused_over_it() {
    let app = app_with(|c| c.protection.max_depth = 3).await;
    // articles > nodes > slug: depth 3.
    let at = app
        .graphql("{ articles(first: 1) { nodes { slug } } }", json!({}))
        .await;
    assert_eq!(at["data"]["articles"]["nodes"][0]["slug"], "limits", "{at}");
    // articles > nodes > author > username: depth 4.
    let over = app
        .graphql(
            "{ articles(first: 1) { nodes { author { username } } } }",
            json!({}),
        )
        .await;
    assert_refused(&over, "depth", 3, 4);
    // Through a fragment it is the same depth.
    let fragment = app
        .graphql(
            "{ articles(first: 1) { ...A } } fragment A on ArticleConnection { nodes { author { username } } }",
            json!({}),
        )
        .await;
    assert_refused(&fragment, "depth", 3, 4);
}

#[tokio::test]
async fn cost_multiplies_by_page_size_and_is_refused_over_the_limit() {
    let app = app_with(|c| c.protection.max_cost = 21).await;
    // tags: 1 + 10 * (name + articleCount) = 21.
    let at = app
        .graphql("{ tags(first: 10) { name articleCount } }", json!({}))
        .await;
    assert_eq!(at["data"]["tags"][0]["name"], "rust", "{at}");
    // With first: 11 from a variable: 1 + 11 * 2 = 23.
    let over = app
        .graphql(
            "query($n: Int) { tags(first: $n) { name articleCount } }",
            json!({ "n": 11 }),
        )
        .await;
    assert_refused(&over, "cost", 21, 23);
}

#[tokio::test]
async fn aliases_are_answered_at_the_limit_and_refused_over_it() {
    let app = app_with(|c| c.protection.max_aliases = 2).await;
    let at = app
        .graphql("{ a: tags { name } b: tags { name } }", json!({}))
        .await;
    assert_eq!(at["data"]["b"][0]["name"], "rust", "{at}");
    let over = app
        .graphql(
            "{ a: tags { name } b: tags { name } c: tags { name } }",
            json!({}),
        )
        .await;
    assert_refused(&over, "aliases", 2, 3);
}

#[tokio::test]
async fn root_fields_are_answered_at_the_limit_and_refused_over_it() {
    let app = app_with(|c| c.protection.max_root_fields = 2).await;
    let at = app
        .graphql("{ tags { name } viewer { username } }", json!({}))
        .await;
    assert_eq!(at["data"]["tags"][0]["name"], "rust", "{at}");
    let over = app
        .graphql(
            "{ tags { name } viewer { username } __typename }",
            json!({}),
        )
        .await;
    assert_refused(&over, "rootFields", 2, 3);
}

#[tokio::test]
async fn directives_are_answered_at_the_limit_and_refused_over_it() {
    let app = app_with(|c| c.protection.max_directives = 2).await;
    let at = app
        .graphql(
            "{ tags @include(if: true) { name @skip(if: false) } }",
            json!({}),
        )
        .await;
    assert_eq!(at["data"]["tags"][0]["name"], "rust", "{at}");
    let over = app
        .graphql(
            "{ tags @include(if: true) { name @skip(if: false) articleCount @skip(if: false) } }",
            json!({}),
        )
        .await;
    assert_refused(&over, "directives", 2, 3);
}

#[tokio::test]
async fn tokens_are_counted_before_parsing_and_refused_over_the_limit() {
    let app = app_with(|c| c.protection.max_tokens = 11).await;
    // { tags ( first : 2 ) { name } }: 11 tokens.
    let at = app.graphql("{ tags(first: 2) { name } }", json!({})).await;
    assert_eq!(at["data"]["tags"][0]["name"], "rust", "{at}");
    let over = app
        .graphql("{ tags(first: 2) { name articleCount } }", json!({}))
        .await;
    assert_refused(&over, "tokens", 11, 12);
    // Text that would not even parse is refused by its size first; counting
    // stops one token over the limit.
    let garbage = app.graphql(&"{ ( ".repeat(1_000), json!({})).await;
    assert_refused(&garbage, "tokens", 11, 12);
}

#[tokio::test]
async fn the_default_limits_refuse_a_fragment_explosion_at_once() {
    let app = TestApp::spawn().await;
    // Each fragment spreads the next one ten times: 10^20 fields when expanded.
    let mut query = String::from("{ ...F0 }");
    for i in 0..20 {
        let spreads = format!("...F{} ", i + 1).repeat(10);
        query.push_str(&format!(" fragment F{i} on Query {{ {spreads} }}"));
    }
    query.push_str(" fragment F20 on Query { tags { name } }");
    let started = Instant::now();
    let body = app.graphql(&query, json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_error(&body, "LIMIT_EXCEEDED");
    assert_eq!(body["errors"][0]["extensions"]["limit"], "cost", "{body}");
}

/// A document whose one argument is a list value nested `depth` deep: what
/// once overflowed the parser's stack and aborted the process.
fn deep_list_argument(depth: usize) -> String {
    format!(
        "{{ article(slug: {}\"x\"{}) {{ id }} }}",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

/// The same through object values: `{ a: { a: ... } }`.
fn deep_object_argument(depth: usize) -> String {
    format!(
        "{{ article(slug: {}1{}) {{ id }} }}",
        "{ a: ".repeat(depth),
        " }".repeat(depth)
    )
}

/// Sends `document` over POST, GET and a WebSocket `subscribe` to the server
/// at `address`; returns the three answers' first errors.
async fn first_error_on_every_transport(address: &str, document: &str) -> [Value; 3] {
    let client = reqwest::Client::new();
    let url = format!("{address}/graphql");
    let post: Value = client
        .post(&url)
        .json(&json!({ "query": document }))
        .send()
        .await
        .expect("the server answers a POST")
        .json()
        .await
        .expect("JSON");
    let get: Value = client
        .get(&url)
        .query(&[("query", document)])
        .header("content-type", "application/json")
        .send()
        .await
        .expect("the server answers a GET")
        .json()
        .await
        .expect("JSON");
    let ws_url = format!("{}/graphql", address.replacen("http", "ws", 1));
    let mut socket = WsClient::connect_url(&ws_url, "graphql-transport-ws").await;
    socket.init(None).await;
    socket
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": document } }))
        .await;
    let answer = socket.next().await.expect("an answer to subscribe");
    // Refused before it runs: an `error`, or a `next` with only errors.
    let ws_error = match answer["type"].as_str() {
        Some("error") => answer["payload"][0].clone(),
        Some("next") if answer["payload"]["data"].is_null() => {
            answer["payload"]["errors"][0].clone()
        }
        _ => panic!("not a refusal: {answer}"),
    };
    [
        post["errors"][0].clone(),
        get["errors"][0].clone(),
        ws_error,
    ]
}

#[tokio::test]
async fn values_nested_past_the_limit_are_refused_before_parsing_on_every_transport() {
    let dir = tempfile::tempdir().expect("dir");
    let database = database_url(&dir).await;
    let (server, address) = serve_with(&dir, &database, &[("RATE_LIMIT_ENABLED", "false")]);
    let mut server = KillOnDrop(server);
    for document in [
        deep_list_argument(65),
        deep_list_argument(1_500),
        deep_list_argument(7_000),
        deep_object_argument(2_000),
    ] {
        for error in first_error_on_every_transport(&address, &document).await {
            assert_eq!(error["extensions"]["code"], "LIMIT_EXCEEDED", "{error}");
            assert_eq!(error["extensions"]["limit"], "nesting", "{error}");
            assert_eq!(error["extensions"]["max"], 64, "{error}");
            assert_eq!(error["extensions"]["actual"], 65, "{error}");
        }
        assert!(
            server.0.try_wait().expect("status").is_none(),
            "the server is still running"
        );
    }
}

#[tokio::test]
async fn documents_and_variables_nested_to_the_ceiling_are_answered_without_overflowing() {
    let dir = tempfile::tempdir().expect("dir");
    let database = database_url(&dir).await;
    let ceiling = conduit::config::MAX_NESTING_CEILING;
    let nesting = ceiling.to_string();
    let (server, address) = serve_with(
        &dir,
        &database,
        &[("RATE_LIMIT_ENABLED", "false"), ("MAX_NESTING", &nesting)],
    );
    let mut server = KillOnDrop(server);
    // The operation's braces and the argument list's parentheses take two
    // levels; the value takes the rest.
    let mixed = format!(
        "{{ article(slug: {}1{}) {{ id }} }}",
        "[{ a: ".repeat((ceiling - 2) / 2),
        " }]".repeat((ceiling - 2) / 2)
    );
    for document in [
        deep_list_argument(ceiling - 2),
        deep_object_argument(ceiling - 2),
        mixed,
    ] {
        assert_eq!(
            conduit::graphql::limits::scan(&document, usize::MAX - 1, usize::MAX - 1).nesting,
            ceiling
        );
        let [post, get, ws] = first_error_on_every_transport(&address, &document).await;
        // Parsed whole, validated and refused as the wrong type.
        for error in [&post, &get, &ws] {
            assert!(
                error["message"].as_str().expect("message").contains("slug"),
                "{error}"
            );
        }
        for error in [&post, &get] {
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
        }
    }
    // Selections nested to the ceiling: the parser's own cap answers them.
    let selections = format!("{}{}", "{ a ".repeat(ceiling), "}".repeat(ceiling));
    let [post, get, ws] = first_error_on_every_transport(&address, &selections).await;
    for error in [&post, &get] {
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    }
    assert!(ws["message"].is_string(), "{ws}");
    // Variables as deep as the JSON parser takes (128 levels), and deeper.
    let client = reqwest::Client::new();
    for depth in [126, 127, 128, 10_000] {
        let body = format!(
            "{{\"query\":\"query($v: String) {{ article(slug: $v) {{ id }} }}\",\"variables\":{{\"v\":{}1{}}}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let answer: Value = client
            .post(format!("{address}/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{depth}: {answer}"
        );
    }
    assert!(
        server.0.try_wait().expect("status").is_none(),
        "the server is still running"
    );
}

#[tokio::test]
async fn long_lists_are_refused_before_any_work_wherever_they_are_sent() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let create = "mutation($t: [String!]!) { createArticle(input: { title: \"Many\", description: \"d\", body: \"b\", tags: $t }) { article { slug } } }";
    // 150,000 tags once held a worker for a minute de-duplicating them.
    let many: Vec<String> = (0..150_000).map(|i| i.to_string()).collect();
    let started = Instant::now();
    let body = app
        .graphql_as(&jake.token, create, json!({ "t": many }))
        .await;
    assert_refused(&body, "listLength", 100, 150_000);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Written in the document, nested in an input object, or as ids.
    let literal = format!(
        "mutation {{ createArticle(input: {{ title: \"t\", description: \"d\", body: \"b\", tags: [{}] }}) {{ article {{ slug }} }} }}",
        vec!["\"x\""; 101].join(",")
    );
    assert_refused(
        &app.graphql_as(&jake.token, &literal, json!({})).await,
        "listLength",
        100,
        101,
    );
    let ids = vec!["QXJ0aWNsZTox"; 101];
    let nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    assert_refused(
        &app.graphql(nodes, json!({ "ids": ids })).await,
        "listLength",
        100,
        101,
    );
    let slugs: Vec<String> = (0..20_000).map(|i| format!("s{i}")).collect();
    let attenuate =
        "mutation($s: [String!]) { attenuateToken(input: { articleSlugs: $s }) { token } }";
    assert_refused(
        &app.graphql_as(&jake.token, attenuate, json!({ "s": slugs }))
            .await,
        "listLength",
        100,
        20_000,
    );
    // Within the list limit, each field's own bound answers.
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let body = app
        .graphql_as(&jake.token, create, json!({ "t": eleven }))
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    let repeated: Vec<String> = (0..100).map(|i| format!("t{}", i % 10)).collect();
    let body = app
        .graphql_as(&jake.token, create, json!({ "t": repeated }))
        .await;
    assert!(body["errors"].is_null(), "ten distinct tags: {body}");
    let slugs: Vec<String> = (0..21).map(|i| format!("s{i}")).collect();
    let body = app
        .graphql_as(&jake.token, attenuate, json!({ "s": slugs }))
        .await;
    assert_error(&body, "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_token_narrowed_to_many_articles_reads_them_in_one_statement() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let mut slugs = Vec::new();
    for i in 0..5 {
        slugs.push(
            app.create_article(&jake, &format!("Narrow {i}"), &[], false)
                .await,
        );
    }
    let attenuate =
        "mutation($s: [String!]) { attenuateToken(input: { articleSlugs: $s }) { token } }";
    // Warm the caches a first narrowing fills.
    app.graphql_as(&jake.token, attenuate, json!({ "s": [slugs[0]] }))
        .await;
    let before = app.statements();
    let body = app
        .graphql_as(&jake.token, attenuate, json!({ "s": slugs }))
        .await;
    assert!(
        body["data"]["attenuateToken"]["token"].is_string(),
        "{body}"
    );
    assert_eq!(app.statements() - before, 1, "one statement for five slugs");
    // A slug that does not exist is NOT_FOUND, as before.
    let body = app
        .graphql_as(&jake.token, attenuate, json!({ "s": [slugs[0], "nope"] }))
        .await;
    assert_error(&body, "NOT_FOUND");
}

#[tokio::test]
async fn cost_is_measured_with_variable_defaults_and_the_number_of_ids() {
    let app = TestApp::spawn().await;
    // Three levels of 100 from a default: once counted as 20 a level.
    let defaults = "query($n: Int = 100) { articles(first: $n) { nodes { comments(first: $n) { nodes { author { articles(first: $n) { nodes { slug } } } } } } } }";
    let body = app.graphql(defaults, json!({})).await;
    assert_error(&body, "LIMIT_EXCEEDED");
    assert_eq!(body["errors"][0]["extensions"]["limit"], "cost", "{body}");
    assert!(
        body["errors"][0]["extensions"]["actual"]
            .as_u64()
            .expect("actual")
            > 1_000_000,
        "{body}"
    );
    // The same document with small values sent runs.
    let small = app.graphql(defaults, json!({ "n": 2 })).await;
    assert!(small["errors"].is_null(), "{small}");
    // nodes(ids:) fetches its selection once per id.
    let ids: Vec<String> = (0..100).map(|i| format!("id{i}")).collect();
    let fan_out = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Article { comments(first: 100) { nodes { body } } } } }";
    let body = app.graphql(fan_out, json!({ "ids": ids })).await;
    assert_refused(&body, "cost", 20_000, 1 + 100 * (1 + 100 * 2));
    let few = app.graphql(fan_out, json!({ "ids": ids[..2] })).await;
    assert!(few["errors"].is_null(), "{few}");
}

#[tokio::test]
async fn nul_characters_are_refused_naming_the_field_on_every_backend() {
    let app = TestApp::spawn().await;
    let jake = app.register("jake").await;
    let slug = app.create_article(&jake, "Kept", &["rust"], false).await;
    let cases = [
        (
            None,
            crate::helpers::REGISTER,
            json!({ "input": { "username": "nul", "email": "n\u{0}l@example.org", "password": "long enough" } }),
            "variables.input.email",
        ),
        (
            Some(&jake.token),
            crate::helpers::CREATE_ARTICLE,
            json!({ "input": { "title": "T", "description": "d", "body": "b\u{0}", "tags": [] } }),
            "variables.input.body",
        ),
        (
            None,
            "{ article(slug: \"kept\\u0000\") { id } }",
            json!({}),
            "article.slug",
        ),
        (
            None,
            "query($t: String) { articles(filter: { tag: $t }) { totalCount } }",
            json!({ "t": "ru\u{0}st" }),
            "variables.t",
        ),
        (
            None,
            "{ user(username: \"ja\\u0000ke\") { username } }",
            json!({}),
            "user.username",
        ),
    ];
    for (token, query, variables, field) in cases {
        let body = match token {
            Some(token) => app.graphql_as(token, query, variables).await,
            None => app.graphql(query, variables).await,
        };
        assert_error(&body, "BAD_USER_INPUT");
        assert_eq!(
            body["errors"][0]["extensions"]["fields"][0]["field"], field,
            "{body}"
        );
    }
    // Nothing was written.
    let body = app.graphql("{ articles { totalCount } }", json!({})).await;
    assert_eq!(body["data"]["articles"]["totalCount"], 1, "{body} ({slug})");
}

#[tokio::test]
async fn a_long_document_is_parsed_off_the_workers_and_cut_by_the_timeout() {
    let app = TestApp::spawn_configured(|c| c.protection.request_timeout_ms = 200).await;
    // 1.9 MB to parse: in this build the parser takes seconds over it.
    let long = format!(
        "{{ article(slug: \"{}\") {{ id }} }}",
        "x".repeat(1_900_000)
    );
    let started = Instant::now();
    let (long_answer, short) = tokio::join!(app.post_graphql(None, &long, json!({})), async {
        // Sent while the long document is being parsed.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let sent = Instant::now();
        let body = app.graphql("{ tags { name } }", json!({})).await;
        (sent.elapsed(), body)
    });
    let elapsed = started.elapsed();
    assert_eq!(long_answer.status(), 504);
    let body: Value = long_answer.json().await.expect("JSON");
    assert_error(&body, "TIMEOUT");
    assert!(
        elapsed < Duration::from_secs(1),
        "answered after {elapsed:?}"
    );
    // The server, one thread in this test, went on serving meanwhile.
    let (waited, short) = short;
    assert!(short["errors"].is_null(), "{short}");
    assert!(waited < Duration::from_millis(500), "waited {waited:?}");
}
