//! What the fuzz targets run: the server's own functions for everything it
//! parses before a request is authorized, and the schema's validation and
//! execution of what they let through, each on a thread with the stack size
//! of the async runtime's workers, so that input deep enough to overflow a
//! worker's stack overflows here too and aborts the run.

use std::sync::{Arc, OnceLock};

use async_graphql::http::WebSocketProtocols;
use async_graphql::{Request, ValidationMode, Variables};
use conduit::config::{MAX_NESTING_CEILING, Protection};
use conduit::documents::TrustedDocuments;
use conduit::graphql::admission::MAX_PLANNED_FIELDS;
use conduit::graphql::escapes::rewrite_unicode_escapes;
use conduit::graphql::execution::{Validator, plan};
use conduit::graphql::limits::{DocumentLimits, check_storable, measure, scan};
use conduit::graphql::validation::{self, rules_view};
use conduit::graphql::{ConduitSchema, schema_builder};
use conduit::http::params::{GraphQLParams, parse_json_body};
use conduit::http::websocket::protocol::ProtocolGuard;
use serde_json::Value;

/// The stack of a tokio worker thread (tokio's default).
pub const WORKER_STACK_BYTES: usize = 2 * 1024 * 1024;

/// Runs `work` on a new thread with a worker's stack, passing its panics on.
pub fn on_worker_stack(work: impl FnOnce() + Send + 'static) {
    let thread = std::thread::Builder::new()
        .stack_size(WORKER_STACK_BYTES)
        .spawn(work)
        .expect("a thread starts");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

/// The schema, without the application's state, running plans as the
/// server does (validation happened before): resolvers that need the state
/// answer an error.
fn schema() -> &'static ConduitSchema {
    static SCHEMA: OnceLock<ConduitSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        schema_builder()
            .validation_mode(ValidationMode::Fast)
            .finish()
    })
}

/// The schema's validation rules, and its registry.
fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| Validator::for_schema(schema_builder()))
}

/// A document as the server takes it: checked on its text with the default
/// limits at the deepest nesting an operator may allow, its Unicode escapes
/// rewritten, then parsed, measured and checked; validated by async-graphql's
/// rules and the server's own, planned, run, and its answer completed, when
/// the checks let it through. Within the nesting the scan lets through, the
/// parser never runs short of stack.
pub fn document(text: &str, variables: &Variables) {
    let limits = DocumentLimits {
        max_nesting: MAX_NESTING_CEILING,
        ..DocumentLimits::from_protection(&Protection::default())
    };
    if limits.check_text(text).is_err() {
        return;
    }
    let text = rewrite_unicode_escapes(text);
    let parsed = match async_graphql::parser::parse_query(text.as_ref()) {
        Ok(parsed) => parsed,
        // The parser stops itself when its thread's stack runs low: within
        // the nesting the scan lets through, that must never happen.
        Err(error) => {
            let message = error.to_string();
            assert!(
                !message.contains("stack limit reached"),
                "the parser ran short of stack at nesting {}",
                scan(&text, usize::MAX - 1, usize::MAX - 1).nesting
            );
            return;
        }
    };
    // What the server refuses before validation does not run.
    if limits.check(&measure(&parsed, None, variables)).is_err()
        || check_storable(&parsed, variables).is_err()
    {
        return;
    }
    let validator = validator();
    let registry = validator.registry();
    let ours = validation::errors(registry, &parsed, &text, None, variables);
    let for_rules = rules_view::for_rules(registry, &parsed).unwrap_or_else(|| parsed.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let theirs = runtime.block_on(validator.validate(for_rules, variables.clone(), None));
    if !theirs.is_empty() || !ours.is_empty() {
        return;
    }
    let Ok(planned) = plan(registry, &parsed, None, variables, MAX_PLANNED_FIELDS) else {
        return;
    };
    let mut request = Request::new(text.as_ref()).variables(variables.clone());
    request.set_parsed_query(planned.document.clone());
    let mut response = runtime.block_on(schema().execute(request));
    planned.shape.complete(&mut response);
}

/// One request object from a body or a query string, as the server reads it.
fn params(params: GraphQLParams) {
    let query = params.query.clone().unwrap_or_default();
    let request = params.into_request(query.clone());
    document(&query, &request.variables);
}

/// A POST body: JSON, one request or a batch.
pub fn post_body(body: &[u8]) {
    let items = match parse_json_body(body) {
        Ok(Value::Array(items)) => items,
        Ok(single) => vec![single],
        Err(_) => return,
    };
    for item in items {
        if let Ok(parsed) = GraphQLParams::from_json(item) {
            params(parsed);
        }
    }
}

/// A GET query string.
pub fn query_string(text: &str) {
    if let Ok(parsed) = GraphQLParams::from_query_string(text) {
        params(parsed);
    }
}

/// WebSocket messages, judged in turn by one connection's protocol guard.
pub fn websocket_messages(messages: &[&[u8]]) {
    let mut guard = ProtocolGuard::new(
        WebSocketProtocols::GraphQLWS,
        100,
        Arc::new(TrustedDocuments::default()),
    );
    for message in messages {
        let _ = guard.incoming(message);
    }
}
