//! Start-up: connect, migrate, build the state, the schema and the router, bind,
//! and serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use tokio::net::TcpListener;

use crate::auth::{AccessList, Passwords, TokenKeys};
use crate::cache::memory::{MemoryStore, NoStore};
use crate::cache::near_responses::NearResponses;
use crate::cache::redis::RedisStore;
use crate::cache::{Cache, CacheStore};
use crate::config::{Config, ConfigError};
use crate::counters::StatementCounter;
use crate::db::article_relations::RelationsStatements;
use crate::db::list_reads::{self, IdleLimits, ListReads};
use crate::documents::TrustedDocuments;
use crate::error::Error;
use crate::graphql::admission::GuardedSchema;
use crate::pubsub::{InProcessPubSub, PubSub, RedisPubSub};
use crate::ratelimit::{MemoryRateLimits, RateLimitStore, RateLimiter, RedisRateLimits};
use crate::state::AppState;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database cannot be reached or migrated.
    #[error("database: {0}")]
    Database(#[from] DbErr),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Anything else.
    #[error(transparent)]
    Other(#[from] Error),
}

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How often each instance reads revocations and account changes made elsewhere.
const ACCESS_SYNC_INTERVAL: Duration = Duration::from_millis(500);

/// A bound, ready server.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    /// The listener of `/metrics`, when `METRICS_BIND` is set.
    metrics_listener: Option<TcpListener>,
    state: AppState,
}

/// Opens the connection pool, counting statements into `counter`.
pub async fn connect(
    config: &Config,
    counter: StatementCounter,
) -> Result<DatabaseConnection, StartError> {
    connect_counted(config, config.db_max_connections, counter).await
}

/// Opens what serves requests: the pool, counting statements into `counter`,
/// and the list reads, which on PostgreSQL take their share of
/// `DB_MAX_CONNECTIONS` from the pool ([`ListReads::split`]).
pub async fn connect_serving(
    config: &Config,
    counter: StatementCounter,
) -> Result<(DatabaseConnection, ListReads), StartError> {
    let on_postgres = list_reads::is_postgres_url(&config.database_url());
    let (pooled, reads) = ListReads::split(on_postgres, config.db_max_connections);
    let db = connect_counted(config, pooled, counter.clone()).await?;
    let reads = ListReads::new(db.clone(), reads, IdleLimits::SERVING, counter);
    Ok((db, reads))
}

/// A pool of `max_connections`, counting statements into `counter`.
async fn connect_counted(
    config: &Config,
    max_connections: u32,
    counter: StatementCounter,
) -> Result<DatabaseConnection, StartError> {
    let mut db = connect_pool(config, max_connections).await?;
    db.set_metric_callback(move |_| counter.record());
    Ok(db)
}

/// A small pool for background work (the access list sync), apart from the
/// pool that serves requests, so background statements never queue behind
/// requests nor count as theirs.
pub async fn connect_background(config: &Config) -> Result<DatabaseConnection, StartError> {
    connect_pool(config, 2).await
}

async fn connect_pool(
    config: &Config,
    max_connections: u32,
) -> Result<DatabaseConnection, StartError> {
    let url = config.database_url();
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ConfigError::File {
            path: config.data_dir.clone(),
            source,
        })?;
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A connection is checked with a round trip only once it has sat idle
        // long enough to have been dropped by the server or a proxy; checking
        // every checkout costs a round trip per statement.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.busy_timeout(Duration::from_secs(10))
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .foreign_keys(true)
        });
    let statement_limit = config.protection.db_statement_timeout();
    if let Some(limit) = statement_limit {
        options.statement_timeout(limit);
    }
    options.map_sqlx_mysql_pool_opts(move |pool| {
        pool.after_connect(move |connection, _| {
            Box::pin(async move { prepare_mysql_session(connection, statement_limit).await })
        })
    });
    Ok(Database::connect(options).await?)
}

/// Sets up a new MySQL or MariaDB connection: room for the longest list of an
/// article's tag names in `GROUP_CONCAT` (MySQL cuts it at 1,024 bytes by
/// default; ten 32-character names take up to 1,289), and the statement time
/// limit when there is one.
async fn prepare_mysql_session(
    connection: &mut sea_orm::sqlx::MySqlConnection,
    statement_limit: Option<Duration>,
) -> Result<(), sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Executor;
    connection
        .execute("SET SESSION group_concat_max_len = 65536")
        .await?;
    match statement_limit {
        Some(limit) => limit_mysql_statements(connection, limit).await,
        None => Ok(()),
    }
}

/// The manifest of trusted documents the configuration names, if any.
fn trusted_documents(config: &Config) -> Result<TrustedDocuments, ConfigError> {
    let only = config.protection.trusted_documents_only;
    match &config.protection.trusted_documents {
        Some(path) => {
            let documents = TrustedDocuments::load(path, only)?;
            tracing::info!(
                documents = documents.len(),
                only,
                "trusted documents loaded"
            );
            Ok(documents)
        }
        None if only => Err(ConfigError::Invalid(
            "TRUSTED_DOCUMENTS_ONLY needs a manifest in TRUSTED_DOCUMENTS".into(),
        )),
        None => Ok(TrustedDocuments::default()),
    }
}

/// Sets the statement time limit of a new MySQL or MariaDB connection: MariaDB
/// calls it `max_statement_time` (seconds), MySQL `max_execution_time` (ms).
async fn limit_mysql_statements(
    connection: &mut sea_orm::sqlx::MySqlConnection,
    limit: Duration,
) -> Result<(), sea_orm::sqlx::Error> {
    use sea_orm::sqlx::{AssertSqlSafe, Executor};
    let mariadb = format!("SET SESSION max_statement_time = {}", limit.as_secs_f64());
    if connection.execute(AssertSqlSafe(mariadb)).await.is_ok() {
        return Ok(());
    }
    let mysql = format!("SET SESSION max_execution_time = {}", limit.as_millis());
    connection.execute(AssertSqlSafe(mysql)).await.map(|_| ())
}

impl Application {
    /// Connects, migrates (unless switched off), builds the state and binds.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let tokens = TokenKeys::from_config(&config)?;
        Self::build_with_tokens(config, tokens).await
    }

    /// Like [`Application::build`] with token keys made by the caller.
    pub async fn build_with_tokens(config: Config, tokens: TokenKeys) -> Result<Self, StartError> {
        let statements = StatementCounter::default();
        let (db, list_reads) = connect_serving(&config, statements.clone()).await?;
        if config.run_migrations {
            Migrator::up(&db, None).await?;
        }
        let access = AccessList::load(&db).await.map_err(StartError::Other)?;
        let background = connect_background(&config).await?;
        access.spawn_sync(background.clone(), ACCESS_SYNC_INTERVAL);
        let timeout = Duration::from_millis(config.cache_timeout_ms);
        // The cache and the rate limits share one connection, so a request's
        // freshness check and charge go out in one write.
        let redis = config
            .redis_url
            .as_ref()
            .map(|url| (url, RedisStore::new(url.clone(), timeout)));
        let (cache_store, pubsub): (Arc<dyn CacheStore>, Arc<dyn PubSub>) = match &redis {
            Some((url, redis)) => (
                Arc::new(redis.clone()),
                RedisPubSub::start(url, &config.redis_prefix, timeout),
            ),
            None => (
                Arc::new(MemoryStore::new(config.cache_memory_mb * 1024 * 1024)),
                InProcessPubSub::shared(1024),
            ),
        };
        let cache_store: Arc<dyn CacheStore> = if config.cache_enabled {
            cache_store
        } else {
            Arc::new(NoStore)
        };
        let cache = Cache::start(cache_store, &config.redis_prefix, timeout);
        let lease = Duration::from_millis(config.cache_copy_lease_ms);
        if let Some((url, redis)) = &redis
            && config.cache_enabled
            && !lease.is_zero()
        {
            cache.start_watch(url, redis.clone(), lease);
        }
        let rate_limit_store: Arc<dyn RateLimitStore> = match redis {
            Some((_, redis)) => Arc::new(RedisRateLimits::new(redis)),
            None => Arc::new(MemoryRateLimits::default()),
        };
        let rate_limits = Arc::new(RateLimiter::new(
            rate_limit_store,
            &config.redis_prefix,
            timeout,
            config.protection.rate_limit_lease_points,
        ));
        access.sync_on_announcements(background, pubsub.as_ref());
        tracing::info!(store = cache.kind(), "cache ready");
        // A shared store is a network away: keep copies of the responses
        // served here. An in-process store is as near as a copy would be.
        let near_responses = (config.cache_enabled && config.redis_url.is_some())
            .then(|| Arc::new(NearResponses::new(config.cache_memory_mb * 1024 * 1024)));
        let relation_statements = Arc::new(RelationsStatements::new(db.get_database_backend()));
        let state = AppState {
            access,
            cache,
            near_responses,
            db,
            list_reads,
            pubsub,
            tokens,
            passwords: Passwords::new().await?,
            rate_limits,
            trusted_documents: Arc::new(trusted_documents(&config)?),
            config: Arc::new(config),
            statements,
            relation_statements,
            tag_names: Arc::default(),
            lists: Arc::default(),
            responses: Arc::default(),
        };
        let addr = state.config.bind;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let metrics_listener = match state.config.metrics_bind {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        let schema = GuardedSchema::new(state.clone());
        let router = crate::http::router(state.clone(), schema);
        Ok(Self {
            listener,
            router,
            metrics_listener,
            state,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address `/metrics` is served on, when `METRICS_BIND` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish for
    /// up to ten seconds (long-lived subscriptions are cut after that).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr()?, "listening");
        let (stopping, mut stopped) = tokio::sync::watch::channel(false);
        if let Some(listener) = self.metrics_listener {
            tracing::info!(addr = %listener.local_addr()?, "serving metrics");
            let metrics = crate::http::metrics::router(self.state.clone());
            let mut metrics_stopped = stopped.clone();
            tokio::spawn(async move {
                let stop = async move {
                    let _ = metrics_stopped.wait_for(|stopping| *stopping).await;
                };
                if let Err(err) = axum::serve(listener, metrics)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    tracing::error!(error = %err, "the metrics listener failed");
                }
            });
        }
        let signal = async move {
            shutdown.await;
            let _ = stopping.send(true);
        };
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(self.listener, service).with_graceful_shutdown(signal);
        let grace = async move {
            if stopped.wait_for(|stopping| *stopping).await.is_ok() {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            result = serve => result,
            () = grace => {
                tracing::warn!("connections still open after the grace period; closing them");
                Ok(())
            }
        }
    }

    /// Serves until SIGTERM or Ctrl-C.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing in-flight requests");
}
