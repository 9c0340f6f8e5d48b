//! Configuration: one [`Config`], read from an optional `conduit.toml` and then
//! from environment variables, which win.
//!
//! Every setting has a working default for local development, so `conduit serve`
//! runs on a fresh machine with nothing set. [`Protection`] holds the limits
//! that keep a public endpoint safe.

mod protection;

pub use protection::{MAX_NESTING_CEILING, PROTECTION_ENV_VARS, Protection};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Environment variables read into [`Config`], each named after its field in upper case.
pub const ENV_VARS: &[&str] = &[
    "DATABASE_URL",
    "REDIS_URL",
    "BIND",
    "METRICS_BIND",
    "DATA_DIR",
    "TOKEN_PRIVATE_KEY",
    "TOKEN_TTL_SECS",
    "RUN_MIGRATIONS",
    "LOG_FORMAT",
    "DB_MAX_CONNECTIONS",
    "AUTHORIZER_MAX_TIME_MS",
    "REDIS_PREFIX",
    "CACHE_TIMEOUT_MS",
    "CACHE_MEMORY_MB",
    "CACHE_ENABLED",
    "CACHE_COPY_LEASE_MS",
    "ENVIRONMENT",
];

/// Everything the gateway can be told at start-up.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    /// Database to use: `sqlite://…`, `postgres://…` or `mysql://…`.
    /// Unset means a SQLite file `conduit.db` in [`Config::data_dir`], created when missing.
    pub database_url: Option<String>,
    /// Redis for the shared cache and pub/sub; unset means in-process only.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so several deployments can share one Redis.
    pub redis_prefix: String,
    /// Longest a request waits on the cache store before reading the database, in milliseconds.
    pub cache_timeout_ms: u64,
    /// Whether hot reads go through the cache at all (off: every read hits the database).
    pub cache_enabled: bool,
    /// Most memory the in-process cache holds, in MiB: the whole cache when
    /// there is no Redis; with Redis, this instance's copies of the anonymous
    /// responses it served.
    pub cache_memory_mb: u64,
    /// With Redis: how long this instance may serve its copies of anonymous
    /// responses on the invalidations it heard over Redis, without reading
    /// the generations, in milliseconds. A write waits at most this long for
    /// an instance that does not confirm it heard the write. 0 reads the
    /// generations for every round of requests instead.
    pub cache_copy_lease_ms: u64,
    /// Address the HTTP server listens on. Port 0 picks a free port.
    pub bind: SocketAddr,
    /// Address of a listener of its own that serves `/metrics`, kept off the
    /// public port; unset serves no metrics. Port 0 picks a free port.
    pub metrics_bind: Option<SocketAddr>,
    /// Directory for local state: the default SQLite file and the generated token key.
    pub data_dir: PathBuf,
    /// Hex-encoded Ed25519 private key that signs tokens. Unset means the key ring
    /// `token_keys.json` inside [`Config::data_dir`], created on first start and
    /// managed with `conduit keys`.
    pub token_private_key: Option<String>,
    /// How long a token minted at sign-in stays valid, in seconds.
    pub token_ttl_secs: u64,
    /// Whether `serve` applies pending migrations before it accepts requests.
    pub run_migrations: bool,
    /// `pretty` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Most connections to the database that serve requests. On PostgreSQL
    /// half of them read list pages ([`crate::db::list_reads`]) and the
    /// pool keeps the rest; elsewhere the pool has them all.
    pub db_max_connections: u32,
    /// Most time one authorization decision may take, in milliseconds.
    pub authorizer_max_time_ms: u64,
    /// `production` (the default) or `development`, which turns on GraphiQL,
    /// introspection and field suggestions.
    pub environment: Environment,
    /// Limits, CSRF and CORS, rate limits and trusted documents.
    #[serde(flatten)]
    pub protection: Protection,
}

/// Where the server runs, which decides the defaults of the developer conveniences.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Safe defaults: no introspection, no field suggestions, no GraphiQL unless switched on.
    #[default]
    Production,
    /// GraphiQL, introspection and field suggestions on.
    Development,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, coloured when the output is a terminal.
    Pretty,
    /// One JSON object per line.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            redis_url: None,
            redis_prefix: "conduit".into(),
            cache_timeout_ms: 100,
            cache_enabled: true,
            cache_memory_mb: 32,
            cache_copy_lease_ms: 500,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_bind: None,
            data_dir: PathBuf::from("data"),
            token_private_key: None,
            token_ttl_secs: 60 * 60 * 24 * 14,
            run_migrations: true,
            log_format: LogFormat::Pretty,
            db_max_connections: 16,
            authorizer_max_time_ms: 20,
            environment: Environment::Production,
            protection: Protection::default(),
        }
    }
}

/// Configuration that cannot be used; the binary prints it on one line and exits with code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is missing, malformed or of the wrong type.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// A file the configuration points at cannot be read or written.
    #[error("configuration file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl Config {
    /// Reads `conduit.toml` (or the file named by `CONDUIT_CONFIG`) if present, then the
    /// environment variables in [`ENV_VARS`].
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var("CONDUIT_CONFIG").unwrap_or_else(|_| "conduit.toml".into());
        if std::env::var_os("CONDUIT_CONFIG").is_some() && !Path::new(&file).exists() {
            return Err(ConfigError::Invalid(format!(
                "CONDUIT_CONFIG names {file}, which does not exist"
            )));
        }
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(
                Env::raw()
                    .only(&[ENV_VARS, PROTECTION_ENV_VARS].concat())
                    .map(|key| key.as_str().to_ascii_lowercase().into()),
            )
            .extract::<Config>()
            .map_err(|err| ConfigError::Invalid(one_line(&err)))?
            .validated()
    }

    /// Checks what the types alone do not: a supported database and a well-formed key.
    pub fn validated(self) -> Result<Self, ConfigError> {
        const SCHEMES: [&str; 5] = ["sqlite:", "postgres:", "postgresql:", "mysql:", "mariadb:"];
        if !SCHEMES
            .iter()
            .any(|scheme| self.database_url().starts_with(scheme))
        {
            return Err(ConfigError::Invalid(
                "DATABASE_URL must start with sqlite:, postgres:, postgresql: or mysql:".into(),
            ));
        }
        if let Some(key) = &self.token_private_key {
            let key = key.trim();
            if key.len() != 64 || !key.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(ConfigError::Invalid(
                    "TOKEN_PRIVATE_KEY must be 64 hex digits (an Ed25519 private key)".into(),
                ));
            }
        }
        if self.protection.max_nesting > MAX_NESTING_CEILING {
            return Err(ConfigError::Invalid(format!(
                "MAX_NESTING may be at most {MAX_NESTING_CEILING}: deeper documents could overflow the parser's stack"
            )));
        }
        if self.db_max_connections == 0 {
            return Err(ConfigError::Invalid(
                "DB_MAX_CONNECTIONS must be at least 1".into(),
            ));
        }
        Ok(self)
    }

    /// The database URL to connect to, with the SQLite default filled in.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("conduit.db").display()
            ),
        }
    }

    /// The key ring file used when no `TOKEN_PRIVATE_KEY` is set.
    pub fn keyring_path(&self) -> PathBuf {
        self.data_dir.join("token_keys.json")
    }

    /// Whether GraphiQL is served.
    pub fn graphiql_enabled(&self) -> bool {
        self.protection
            .graphiql
            .unwrap_or(self.environment == Environment::Development)
    }

    /// Whether introspection and field suggestions are on.
    pub fn introspection_enabled(&self) -> bool {
        self.protection
            .introspection
            .unwrap_or(self.environment == Environment::Development)
    }

    /// Lifetime of a freshly minted token.
    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.token_ttl_secs)
    }
}

fn one_line(err: &figment::Error) -> String {
    err.clone()
        .into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_database_is_a_sqlite_file_in_the_data_dir() {
        let config = Config::default();
        assert_eq!(config.database_url(), "sqlite://data/conduit.db?mode=rwc");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
    fn environment_overrides_defaults_and_bad_values_are_reported() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("BIND", "0.0.0.0:9000");
            jail.set_env("RUN_MIGRATIONS", "false");
            let config = Config::load().expect("valid");
            assert_eq!(config.bind.port(), 9000);
            assert!(!config.run_migrations);
            assert_eq!(config.environment, Environment::Production);
            assert!(!config.graphiql_enabled());

            jail.set_env("MAX_DEPTH", "7");
            jail.set_env("ENVIRONMENT", "development");
            let config = Config::load().expect("valid");
            assert_eq!(config.protection.max_depth, 7);
            assert!(config.graphiql_enabled() && config.introspection_enabled());

            jail.set_env("MAX_NESTING", "129");
            let err = Config::load().expect_err("nesting over the ceiling");
            assert!(err.to_string().contains("MAX_NESTING"), "{err}");
            jail.set_env("MAX_NESTING", "128");
            assert_eq!(Config::load().expect("valid").protection.max_nesting, 128);

            jail.set_env("BIND", "not-an-address");
            let err = Config::load().expect_err("invalid bind");
            assert!(err.to_string().to_lowercase().contains("bind"), "{err}");
            Ok(())
        });
    }
}
