//! Where list pages are read: on PostgreSQL, connections of their own that
//! go back without a round trip; on the other backends, the pool.
//!
//! sqlx's pool tests every connection it gets back with a round trip (a Sync
//! message, answered by ReadyForQuery) before another statement may use it.
//! A list page is one statement, so that test is half the page's round trips,
//! and PostgreSQL wakes for it as often as for the statement. The connections
//! here go back only from a statement that finished: its rows read to the end
//! and the server ready for the next one. A connection whose statement failed,
//! or whose request was dropped while the statement was out, is closed
//! instead, so the next statement never meets what one before it left. One
//! that sat idle long enough for the server or a proxy to have dropped it is
//! tested once before it is used, and one idle for ten minutes is closed, as
//! the pool does ([`IdleLimits::SERVING`]).
//!
//! The connections are opened with the pool's own options (the statement
//! time limit among them) and take their number from it: the pool and these
//! together stay within `DB_MAX_CONNECTIONS` ([`ListReads::split`]).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sea_orm::error::{ConnAcquireErr, RuntimeErr};
use sea_orm::sea_query::Values;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{AssertSqlSafe, ConnectOptions, Connection};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, ExecResult, QueryResult, Statement,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Semaphore;

use crate::counters::StatementCounter;

/// How long a caller waits for a free connection, as for the pool's.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// What becomes of a connection that sits idle.
#[derive(Clone, Copy, Debug)]
pub struct IdleLimits {
    /// Idle this long, it is tested with a round trip before it is used.
    pub test_after: Duration,
    /// Idle this long, it is closed the next time a statement finishes.
    pub close_after: Duration,
}

impl IdleLimits {
    /// As the pool does: tested after 30 s (`test_before_acquire_if_idle_for`
    /// in [`crate::app`]), closed after 10 minutes (sqlx's idle timeout).
    pub const SERVING: Self = Self {
        test_after: Duration::from_secs(30),
        close_after: Duration::from_secs(600),
    };
}

/// Runs the statements that read list pages. Every other statement, and
/// every statement on SQLite and MySQL, goes to the pool it holds.
#[derive(Clone)]
pub struct ListReads {
    db: DatabaseConnection,
    postgres: Option<Arc<PostgresReads>>,
}

/// PostgreSQL connections that come back only from a finished statement.
struct PostgresReads {
    options: PgConnectOptions,
    idle: Mutex<Vec<IdleConnection>>,
    slots: Semaphore,
    limits: IdleLimits,
    statements: StatementCounter,
}

struct IdleConnection {
    connection: PgConnection,
    since: Instant,
}

impl ListReads {
    /// Reads through `db` alone.
    pub fn pooled(db: DatabaseConnection) -> Self {
        Self { db, postgres: None }
    }

    /// On PostgreSQL, up to `connections` connections of their own, opened
    /// with `db`'s options as they are needed and kept within `limits` while
    /// idle, counting each statement into `statements`; elsewhere (or with
    /// none), [`ListReads::pooled`].
    pub fn new(
        db: DatabaseConnection,
        connections: u32,
        limits: IdleLimits,
        statements: StatementCounter,
    ) -> Self {
        if db.get_database_backend() != DatabaseBackend::Postgres || connections == 0 {
            return Self::pooled(db);
        }
        let options = (*db.get_postgres_connection_pool().connect_options()).clone();
        let postgres = PostgresReads {
            options,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(connections as usize),
            limits,
            statements,
        };
        Self {
            db,
            postgres: Some(Arc::new(postgres)),
        }
    }

    /// How `max_connections` is shared: (the pool's, the list reads'). On
    /// PostgreSQL half of them, at least one each when there are two, read
    /// lists; elsewhere the pool keeps them all.
    pub fn split(on_postgres: bool, max_connections: u32) -> (u32, u32) {
        if !on_postgres || max_connections < 2 {
            return (max_connections, 0);
        }
        let reads = max_connections / 2;
        (max_connections - reads, reads)
    }

    /// How many connections are open and idle here (0 when the pool reads).
    pub fn idle_connections(&self) -> usize {
        self.postgres.as_ref().map_or(0, |postgres| {
            postgres
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len()
        })
    }
}

/// Whether `url` names a PostgreSQL server (scheme `postgres` or
/// `postgresql`).
pub fn is_postgres_url(url: &str) -> bool {
    url.split_once(':').is_some_and(|(scheme, _)| {
        scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql")
    })
}

impl PostgresReads {
    /// The rows of `statement`, on a connection of these.
    async fn query_all(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let _slot = tokio::time::timeout(ACQUIRE_TIMEOUT, self.slots.acquire())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?;
        let mut connection = self.connection().await?;
        self.statements.record();
        let values = SqlxValues(statement.values.unwrap_or(Values(Vec::new())));
        let rows = sea_orm::sqlx::query_with(AssertSqlSafe(statement.sql), values)
            .fetch_all(&mut connection)
            .await
            .map_err(query_error)?;
        // Only now, with every row read and the server ready, may the
        // connection serve another statement. On any return above it is
        // dropped, which closes it.
        let now = Instant::now();
        let stale = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            idle.push(IdleConnection {
                connection,
                since: now,
            });
            // Connections go back on top and are taken from the top, so the
            // one at the bottom has been idle longest.
            let stale = idle.first().is_some_and(|oldest| {
                now.saturating_duration_since(oldest.since) >= self.limits.close_after
            });
            stale.then(|| idle.remove(0))
        };
        // Closed here, outside the lock.
        drop(stale);
        Ok(rows.into_iter().map(QueryResult::from).collect())
    }

    /// The connection idle the shortest time, tested first if it sat long;
    /// a new one when none is idle or the one tested is gone.
    async fn connection(&self) -> Result<PgConnection, DbErr> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(IdleConnection {
            mut connection,
            since,
        }) = idle
        {
            if since.elapsed() < self.limits.test_after || connection.ping().await.is_ok() {
                return Ok(connection);
            }
            tracing::info!("an idle list-read connection failed its test; opening another");
        }
        self.options
            .connect()
            .await
            .map_err(|err| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(err))))
    }
}

fn query_error(err: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))
}

/// List reads are queries; everything else a caller might ask of this
/// connection goes to the pool.
#[async_trait]
impl ConnectionTrait for ListReads {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        self.db.execute_raw(statement).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.db.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.db.query_one_raw(statement).await
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.postgres {
            Some(postgres) => postgres.query_all(statement).await,
            None => self.db.query_all_raw(statement).await,
        }
    }
}

#[cfg(test)]
#[path = "list_reads_tests.rs"]
mod tests;
