//! The `conduit` binary: configuration errors, schema printing, migrations,
//! seeding and a clean stop on SIGTERM.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::helpers::serve_with;

const BINARY: &str = env!("CARGO_BIN_EXE_conduit");

fn conduit(dir: &tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BINARY);
    command
        .current_dir(dir.path())
        .args(args)
        .env_remove("DATABASE_URL")
        .env("DATA_DIR", dir.path());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display())
}

#[test]
fn invalid_configuration_ends_with_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().expect("dir");
    for env in [
        [("BIND", "not-an-address")],
        [("DATABASE_URL", "oracle://nope")],
        [("TOKEN_PRIVATE_KEY", "zz")],
    ] {
        let output = conduit(&dir, &["migrate", "status"], &env);
        assert_eq!(output.status.code(), Some(2), "{env:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{env:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{stderr}"
        );
    }
    let output = conduit(&dir, &["serve"], &[("TOKEN_PRIVATE_KEY", "zz")]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}

#[test]
fn schema_prints_the_checked_in_sdl_without_a_database() {
    let dir = tempfile::tempdir().expect("dir");
    let output = conduit(
        &dir,
        &["schema"],
        &[("DATABASE_URL", "postgres://127.0.0.1:1/none")],
    );
    assert!(output.status.success(), "{output:?}");
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
            .expect("schema");
    assert_eq!(String::from_utf8_lossy(&output.stdout), checked_in);
}

#[test]
fn migrate_up_status_down_and_fresh() {
    use migration::MigratorTrait;
    let total = migration::Migrator::migrations().len();
    let dir = tempfile::tempdir().expect("dir");
    let url = sqlite_url(&dir);
    let env = [("DATABASE_URL", url.as_str())];
    let status =
        |dir| String::from_utf8(conduit(dir, &["migrate", "status"], &env).stdout).expect("utf8");

    assert!(
        status(&dir).lines().all(|l| l.starts_with("Pending")),
        "{}",
        status(&dir)
    );
    assert!(conduit(&dir, &["migrate", "up"], &env).status.success());
    let applied = status(&dir);
    assert_eq!(applied.lines().count(), total, "{applied}");
    assert!(
        applied.lines().all(|l| l.starts_with("Applied")),
        "{applied}"
    );

    assert!(conduit(&dir, &["migrate", "down"], &env).status.success());
    let after_down = status(&dir);
    assert!(
        after_down
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("Pending")),
        "{after_down}"
    );
    assert_eq!(
        after_down
            .lines()
            .filter(|l| l.starts_with("Applied"))
            .count(),
        total - 1
    );

    assert!(conduit(&dir, &["migrate", "fresh"], &env).status.success());
    assert!(status(&dir).lines().all(|l| l.starts_with("Applied")));
}

/// Starts `conduit serve` on a free port; returns the child and its address.
fn serve(dir: &tempfile::TempDir, url: &str) -> (std::process::Child, String) {
    serve_with(dir, url, &[])
}

#[test]
fn seed_fills_the_database_and_serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let url = sqlite_url(&dir);
    let seeded = conduit(
        &dir,
        &["seed", "--users", "12", "--articles", "40"],
        &[("DATABASE_URL", url.as_str())],
    );
    assert!(seeded.status.success(), "{seeded:?}");

    let (mut child, address) = serve(&dir, &url);
    let client = reqwest::blocking::Client::new();
    let body: serde_json::Value = client
        .post(format!("{address}/graphql"))
        .header("content-type", "application/json")
        .body(r#"{"query":"{ articles(first: 100) { totalCount nodes { author { username } tags commentCount } } tags(first: 100) { name } }"}"#)
        .send()
        .expect("query")
        .json()
        .expect("json");
    let published = body["data"]["articles"]["totalCount"]
        .as_u64()
        .expect("count");
    assert!(
        (20..=40).contains(&published),
        "about nine in ten seeded articles are published: {body}"
    );
    assert!(!body["data"]["tags"].as_array().expect("tags").is_empty());
    let login: serde_json::Value = client
        .post(format!("{address}/graphql"))
        .header("content-type", "application/json")
        .body(
            serde_json::json!({ "query": "mutation($e: String!) { login(input: { email: $e, password: \"password123\" }) { token } }",
                "variables": { "e": format!("{}@example.com", body["data"]["articles"]["nodes"][0]["author"]["username"].as_str().expect("author")) } })
            .to_string(),
        )
        .send()
        .expect("login")
        .json()
        .expect("json");
    assert!(
        login["data"]["login"]["token"].is_string(),
        "seeded users can sign in: {login}"
    );

    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn keys_rotate_and_list_keep_old_keys() {
    let dir = tempfile::tempdir().expect("dir");
    let generated = conduit(&dir, &["keys", "generate"], &[]);
    let hex = String::from_utf8_lossy(&generated.stdout).trim().to_owned();
    assert_eq!(hex.len(), 64, "{generated:?}");
    assert!(conduit(&dir, &["keys", "rotate"], &[]).status.success());
    let listed = String::from_utf8(conduit(&dir, &["keys", "list"], &[]).stdout).expect("utf8");
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].contains("verify-only") && lines[1].contains("current"),
        "{listed}"
    );
    let retired = conduit(&dir, &["keys", "retire", "1"], &[]);
    assert!(retired.status.success(), "{retired:?}");
    let refused = conduit(&dir, &["keys", "retire", "2"], &[]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "the current key cannot be retired: {refused:?}"
    );
}

#[test]
fn token_attenuate_and_inspect_work_offline() {
    use conduit::auth::{Claims, Role, TokenKeys};
    let dir = tempfile::tempdir().expect("dir");
    let keys = TokenKeys::generate(Duration::from_secs(60), Default::default());
    let token = keys
        .mint(Claims {
            user_id: 9,
            role: Role::User,
            session_epoch: 0,
        })
        .expect("mint");
    let narrowed = conduit(
        &dir,
        &[
            "token",
            "attenuate",
            "--token",
            &token,
            "--read-only",
            "--article",
            "12",
        ],
        &[],
    );
    assert!(narrowed.status.success(), "{narrowed:?}");
    let narrowed = String::from_utf8(narrowed.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    let session = keys
        .verify(&narrowed)
        .expect("still signed by the same key");
    assert!(session.is_attenuated());
    let inspected = conduit(&dir, &["token", "inspect", "--token", &narrowed], &[]);
    let text = String::from_utf8(inspected.stdout).expect("utf8");
    assert!(
        text.contains("user(9)")
            && text.contains("check if operation(\"read\")")
            && text.contains("[12].contains($id)"),
        "{text}"
    );
    let bad = conduit(
        &dir,
        &[
            "token",
            "attenuate",
            "--token",
            &token,
            "--action",
            "root.shell",
        ],
        &[],
    );
    assert!(!bad.status.success());
}

#[test]
fn admin_create_makes_an_admin_who_can_sign_in() {
    let dir = tempfile::tempdir().expect("dir");
    let url = sqlite_url(&dir);
    let created = conduit(
        &dir,
        &[
            "admin",
            "create",
            "--username",
            "root",
            "--email",
            "root@example.org",
        ],
        &[
            ("DATABASE_URL", url.as_str()),
            ("CONDUIT_ADMIN_PASSWORD", "a long admin password"),
        ],
    );
    assert!(created.status.success(), "{created:?}");
    let (mut child, address) = serve(&dir, &url);
    let body: serde_json::Value = reqwest::blocking::Client::new()
        .post(format!("{address}/graphql"))
        .header("content-type", "application/json")
        .body(r#"{"query":"mutation { login(input: { email: \"root@example.org\", password: \"a long admin password\" }) { user { role } } }"}"#)
        .send()
        .expect("login")
        .json()
        .expect("json");
    child.kill().ok();
    child.wait().ok();
    assert_eq!(body["data"]["login"]["user"]["role"], "ADMIN", "{body}");
}

#[tokio::test]
async fn two_server_processes_share_events_and_cache_through_redis() {
    use crate::helpers::{TestRedis, WsClient};
    let redis = TestRedis::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let url = sqlite_url(&dir);
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let env = [
        ("REDIS_URL", redis.url.as_str()),
        ("REDIS_PREFIX", prefix.as_str()),
    ];
    let (mut first, a) = serve_with(&dir, &url, &env);
    let (mut second, b) = serve_with(&dir, &url, &env);
    let post = |address: String, body: serde_json::Value, token: Option<String>| async move {
        let mut request = reqwest::Client::new()
            .post(format!("{address}/graphql"))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .expect("request")
            .json::<serde_json::Value>()
            .await
            .expect("json")
    };
    let registered = post(
        a.clone(),
        serde_json::json!({ "query": "mutation { register(input: { username: \"jake\", email: \"jake@example.org\", password: \"long password\" }) { token } }" }),
        None,
    )
    .await;
    let token = registered["data"]["register"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let ws_b = format!("{}/graphql", b.replacen("http", "ws", 1));
    let mut client = WsClient::connect_url(&ws_b, "graphql-transport-ws").await;
    client
        .send(serde_json::json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(client.next().await.expect("ack")["type"], "connection_ack");
    client
        .send(serde_json::json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { articlePublished { title } }" } }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let read = serde_json::json!({ "query": "{ articles { totalCount } }" });
    assert_eq!(
        post(b.clone(), read.clone(), None).await["data"]["articles"]["totalCount"],
        0
    );
    post(
        a.clone(),
        serde_json::json!({ "query": "mutation { createArticle(input: { title: \"Across\", description: \"d\", body: \"b\" }) { article { slug } } }" }),
        Some(token),
    )
    .await;
    assert_eq!(
        post(b.clone(), read, None).await["data"]["articles"]["totalCount"],
        1,
        "B served a stale count"
    );
    let event = client.next().await.expect("an event");
    assert_eq!(
        event["payload"]["data"]["articlePublished"]["title"], "Across",
        "{event}"
    );
    for child in [&mut first, &mut second] {
        child.kill().ok();
        child.wait().ok();
    }
}
