//! `__typename` has no arguments and no fields; async-graphql's rules skip
//! it and let either through.

use async_graphql::Positioned;
use async_graphql::ServerError;
use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};

/// The errors of arguments given to `__typename`, and of selections made
/// on it.
pub fn errors(document: &ExecutableDocument) -> Vec<ServerError> {
    let mut errors = Vec::new();
    let mut note = |set: &SelectionSet| {
        for_each_field(set, &mut |field| {
            if field.node.name.node != "__typename" {
                return;
            }
            for (name, _) in &field.node.arguments {
                errors.push(ServerError::new(
                    format!(
                        "Unknown argument \"{}\" on field \"__typename\".",
                        name.node
                    ),
                    Some(name.pos),
                ));
            }
            if !field.node.selection_set.node.items.is_empty() {
                errors.push(ServerError::new(
                    "Field \"__typename\" must not have a selection since type \"String!\" has no subfields.",
                    Some(field.pos),
                ));
            }
        });
    };
    for (_, operation) in document.operations.iter() {
        note(&operation.node.selection_set.node);
    }
    for fragment in document.fragments.values() {
        note(&fragment.node.selection_set.node);
    }
    errors
}

/// Calls `visit` on every field of `set`, at any depth.
fn for_each_field(set: &SelectionSet, visit: &mut dyn FnMut(&Positioned<Field>)) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                visit(field);
                for_each_field(&field.node.selection_set.node, visit);
            }
            Selection::InlineFragment(fragment) => {
                for_each_field(&fragment.node.selection_set.node, visit);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn arguments_and_selections_on_typename_are_refused() {
        let document = parse_query("{ a { __typename(x: 1) } ... on Q { __typename { b } } }")
            .expect("parses");
        let errors = errors(&document);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].message.contains("\"x\""), "{}", errors[0].message);
        assert!(
            errors[1].message.contains("subfields"),
            "{}",
            errors[1].message
        );
        assert!(
            self::errors(&parse_query("{ __typename a { t: __typename } }").expect("parses"))
                .is_empty()
        );
    }
}
