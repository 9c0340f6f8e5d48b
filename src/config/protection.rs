//! The protection settings: what a request may ask for, how fast, and from where.
//!
//! Every limit has a production default (listed in docs/operations.md) and can be
//! changed from `conduit.toml` or the environment like any other setting.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The deepest nesting [`Protection::max_nesting`] may allow. The document
/// parser recurses once per level; at this depth a debug build parses,
/// validates and runs a document well within a 2 MiB thread stack (the async
/// runtime's), where about 300 levels of list values overflow it.
pub const MAX_NESTING_CEILING: usize = 128;

/// Limits and switches that keep a public endpoint safe.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Protection {
    /// Whether GraphiQL is served on `GET /graphql`; unset means only in development.
    pub graphiql: Option<bool>,
    /// Whether the schema answers introspection; unset means only in development.
    pub introspection: Option<bool>,
    /// Origins (e.g. `https://app.example.org`) that browsers may call from,
    /// comma-separated; empty allows no cross-origin caller. `*` allows any
    /// origin, without credentials.
    pub cors_allowed_origins: String,
    /// Whether requests a browser could send cross-site without a preflight are refused.
    pub csrf_prevention: bool,
    /// Deepest selection nesting a document may have, introspection
    /// (`__schema` and `__type` selections) not counted.
    pub max_depth: usize,
    /// Highest cost a document may have: each field costs 1, and a connection
    /// multiplies the cost of its children by its `first`/`last`;
    /// introspection fields are not counted.
    pub max_cost: u64,
    /// Deepest selection nesting an introspection part of a document
    /// (`__schema` or `__type` and what it selects) may have, counted from
    /// the root of the operation. The standard introspection query (graphql-js's
    /// `getIntrospectionQuery`, every option on) is 15 deep, most of it the
    /// `ofType` chain of its `TypeRef` fragment.
    pub max_introspection_depth: usize,
    /// Most list fields of introspection (`types`, `directives`, `fields`,
    /// `args`, `inputFields`, `interfaces`, `possibleTypes`, `enumValues`)
    /// nested inside each other: each multiplies the size of the answer by
    /// the length of its list. The standard introspection query nests 3
    /// (`types { fields { args } }`).
    pub max_introspection_list_nesting: usize,
    /// Most aliases in one document.
    pub max_aliases: usize,
    /// Most fields at the root of one operation.
    pub max_root_fields: usize,
    /// Most directives in one document.
    pub max_directives: usize,
    /// Most items in one list value, written in the document or sent as a
    /// variable, checked before the document is validated or run.
    pub max_list_length: usize,
    /// Most lexical tokens in one document, checked before it is parsed.
    pub max_tokens: usize,
    /// Deepest nesting of braces, brackets and parentheses (selection sets,
    /// arguments, list and object values) in one document, checked before it
    /// is parsed; at most [`MAX_NESTING_CEILING`].
    pub max_nesting: usize,
    /// Most operations in one batched request; 0 turns batching off.
    pub max_batch_size: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most headers in one request.
    pub max_headers: usize,
    /// Largest total size of a request's header names and values, in bytes.
    pub max_header_bytes: usize,
    /// Longest one HTTP request may run, in milliseconds; it is then cancelled.
    pub request_timeout_ms: u64,
    /// Longest one SQL statement may run on PostgreSQL and MySQL/MariaDB, in
    /// milliseconds; 0 means no limit.
    pub db_statement_timeout_ms: u64,
    /// How long a WebSocket client has to send `connection_init`, in milliseconds.
    pub ws_init_timeout_ms: u64,
    /// Most subscriptions open at once on one WebSocket connection.
    pub ws_max_subscriptions: usize,
    /// Most operations open at once for one caller (a user, or an anonymous
    /// client address) across its WebSocket connections to this instance:
    /// subscriptions, and queries and mutations while they run.
    pub ws_max_subscriptions_per_caller: usize,
    /// Most WebSocket connections open at once from one client address.
    pub ws_max_connections_per_client: usize,
    /// Whether requests are charged against a budget of points.
    pub rate_limit_enabled: bool,
    /// Points each caller (token subject, or client address when anonymous) has per window.
    pub rate_limit_points: u64,
    /// Length of a rate-limit window, in seconds.
    pub rate_limit_window_secs: u64,
    /// Points a mutation costs at the least.
    pub rate_limit_mutation_cost: u64,
    /// With Redis, the most points one instance takes from a caller's budget
    /// ahead of use, so that the requests after a charge spend them without a
    /// round trip (at most 1% of the budget; 0 sends every charge to Redis).
    pub rate_limit_lease_points: u64,
    /// Sign-in attempts (`login`, `register`, `updateViewer`) one client address may make per window.
    pub auth_rate_limit_attempts: u64,
    /// Length of the sign-in attempt window, in seconds.
    pub auth_rate_limit_window_secs: u64,
    /// Whether automatic persisted queries (Apollo's protocol) are accepted.
    pub persisted_queries: bool,
    /// A manifest of trusted documents (`{"<sha256>": "<document>", …}`, as client
    /// code generators emit it).
    pub trusted_documents: Option<PathBuf>,
    /// When on, only documents in the manifest run, named by hash or sent as identical text.
    pub trusted_documents_only: bool,
}

impl Default for Protection {
    fn default() -> Self {
        Self {
            graphiql: None,
            introspection: None,
            cors_allowed_origins: String::new(),
            csrf_prevention: true,
            max_depth: 12,
            max_cost: 20_000,
            max_introspection_depth: 20,
            max_introspection_list_nesting: 3,
            max_aliases: 30,
            max_root_fields: 20,
            max_directives: 50,
            max_list_length: 100,
            max_tokens: 15_000,
            max_nesting: 64,
            max_batch_size: 0,
            max_body_bytes: 2 * 1024 * 1024,
            max_headers: 64,
            max_header_bytes: 16 * 1024,
            request_timeout_ms: 30_000,
            db_statement_timeout_ms: 10_000,
            ws_init_timeout_ms: 3_000,
            ws_max_subscriptions: 100,
            ws_max_subscriptions_per_caller: 200,
            ws_max_connections_per_client: 20,
            rate_limit_enabled: true,
            rate_limit_points: 5_000,
            rate_limit_window_secs: 3_600,
            rate_limit_mutation_cost: 10,
            rate_limit_lease_points: 1_000,
            auth_rate_limit_attempts: 10,
            auth_rate_limit_window_secs: 60,
            persisted_queries: true,
            trusted_documents: None,
            trusted_documents_only: false,
        }
    }
}

/// Environment variables read into [`Protection`], each named after its field in upper case.
pub const PROTECTION_ENV_VARS: &[&str] = &[
    "GRAPHIQL",
    "INTROSPECTION",
    "CORS_ALLOWED_ORIGINS",
    "CSRF_PREVENTION",
    "MAX_DEPTH",
    "MAX_COST",
    "MAX_INTROSPECTION_DEPTH",
    "MAX_INTROSPECTION_LIST_NESTING",
    "MAX_ALIASES",
    "MAX_ROOT_FIELDS",
    "MAX_DIRECTIVES",
    "MAX_LIST_LENGTH",
    "MAX_TOKENS",
    "MAX_NESTING",
    "MAX_BATCH_SIZE",
    "MAX_BODY_BYTES",
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "REQUEST_TIMEOUT_MS",
    "DB_STATEMENT_TIMEOUT_MS",
    "WS_INIT_TIMEOUT_MS",
    "WS_MAX_SUBSCRIPTIONS",
    "WS_MAX_SUBSCRIPTIONS_PER_CALLER",
    "WS_MAX_CONNECTIONS_PER_CLIENT",
    "RATE_LIMIT_ENABLED",
    "RATE_LIMIT_POINTS",
    "RATE_LIMIT_WINDOW_SECS",
    "RATE_LIMIT_MUTATION_COST",
    "RATE_LIMIT_LEASE_POINTS",
    "AUTH_RATE_LIMIT_ATTEMPTS",
    "AUTH_RATE_LIMIT_WINDOW_SECS",
    "PERSISTED_QUERIES",
    "TRUSTED_DOCUMENTS",
    "TRUSTED_DOCUMENTS_ONLY",
];

impl Protection {
    /// The allowed cross-origin callers, trimmed, without empty entries.
    pub fn allowed_origins(&self) -> Vec<String> {
        self.cors_allowed_origins
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Whether a WebSocket upgrade from a page at `origin` (its `Origin`
    /// header) may open, the server being reached as `host` (its `Host`
    /// header): always without an `Origin` (not a browser), from the server's
    /// own origin, and when no allowlist is set or it holds `*`; otherwise
    /// only from a listed origin. Browsers do not apply CORS to WebSockets,
    /// so the server must.
    pub fn allows_websocket_origin(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let same_origin = host.is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
        });
        let allowed = self.allowed_origins();
        same_origin
            || allowed.is_empty()
            || allowed
                .iter()
                .any(|listed| listed == "*" || listed.eq_ignore_ascii_case(origin))
    }

    /// [`Protection::request_timeout_ms`] as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// [`Protection::ws_init_timeout_ms`] as a duration.
    pub fn ws_init_timeout(&self) -> Duration {
        Duration::from_millis(self.ws_init_timeout_ms)
    }

    /// [`Protection::db_statement_timeout_ms`] as a duration; `None` for no limit.
    pub fn db_statement_timeout(&self) -> Option<Duration> {
        (self.db_statement_timeout_ms > 0)
            .then(|| Duration::from_millis(self.db_statement_timeout_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_origins_are_checked_against_the_allowlist_when_one_is_set() {
        let open = Protection::default();
        assert!(open.allows_websocket_origin(Some("https://evil.example"), Some("api.example")));
        let listed = Protection {
            cors_allowed_origins: "https://app.example".into(),
            ..Protection::default()
        };
        let host = Some("api.example:8080");
        assert!(listed.allows_websocket_origin(Some("https://app.example"), host));
        assert!(listed.allows_websocket_origin(None, host), "not a browser");
        assert!(
            listed.allows_websocket_origin(Some("http://api.example:8080"), host),
            "the server's own pages"
        );
        assert!(!listed.allows_websocket_origin(Some("https://evil.example"), host));
        assert!(!listed.allows_websocket_origin(Some("null"), host));
        let any = Protection {
            cors_allowed_origins: "*".into(),
            ..Protection::default()
        };
        assert!(any.allows_websocket_origin(Some("https://evil.example"), host));
    }

    #[test]
    fn origins_are_split_on_commas_and_trimmed() {
        let protection = Protection {
            cors_allowed_origins: " https://a.example , ,https://b.example".into(),
            ..Protection::default()
        };
        assert_eq!(
            protection.allowed_origins(),
            ["https://a.example", "https://b.example"]
        );
        assert!(Protection::default().allowed_origins().is_empty());
    }
}
