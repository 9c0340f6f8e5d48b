//! The GraphQL schema: one part per domain, merged into the roots here.
//!
//! Resolvers stay thin: they parse arguments, take the viewer from the context
//! and make one call into [`crate::service`]. Lists load their relations through
//! [`loaders`], one statement per relation for the whole list.

pub mod accounts;
pub mod admission;
pub mod articles;
pub mod comments;
pub mod connection;
pub mod context;
pub mod error_messages;
pub mod escapes;
pub mod execution;
pub mod introspection;
pub mod json;
pub mod limits;
pub mod loaders;
pub mod node;
pub mod parsed_documents;
pub mod rate_limit;
pub mod ready;
pub mod response_cache;
pub mod subscriptions;
pub mod tags;
pub mod users;
pub mod validation;

use async_graphql::{MergedObject, Schema, ValidationMode};

use crate::state::AppState;

/// What can be read: the entry points of every query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    users::UserQuery,
    articles::ArticleQuery,
    tags::TagQuery,
    node::NodeQuery,
    rate_limit::RateLimitQuery,
);

/// What can be changed: every mutation.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    users::UserMutation,
    articles::ArticleMutation,
    comments::CommentMutation,
    accounts::AccountMutation,
);

/// The schema type served at `/graphql`.
pub type ConduitSchema = Schema<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot>;

/// The schema without data, for printing the SDL.
pub fn schema_builder()
-> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        subscriptions::SubscriptionRoot,
    )
    .register_output_type::<node::Node>()
}

/// The schema wired to the application's state, validating documents in
/// `validation` mode. The checks every request passes before it runs live in
/// [`admission::GuardedSchema`], not in schema extensions: it has none, and
/// lists answer the fields they hold past them ([`ready`]).
pub fn build_schema(state: AppState, validation: ValidationMode) -> ConduitSchema {
    schema_builder_for(state, validation).finish()
}

/// The builder of [`build_schema`], for a twin with an extension of its own
/// ([`execution::Validator`]).
pub fn schema_builder_for(
    state: AppState,
    validation: ValidationMode,
) -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot> {
    let mut builder = schema_builder().validation_mode(validation);
    if !state.config.introspection_enabled() {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.data(state)
}

/// The SDL clients generate code from; `schema.graphql` must equal it.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
