//! [`AppState`]: everything a request needs, built once at start-up.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::{AccessList, Passwords, TokenKeys};
use crate::cache::Cache;
use crate::cache::near_responses::NearResponses;
use crate::config::Config;
use crate::counters::{ListStats, ResponseStats, StatementCounter};
use crate::db::article_relations::RelationsStatements;
use crate::db::list_reads::ListReads;
use crate::db::tag_names::TagNames;
use crate::documents::TrustedDocuments;
use crate::pubsub::PubSub;
use crate::ratelimit::RateLimiter;

/// Shared state, cloned cheaply into every request.
#[derive(Clone)]
pub struct AppState {
    /// The database connection pool.
    pub db: DatabaseConnection,
    /// Where list pages are read ([`ListReads`]).
    pub list_reads: ListReads,
    /// The hot-read cache (Redis when configured, in-process otherwise).
    pub cache: Arc<Cache>,
    /// Copies of the anonymous responses this instance served lately, when
    /// the cache is shared (Redis).
    pub near_responses: Option<Arc<NearResponses>>,
    /// Where events for subscriptions go.
    pub pubsub: Arc<dyn PubSub>,
    /// The keys that sign and verify tokens.
    pub tokens: TokenKeys,
    /// Revoked tokens, ended sessions, bans and role changes.
    pub access: AccessList,
    /// Password hashing, with the decoy hash for unknown users.
    pub passwords: Passwords,
    /// Points per window for every caller.
    pub rate_limits: Arc<RateLimiter>,
    /// The manifest of trusted documents (empty when none is configured).
    pub trusted_documents: Arc<TrustedDocuments>,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// SQL statements run since start; read by tests and diagnostics.
    pub statements: StatementCounter,
    /// The article relations statement, made once per number of articles.
    pub relation_statements: Arc<RelationsStatements>,
    /// Tag names by id, read once per process (a tag's name never changes).
    pub tag_names: Arc<TagNames>,
    /// How lists of objects were answered, for `/metrics`.
    pub lists: Arc<ListStats>,
    /// The GraphQL responses sent over HTTP and their errors, for `/metrics`.
    pub responses: Arc<ResponseStats>,
}
