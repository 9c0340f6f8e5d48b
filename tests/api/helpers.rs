//! `TestApp`: the real server on an ephemeral port with a database of its own.
//!
//! The backend comes from `TEST_DATABASE_URL`: unset means a fresh SQLite file;
//! a `postgres://` or `mysql://` URL names a server on which each test creates a
//! database of its own.

use std::io::BufRead;
use std::time::Duration;

use conduit::app::Application;
use conduit::auth::TokenKeys;
use conduit::auth::token::authorizer_limits;
use conduit::config::{Config, Environment};
use conduit::state::AppState;
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The rate-limit windows of test servers, in seconds.
pub const TEST_RATE_LIMIT_WINDOW_SECS: u64 = 1_000_000_000;

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// `http://127.0.0.1:<port>` of the metrics listener.
    pub metrics_address: String,
    /// The server's state, for statement counts.
    pub state: AppState,
    /// The key that signs this server's tokens.
    pub tokens: TokenKeys,
    client: reqwest::Client,
    database_url: String,
    redis: Option<(String, String)>,
    _dir: std::sync::Arc<tempfile::TempDir>,
}

/// With TEST_REDIS_URL set, every test runs on Redis under its own prefix.
fn test_redis() -> Option<(String, String)> {
    std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| (u, unique_prefix()))
}

fn unique_prefix() -> String {
    format!("t{}", uuid::Uuid::new_v4().simple())
}

/// A private `redis-server` on a free port, stopped when dropped, for tests
/// that stop or freeze Redis.
pub struct TestRedis {
    /// `redis://127.0.0.1:<port>`.
    pub url: String,
    port: u16,
    child: std::process::Child,
}

impl TestRedis {
    /// Starts one and waits until it answers.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Self::spawn(port);
        let redis = Self {
            url: format!("redis://127.0.0.1:{port}"),
            port,
            child,
        };
        redis.wait_until_up().await;
        redis
    }

    fn spawn(port: u16) -> std::process::Child {
        std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)")
    }

    async fn wait_until_up(&self) {
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Freezes the server (SIGSTOP): connections hang without an answer.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    /// Kills the server.
    pub fn stop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }

    /// Starts it again on the same port, empty.
    pub async fn restart(&mut self) {
        self.stop();
        self.child = Self::spawn(self.port);
        self.wait_until_up().await;
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.thaw_quietly();
        self.stop();
    }
}

impl TestRedis {
    fn thaw_quietly(&self) {
        let _ = std::process::Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
    }
}

/// A registered user and their token.
pub struct TestUser {
    /// Bearer token.
    pub token: String,
    /// Global id.
    pub id: String,
}

pub async fn database_url(dir: &tempfile::TempDir) -> String {
    let Some(server) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        return format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    };
    let name = format!("conduit_t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(server.as_str())
        .await
        .expect("connect to TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the test database");
    admin.close().await.ok();
    // Replace the database name: everything after the last '/' before any '?'.
    let (base, query) = server
        .split_once('?')
        .map_or((server.as_str(), None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

impl TestApp {
    /// Starts a server with a fresh database and fresh token keys.
    pub async fn spawn() -> Self {
        Self::spawn_with_keys(TokenKeys::generate(
            Duration::from_secs(3600),
            Default::default(),
        ))
        .await
    }

    /// Starts a server with a fresh database and settings changed by `configure`
    /// (after the test defaults: development mode, a generous sign-in limit).
    pub async fn spawn_configured(configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = database_url(&dir).await;
        let tokens = TokenKeys::generate(Duration::from_secs(3600), Default::default());
        let redis = test_redis();
        Self::start_configured(url, tokens, std::sync::Arc::new(dir), redis, configure).await
    }

    /// Starts a server with a fresh database that signs and verifies with `tokens`.
    pub async fn spawn_with_keys(tokens: TokenKeys) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            conduit::telemetry::init(conduit::config::LogFormat::Pretty);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let url = database_url(&dir).await;
        Self::start(url, tokens, std::sync::Arc::new(dir)).await
    }

    /// A second server on the same database with the same keys, as another
    /// instance behind a load balancer.
    pub async fn spawn_peer(&self) -> Self {
        self.spawn_peer_configured(|_| {}).await
    }

    /// Another instance on the same database, Redis and keys, with its settings
    /// changed by `configure`: for data made under the usual settings and then
    /// read under tighter ones.
    pub async fn spawn_peer_configured(&self, configure: impl FnOnce(&mut Config)) -> Self {
        let same = (*self.state.config).clone();
        Self::start_configured(
            self.database_url.clone(),
            self.tokens.clone(),
            self._dir.clone(),
            self.redis.clone(),
            move |config| {
                *config = same;
                configure(config);
            },
        )
        .await
    }

    /// Like [`TestApp::spawn_with_redis`], with settings changed by `configure`.
    pub async fn spawn_with_redis_configured(
        redis_url: &str,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = database_url(&dir).await;
        let tokens = TokenKeys::generate(Duration::from_secs(3600), Default::default());
        let redis = Some((redis_url.to_owned(), unique_prefix()));
        Self::start_configured(url, tokens, std::sync::Arc::new(dir), redis, configure).await
    }

    /// A server on its own database that uses the Redis at `redis_url`, under
    /// a key prefix of its own.
    pub async fn spawn_with_redis(redis_url: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = database_url(&dir).await;
        let tokens = TokenKeys::generate(Duration::from_secs(3600), Default::default());
        let redis = Some((redis_url.to_owned(), unique_prefix()));
        Self::start_with(url, tokens, std::sync::Arc::new(dir), redis).await
    }

    async fn start(url: String, tokens: TokenKeys, dir: std::sync::Arc<tempfile::TempDir>) -> Self {
        Self::start_with(url, tokens, dir, test_redis()).await
    }

    async fn start_with(
        url: String,
        tokens: TokenKeys,
        dir: std::sync::Arc<tempfile::TempDir>,
        redis: Option<(String, String)>,
    ) -> Self {
        Self::start_configured(url, tokens, dir, redis, |_| {}).await
    }

    async fn start_configured(
        url: String,
        tokens: TokenKeys,
        dir: std::sync::Arc<tempfile::TempDir>,
        redis: Option<(String, String)>,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config {
            database_url: Some(url.clone()),
            bind: "127.0.0.1:0".parse().expect("addr"),
            metrics_bind: Some("127.0.0.1:0".parse().expect("addr")),
            data_dir: dir.path().to_owned(),
            db_max_connections: 5,
            environment: Environment::Development,
            ..Config::default()
        };
        // Tests sign many users in from one address.
        config.protection.auth_rate_limit_attempts = 100_000;
        // Windows start at multiples of their length; one this long does not
        // end while a test spends its budget (the next starts in 2033).
        config.protection.rate_limit_window_secs = TEST_RATE_LIMIT_WINDOW_SECS;
        config.protection.auth_rate_limit_window_secs = TEST_RATE_LIMIT_WINDOW_SECS;
        if let Some((redis_url, prefix)) = &redis {
            config.redis_url = Some(redis_url.clone());
            config.redis_prefix = prefix.clone();
        }
        configure(&mut config);
        let tokens = TokenKeys::new(
            tokens.keyring().clone(),
            Duration::from_secs(3600),
            authorizer_limits(&config),
        );
        let app = Application::build_with_tokens(config, tokens.clone())
            .await
            .expect("the server starts");
        let address = format!("http://{}", app.local_addr().expect("addr"));
        let metrics_address = format!("http://{}", app.metrics_addr().expect("metrics addr"));
        let state = app.state().clone();
        tokio::spawn(app.run_until(std::future::pending()));
        Self {
            address,
            metrics_address,
            state,
            tokens,
            client: reqwest::Client::new(),
            database_url: url,
            redis,
            _dir: dir,
        }
    }

    /// POSTs a raw body to /graphql with extra headers.
    pub async fn post_raw(
        &self,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request sent")
    }

    /// Runs a GraphQL document anonymously; returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_with(None, query, variables).await
    }

    /// Runs a GraphQL document with a bearer token.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        self.graphql_with(Some(token), query, variables).await
    }

    /// POSTs a GraphQL document, with a bearer token when given; the raw
    /// response, for tests that read its status and headers.
    pub async fn post_graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> reqwest::Response {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let bearer = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .iter()
            .map(|b| ("authorization", b.as_str()))
            .collect();
        self.post_raw(body, &headers).await
    }

    /// The response to `query` with `variables`, as `token` when given.
    pub async fn graphql_with(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let response = self.post_graphql(token, query, variables).await;
        let status = response.status();
        let body: Value = response.json().await.expect("JSON body");
        // A refused token is the one request error that is not 200: 401.
        let refused_token = status == 401 && error_codes(&body) == ["UNAUTHENTICATED"];
        assert!(status == 200 || refused_token, "{status}: {body}");
        body
    }

    /// Registers `username` with a derived email and a fixed password.
    pub async fn register(&self, username: &str) -> TestUser {
        let body = self
            .graphql(
                REGISTER,
                json!({ "input": { "username": username, "email": format!("{username}@example.org"), "password": PASSWORD } }),
            )
            .await;
        let payload = &body["data"]["register"];
        assert!(payload.is_object(), "register failed: {body}");
        TestUser {
            token: payload["token"].as_str().expect("token").to_owned(),
            id: payload["user"]["id"].as_str().expect("id").to_owned(),
        }
    }

    /// Creates an article as `user`; returns its slug.
    pub async fn create_article(
        &self,
        user: &TestUser,
        title: &str,
        tags: &[&str],
        draft: bool,
    ) -> String {
        let body = self
            .graphql_as(
                &user.token,
                CREATE_ARTICLE,
                json!({ "input": { "title": title, "description": "About it", "body": "The text.", "tags": tags, "draft": draft } }),
            )
            .await;
        body["data"]["createArticle"]["article"]["slug"]
            .as_str()
            .unwrap_or_else(|| panic!("createArticle failed: {body}"))
            .to_owned()
    }

    /// Registers `username` and makes them an admin, as `conduit admin create` does.
    pub async fn admin(&self, username: &str) -> TestUser {
        let user = self.register(username).await;
        conduit::service::accounts::bootstrap_admin(&self.state, username, "", "")
            .await
            .expect("promote to admin");
        user
    }

    /// The WebSocket URL of /graphql.
    pub fn ws_url(&self) -> String {
        format!("{}/graphql", self.address.replacen("http", "ws", 1))
    }

    /// SQL statements the server has run so far.
    pub fn statements(&self) -> u64 {
        self.state.statements.get()
    }
}

/// A numeric response header, such as `x-ratelimit-used`.
pub fn header(response: &reqwest::Response, name: &str) -> u64 {
    response.headers()[name]
        .to_str()
        .expect("text")
        .parse()
        .expect("number")
}

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

/// Registers a user.
pub const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { token user { id username email } } }";

/// Creates an article.
pub const CREATE_ARTICLE: &str = "mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id slug title status tags author { username } } } }";

/// The error codes of a response, in order.
pub fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("<none>")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the response failed with exactly one error of `code`.
#[track_caller]
pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(
        error_codes(body),
        vec![code.to_owned()],
        "unexpected response: {body}"
    );
}

/// A GraphQL WebSocket client speaking one subprotocol.
pub struct WsClient {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl WsClient {
    /// Connects with `protocol` (`graphql-transport-ws` or `graphql-ws`).
    pub async fn connect(app: &TestApp, protocol: &str) -> Self {
        Self::connect_url(&app.ws_url(), protocol).await
    }

    /// Connects to a WebSocket URL with `protocol`.
    pub async fn connect_url(url: &str, protocol: &str) -> Self {
        Self::try_connect_url(url, protocol)
            .await
            .unwrap_or_else(|status| panic!("ws connect refused with HTTP {status}"))
    }

    /// Connects to a WebSocket URL with `protocol`, or returns the HTTP status
    /// the server refused the upgrade with.
    pub async fn try_connect_url(url: &str, protocol: &str) -> Result<Self, u16> {
        let mut request = url.into_client_request().expect("ws request");
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocol.parse().expect("header"));
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Self { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(err) => panic!("ws connect: {err}"),
        }
    }

    /// Sends one text frame as it is, JSON or not.
    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text))
            .await
            .expect("ws send");
    }

    /// Sends `connection_init`, with `token` as a bearer token when given, and
    /// asserts the server acknowledges it.
    pub async fn init(&mut self, token: Option<&str>) {
        let payload = token.map_or(
            json!({}),
            |t| json!({ "Authorization": format!("Bearer {t}") }),
        );
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let ack = self.next().await.expect("an answer to connection_init");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
    }

    /// Sends one JSON message.
    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("ws send");
    }

    /// The next JSON message, skipping pings and keep-alives; `None` when closed.
    /// Panics after five seconds without one.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), self.socket.next())
                .await
                .expect("a WebSocket message within five seconds")?;
            match message.expect("ws receive") {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON message");
                    if matches!(value["type"].as_str(), Some("ping" | "ka")) {
                        continue;
                    }
                    return Some(value);
                }
                Message::Close(frame) => {
                    return frame.map(
                        |f| json!({ "close": u16::from(f.code), "reason": f.reason.to_string() }),
                    );
                }
                _ => continue,
            }
        }
    }

    /// The next message's text as the server wrote it (key order kept),
    /// skipping pings and keep-alives. Panics after five seconds without one
    /// or when the connection closes.
    pub async fn next_text(&mut self) -> String {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), self.socket.next())
                .await
                .expect("a WebSocket message within five seconds")
                .expect("an open connection");
            if let Message::Text(text) = message.expect("ws receive") {
                let value: Value = serde_json::from_str(&text).expect("JSON message");
                if !matches!(value["type"].as_str(), Some("ping" | "ka")) {
                    return text.to_string();
                }
            }
        }
    }

    /// Whether no message arrives within `wait`; prints one that does.
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        match tokio::time::timeout(wait, self.next()).await {
            Err(_) => true,
            Ok(message) => {
                eprintln!("unexpected message: {message:?}");
                false
            }
        }
    }
}

/// Starts the `conduit serve` binary in `dir` on a free port, on the database
/// at `url`, with extra environment variables; returns the child process and
/// its address. The caller kills the child.
pub fn serve_with(
    dir: &tempfile::TempDir,
    url: &str,
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_conduit"))
        .current_dir(dir.path())
        .arg("serve")
        .envs(env.iter().copied())
        .env("DATABASE_URL", url)
        .env("DATA_DIR", dir.path())
        .env("BIND", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let address = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not report its address"
        );
        let line = lines.next().expect("a log line").expect("readable");
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if event["message"] == "listening" {
            break event["addr"].as_str().expect("addr").to_owned();
        }
    };
    // Keep draining the logs so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://{address}"))
}

/// A `kB` field of `/proc/<pid>/smaps_rollup`: exact, where the counters in
/// `/proc/<pid>/status` are kept per CPU and read approximately.
pub fn memory_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|rollup| {
            rollup
                .lines()
                .find(|l| l.split(':').next() == Some(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or_else(|| panic!("{field} of the server process"))
}

/// Kills the server process when the test ends, passed or failed.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}
