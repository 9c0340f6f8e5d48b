//! [`ListReads`] against the server `TEST_DATABASE_URL` names. On
//! PostgreSQL: which connections go back, which are closed, and how many
//! round trips a statement costs, counted by a proxy between the two. On the
//! other backends: that lists are read through the pool.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::{
    ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, SqlxPostgresConnector,
    Statement,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_default()
}

fn postgres_url() -> Option<String> {
    let url = server_url();
    is_postgres_url(&url).then_some(url)
}

/// A pool of one connection to `options`, with no test on checkout (the
/// server's pool tests only connections that sat idle).
async fn pool(options: PgConnectOptions) -> DatabaseConnection {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .expect("connect");
    SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
}

async fn backend_pid(reads: &ListReads) -> Result<i32, DbErr> {
    let statement = Statement::from_string(DatabaseBackend::Postgres, "SELECT pg_backend_pid()");
    let rows = reads.query_all_raw(statement).await?;
    rows[0].try_get_by_index(0)
}

/// List reads with `connections` connections, and the pool beside them.
async fn read_connections(
    connections: u32,
    limits: IdleLimits,
) -> Option<(ListReads, StatementCounter)> {
    let url = postgres_url()?;
    let db = pool(PgConnectOptions::from_str(&url).expect("url")).await;
    let statements = StatementCounter::default();
    let reads = ListReads::new(db, connections, limits, statements.clone());
    Some((reads, statements))
}

async fn one_read_connection(limits: IdleLimits) -> Option<(ListReads, StatementCounter)> {
    read_connections(1, limits).await
}

/// Tested when idle for `test_after`; closed only after an hour.
fn tested_after(test_after: Duration) -> IdleLimits {
    IdleLimits {
        test_after,
        close_after: Duration::from_secs(3600),
    }
}

#[tokio::test]
async fn a_connection_goes_back_after_a_finished_statement_and_serves_the_next() {
    let Some((reads, statements)) = one_read_connection(IdleLimits::SERVING).await else {
        return;
    };
    let first = backend_pid(&reads).await.expect("first");
    assert_eq!(reads.idle_connections(), 1);
    assert_eq!(backend_pid(&reads).await.expect("second"), first);
    assert_eq!(statements.get(), 2, "each statement is counted");
}

#[tokio::test]
async fn a_connection_whose_statement_failed_is_closed() {
    let Some((reads, _)) = one_read_connection(IdleLimits::SERVING).await else {
        return;
    };
    let first = backend_pid(&reads).await.expect("first");
    let failing = Statement::from_string(DatabaseBackend::Postgres, "SELECT 1 / 0");
    assert!(reads.query_all_raw(failing).await.is_err());
    assert_eq!(reads.idle_connections(), 0);
    assert_ne!(backend_pid(&reads).await.expect("after"), first);
}

#[tokio::test]
async fn a_connection_given_up_while_its_statement_runs_is_closed() {
    let Some((reads, _)) = one_read_connection(IdleLimits::SERVING).await else {
        return;
    };
    let first = backend_pid(&reads).await.expect("first");
    let sleeping = Statement::from_string(DatabaseBackend::Postgres, "SELECT pg_sleep(30)");
    let given_up =
        tokio::time::timeout(Duration::from_millis(200), reads.query_all_raw(sleeping)).await;
    assert!(given_up.is_err(), "the statement was still out");
    assert_eq!(reads.idle_connections(), 0);
    // A connection still waiting on the sleep would answer only after it.
    let after = tokio::time::timeout(Duration::from_secs(10), backend_pid(&reads))
        .await
        .expect("answered at once")
        .expect("after");
    assert_ne!(after, first);
}

/// The server ends the idle connection's session, as a restart or a proxy's
/// idle timeout would.
async fn end_session(reads: &ListReads, pid: i32) {
    let end = Statement::from_string(
        DatabaseBackend::Postgres,
        format!("SELECT pg_terminate_backend({pid})"),
    );
    reads.db.query_all_raw(end).await.expect("terminate");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn an_idle_connection_is_tested_and_replaced_when_the_server_dropped_it() {
    let Some((reads, _)) = one_read_connection(tested_after(Duration::ZERO)).await else {
        return;
    };
    let first = backend_pid(&reads).await.expect("first");
    end_session(&reads, first).await;
    let after = backend_pid(&reads).await.expect("a new connection answers");
    assert_ne!(after, first);

    // Untested (it has not sat long), the dropped connection fails its
    // statement, and is closed for the next.
    let Some((reads, _)) = one_read_connection(tested_after(Duration::from_secs(3600))).await
    else {
        return;
    };
    let first = backend_pid(&reads).await.expect("first");
    end_session(&reads, first).await;
    assert!(backend_pid(&reads).await.is_err());
    assert_ne!(backend_pid(&reads).await.expect("the next"), first);
}

#[tokio::test]
async fn a_connection_idle_past_its_limit_is_closed_when_another_comes_back() {
    for (close_after, left_open) in [(Duration::from_secs(1), 1), (Duration::from_secs(3600), 2)] {
        let limits = IdleLimits {
            test_after: Duration::from_secs(3600),
            close_after,
        };
        let Some((reads, _)) = read_connections(2, limits).await else {
            return;
        };
        // Two statements at once open both connections.
        let sleep = || Statement::from_string(DatabaseBackend::Postgres, "SELECT pg_sleep(0.2)");
        let (a, b) = tokio::join!(reads.query_all_raw(sleep()), reads.query_all_raw(sleep()));
        a.expect("first");
        b.expect("second");
        assert_eq!(reads.idle_connections(), 2);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // This one takes the connection back last, and returns it.
        backend_pid(&reads).await.expect("one more");
        assert_eq!(
            reads.idle_connections(),
            left_open,
            "closing after {close_after:?}"
        );
    }
}

/// Forwards connections to `upstream` and counts the Sync messages clients
/// send: one per round trip the client waits on.
async fn counting_proxy(upstream: (String, u16)) -> (u16, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let syncs = Arc::new(AtomicU64::new(0));
    let counted = syncs.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect((upstream.0.as_str(), upstream.1))
                .await
                .expect("upstream");
            let (mut from_client, mut to_client) = client.into_split();
            let (mut from_server, mut to_server) = server.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut from_server, &mut to_client).await });
            let syncs = counted.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut parsed = 0;
                let mut started = false;
                let mut chunk = [0u8; 8192];
                loop {
                    let n = match from_client.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    seen.extend_from_slice(&chunk[..n]);
                    if to_server.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    // The startup message has no type byte; every later one
                    // is a type byte and a length that counts itself.
                    loop {
                        let rest = &seen[parsed..];
                        let (header, length) = if started {
                            match rest.get(1..5) {
                                Some(len) => (1, u32::from_be_bytes(len.try_into().expect("4"))),
                                None => break,
                            }
                        } else {
                            match rest.get(..4) {
                                Some(len) => (0, u32::from_be_bytes(len.try_into().expect("4"))),
                                None => break,
                            }
                        };
                        let whole = header + length as usize;
                        if rest.len() < whole {
                            break;
                        }
                        if started && rest[0] == b'S' {
                            syncs.fetch_add(1, Ordering::SeqCst);
                        }
                        started = true;
                        parsed += whole;
                    }
                }
            });
        }
    });
    (port, syncs)
}

#[tokio::test]
async fn a_list_read_costs_one_round_trip_where_the_pool_adds_a_test() {
    let Some(url) = postgres_url() else {
        return;
    };
    let direct = PgConnectOptions::from_str(&url)
        .expect("url")
        .ssl_mode(sea_orm::sqlx::postgres::PgSslMode::Disable);
    let (port, syncs) = counting_proxy((direct.get_host().to_owned(), direct.get_port())).await;
    let proxied = direct.clone().host("127.0.0.1").port(port);
    let db = pool(proxied).await;
    let reads = ListReads::new(
        db.clone(),
        1,
        IdleLimits::SERVING,
        StatementCounter::default(),
    );
    let statement = || Statement::from_string(DatabaseBackend::Postgres, "SELECT 1");
    // Once each first, so the statement is prepared on both connections.
    db.query_all_raw(statement()).await.expect("pool");
    reads.query_all_raw(statement()).await.expect("reads");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let before = syncs.load(Ordering::SeqCst);
    for _ in 0..5 {
        db.query_all_raw(statement()).await.expect("pool");
    }
    // The pool tests a connection in a task of its own after it is back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let through_pool = syncs.load(Ordering::SeqCst) - before;
    let before = syncs.load(Ordering::SeqCst);
    for _ in 0..5 {
        reads.query_all_raw(statement()).await.expect("reads");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let through_reads = syncs.load(Ordering::SeqCst) - before;
    assert_eq!(through_reads, 5, "one round trip per statement");
    assert_eq!(
        through_pool, 10,
        "the pool tests each connection it gets back with a round trip"
    );
}

#[test]
fn postgres_urls_are_told_by_their_scheme() {
    assert!(is_postgres_url("postgres://u@h/db"));
    assert!(is_postgres_url("PostgreSQL://u@h/db"));
    for other in ["sqlite::memory:", "mysql://root@h/test", "", "postgres"] {
        assert!(!is_postgres_url(other), "{other}");
    }
}

/// On every backend, whatever `TEST_DATABASE_URL` names.
#[test]
fn the_connections_are_shared_with_the_pool_on_postgres_only() {
    let (pooled, reads) = ListReads::split(true, 32);
    assert_eq!((pooled, reads), (16, 16));
    assert_eq!(ListReads::split(true, 1), (1, 0));
    assert_eq!(ListReads::split(false, 32), (32, 0));
}

#[tokio::test]
async fn other_backends_read_lists_through_the_pool() {
    if postgres_url().is_some() {
        return;
    }
    let url = server_url();
    let url = if url.is_empty() {
        "sqlite::memory:".to_owned()
    } else {
        url
    };
    let db = Database::connect(url.as_str()).await.expect("connect");
    let backend = db.get_database_backend();
    let reads = ListReads::new(db, 16, IdleLimits::SERVING, StatementCounter::default());
    let rows = reads
        .query_all_raw(Statement::from_string(backend, "SELECT 1"))
        .await
        .expect("query");
    assert_eq!(rows.len(), 1);
    assert_eq!(reads.idle_connections(), 0, "no connections of its own");
}
