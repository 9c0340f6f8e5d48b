//! Integration tests: each test starts the real server on an ephemeral port with
//! its own database and talks HTTP and WebSocket to it.

mod helpers;

mod articles;
mod auth;
mod cache;
mod cli;
mod comments;
mod conformance;
mod counters;
mod docs;
mod documents;
mod drafts;
mod fuzz;
mod http;
mod introspection;
mod leaks;
mod limits;
mod lists;
mod matrix;
mod memory;
mod nested;
mod pagination;
mod profiles;
mod protocol;
mod rate_limits;
mod response_cache;
mod roles;
mod schema;
mod sessions;
mod statement_bounds;
mod statements;
mod subscriptions;
mod users;
mod validation;
mod websocket;
