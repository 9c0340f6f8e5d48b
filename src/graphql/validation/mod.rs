//! Validation the spec asks for that async-graphql's rules leave out,
//! run beside them ([`crate::graphql::execution::Validator`]).

pub mod directive_places;
pub mod field_merging;
pub mod rules_view;
pub mod typename;
pub mod values;
pub mod variables;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::registry::Registry;
use async_graphql::{ServerError, Variables};

use crate::error::Error;
use field_merging::MergeError;

/// The errors of the rules kept here for running `operation_name` of
/// `document` (parsed from `source`) with `variables`: those of the document
/// ([`document_errors`]), then, when it has none, those of the variables'
/// values ([`variable_errors`]).
pub fn errors(
    registry: &Registry,
    document: &ExecutableDocument,
    source: &str,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Vec<ServerError> {
    let errors = document_errors(registry, document, source);
    if !errors.is_empty() {
        return errors;
    }
    variable_errors(registry, document, operation_name, variables)
}

/// The errors of the document alone (parsed from `source`), whatever the
/// variables' values: fields
/// under one response key that cannot merge, arguments and selections given
/// to `__typename`, directives where they may not be used, literal values of
/// the wrong type and variables used where their type does not fit.
pub fn document_errors(
    registry: &Registry,
    document: &ExecutableDocument,
    source: &str,
) -> Vec<ServerError> {
    let mut errors = typename::errors(document);
    errors.extend(directive_places::errors(registry, document));
    errors.extend(values::errors(registry, document));
    errors.extend(variables::usage_errors(registry, document));
    if let Err(found) = field_merging::check(registry, document, source) {
        errors.extend(found.into_iter().map(|error| {
            match error {
                MergeError::Conflict(error) => error,
                MergeError::TooMuchWork => Error::LimitExceeded {
                    limit: "fieldComparisons",
                    max: field_merging::MAX_COMPARISONS as u64,
                    actual: field_merging::MAX_COMPARISONS as u64 + 1,
                }
                .into_request_error(),
            }
        }));
    }
    errors
}

/// The variable values of `variables` that do not coerce to the types the
/// operation named `operation_name` declares.
pub fn variable_errors(
    registry: &Registry,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Vec<ServerError> {
    variables::coercion_errors(registry, document, operation_name, variables)
}
