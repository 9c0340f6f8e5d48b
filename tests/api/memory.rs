//! The server's memory: what it frees goes back to the kernel while it is idle,
//! not only when the next request comes.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{KillOnDrop, database_url, memory_kib, serve_with};

/// Anonymous memory the server may keep once idle, in KiB: its heap without
/// the 19 MiB block a password hash takes.
const IDLE_HEAP_KIB: u64 = 14 * 1024;

/// Start-up hashes a decoy password and every sign-in verifies one, each in a
/// 19 MiB block that is freed at once. The allocator returns such memory only
/// when it is next called; the server must hand it back within a few seconds
/// while nothing else happens. (Left alone it did so only after 10 s, when the
/// idle thread that had hashed exited.)
#[tokio::test]
async fn memory_freed_by_password_hashing_goes_back_while_the_server_is_idle() {
    let dir = tempfile::tempdir().expect("dir");
    let database = database_url(&dir).await;
    let (server, address) = serve_with(&dir, &database, &[("RATE_LIMIT_ENABLED", "false")]);
    let server = KillOnDrop(server);
    let pid = server.0.id();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": "mutation { login(input: { email: \"nobody@example.org\", password: \"not the password\" }) { token } }" }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{answer}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut anonymous = vec![memory_kib(pid, "Anonymous")];
    while anonymous[anonymous.len() - 1] >= IDLE_HEAP_KIB && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        anonymous.push(memory_kib(pid, "Anonymous"));
    }
    eprintln!("anonymous memory while idle, in KiB, every 250 ms: {anonymous:?}");
    let held = anonymous[anonymous.len() - 1];
    assert!(
        held < IDLE_HEAP_KIB,
        "the server still holds {held} KiB after 5 s idle"
    );
}
