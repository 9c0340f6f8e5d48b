//! Refuses introspection when it is switched off (production), with a clear
//! error instead of a silent `null`.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerResult, Variables};

use crate::error::{ErrorCode, graphql_error};

/// The extension that refuses documents asking for `__schema` or `__type`.
pub struct IntrospectionGuard;

impl ExtensionFactory for IntrospectionGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(IntrospectionGuard)
    }
}

#[async_trait::async_trait]
impl Extension for IntrospectionGuard {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if asks_for_schema(&document) {
            let error = graphql_error(
                ErrorCode::Forbidden,
                "introspection is switched off on this server",
            );
            return Err(error.into_server_error(Default::default()));
        }
        Ok(document)
    }
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

fn selects_schema(set: &SelectionSet) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            let name = field.node.name.node.as_str();
            name == "__schema" || name == "__type" || selects_schema(&field.node.selection_set.node)
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
