//! Conduit Gateway: the GraphQL API of the RealWorld "Conduit" publishing app.
//!
//! # Layout
//!
//! A request travels down these modules, and nothing points back up:
//!
//! 1. [`http`]: routes. Verifies the bearer token once into an [`auth::Viewer`]
//!    and runs the schema with it; WebSocket subscriptions do the same in
//!    `connection_init`.
//! 2. [`graphql`]: the schema, one module per domain (users, articles, comments,
//!    tags, subscriptions) plus Relay nodes and DataLoaders. Resolvers are thin.
//! 3. [`service`]: the domain code, the only place that runs transactions and
//!    publishes events. Writes authorize through the viewer.
//! 4. [`db`]: the statements that read lists (pages for one parent or many,
//!    article relations, profiles) and the connections they run on.
//! 5. `entity` (workspace crate): one sea-orm entity per table; `migration`
//!    creates them.
//!
//! Shared machinery used from `graphql` down: [`auth`] (passwords, tokens, the
//! capability check), [`cache`] (hot reads, exact invalidation), [`pubsub`]
//! (subscription events), [`ratelimit`] (points per window), [`rounds`]
//! (round trips to Redis that concurrent requests share), [`documents`]
//! (persisted and trusted documents), [`error`] (one error type,
//! one mapping to GraphQL codes), [`counters`] (what the server did, for
//! `/metrics`), [`config`], [`telemetry`] and [`state`]. [`app`] wires them
//! together at start-up; [`cli`] and [`seed`] serve the binary.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod counters;
pub mod db;
pub mod documents;
pub mod error;
pub mod graphql;
pub mod http;
pub mod pubsub;
pub mod ratelimit;
pub mod rounds;
pub mod seed;
pub mod service;
pub mod state;
pub mod telemetry;
