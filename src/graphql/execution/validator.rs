//! Validating a document without running it.
//!
//! async-graphql validates and executes in one call. The document a request
//! sends is validated as sent (its fragments, directives and repeated fields
//! are what the rules speak of), but what runs is its plan ([`super::plan`]).
//! So validation runs on a twin of the schema whose one extension stops each
//! request once it has passed validation, before anything resolves. The same
//! extension hands over the schema's registry, which planning reads.

use std::sync::{Arc, OnceLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::registry::Registry;
use async_graphql::{
    Request, Response, SchemaBuilder, SchemaEnv, ServerError, ValidationMode, Value, Variables,
};

use crate::graphql::subscriptions::SubscriptionRoot;
use crate::graphql::{ConduitSchema, MutationRoot, QueryRoot, schema_builder_for};
use crate::state::AppState;

/// The schema's validation rules, with nothing behind them.
#[derive(Clone)]
pub struct Validator {
    schema: ConduitSchema,
    env: SchemaEnv,
}

impl Validator {
    /// The validator for the schema served with `state`.
    pub fn new(state: AppState) -> Self {
        Self::for_schema(schema_builder_for(state, ValidationMode::Strict))
    }

    /// The validator for the schema `builder` makes.
    pub fn for_schema(builder: SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot>) -> Self {
        let captured = Arc::new(OnceLock::new());
        let schema = builder
            .extension(StopBeforeExecution {
                env: captured.clone(),
            })
            .finish();
        // A document that passes validation hands over the environment.
        let _ = futures_util::FutureExt::now_or_never(schema.execute("{ __typename }"));
        let env = captured
            .get()
            .cloned()
            .expect("validation of `{ __typename }` completes at once and passes");
        Self { schema, env }
    }

    /// The schema's types, fields and directives.
    pub fn registry(&self) -> &Registry {
        &self.env.registry
    }

    /// The validation errors of running `operation_name` of `document` with
    /// `variables`; none when it may run.
    pub async fn validate(
        &self,
        document: ExecutableDocument,
        variables: Variables,
        operation_name: Option<String>,
    ) -> Vec<ServerError> {
        let mut request = Request::new(String::new()).variables(variables);
        request.operation_name = operation_name;
        request.set_parsed_query(document);
        self.schema.execute(request).await.errors
    }
}

/// Ends every request that reaches execution with an empty answer, noting
/// the schema's environment on the way.
struct StopBeforeExecution {
    env: Arc<OnceLock<SchemaEnv>>,
}

impl ExtensionFactory for StopBeforeExecution {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(StopBeforeExecution {
            env: self.env.clone(),
        })
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for StopBeforeExecution {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        _operation_name: Option<&str>,
        _next: NextExecute<'_>,
    ) -> Response {
        self.env.get_or_init(|| ctx.schema_env.clone());
        Response::new(Value::Null)
    }
}
