//! Refuses introspection when it is switched off (production), with a clear
//! error instead of a silent `null`.

use async_graphql::ServerError;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::error::{ErrorCode, graphql_error};

/// The error for a document asking for `__schema` or `__type` when
/// introspection is switched off.
pub fn refusal() -> ServerError {
    graphql_error(
        ErrorCode::Forbidden,
        "introspection is switched off on this server",
    )
    .into_server_error(Default::default())
}

/// Whether any selection in the document is `__schema` or `__type`.
pub fn asks_for_schema(document: &ExecutableDocument) -> bool {
    document
        .operations
        .iter()
        .any(|(_, op)| selects_schema(&op.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|fragment| selects_schema(&fragment.node.selection_set.node))
}

/// Whether a field named `name` is one of the introspection root fields,
/// `__schema` or `__type`: it and what it selects are introspection, answered
/// only when introspection is on and measured by limits of their own
/// ([`crate::graphql::limits`]).
pub fn is_schema_field(name: &str) -> bool {
    name == "__schema" || name == "__type"
}

fn selects_schema(set: &SelectionSet) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            is_schema_field(field.node.name.node.as_str())
                || selects_schema(&field.node.selection_set.node)
        }
        Selection::InlineFragment(fragment) => selects_schema(&fragment.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("parses")
    }

    #[test]
    fn finds_schema_fields_anywhere_in_the_document() {
        assert!(asks_for_schema(&parse("{ __schema { types { name } } }")));
        assert!(asks_for_schema(&parse(
            "{ ... on Query { __type(name: \"User\") { name } } }"
        )));
        assert!(asks_for_schema(&parse(
            "{ ...F } fragment F on Query { __schema { queryType { name } } }"
        )));
        assert!(!asks_for_schema(&parse("{ tags { name __typename } }")));
    }
}
