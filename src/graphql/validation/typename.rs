//! `__typename` as the validation rules see it.
//!
//! async-graphql's rules skip a `__typename` field altogether: its
//! directives are not checked (unknown ones, wrong or missing arguments) and
//! a variable used only in one counts as unused. Before validation, each
//! `__typename` with directives is put inside an inline fragment carrying
//! them (`... @skip(if: $v) { __typename }`), which the rules do visit and
//! which means the same. Arguments on `__typename`, which it has none of,
//! are refused here.

use async_graphql::Positioned;
use async_graphql::ServerError;
use async_graphql::parser::types::{ExecutableDocument, InlineFragment, Selection, SelectionSet};

/// The errors of arguments given to `__typename`.
pub fn argument_errors(document: &ExecutableDocument) -> Vec<ServerError> {
    let mut errors = Vec::new();
    let mut note = |set: &SelectionSet| {
        for_each_field(set, &mut |field| {
            if field.node.name.node == "__typename" {
                for (name, _) in &field.node.arguments {
                    errors.push(ServerError::new(
                        format!(
                            "Unknown argument \"{}\" on field \"__typename\".",
                            name.node
                        ),
                        Some(name.pos),
                    ));
                }
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

/// `document` with each `__typename` that carries directives moved into an
/// inline fragment carrying them; `None` when it has none.
pub fn for_validation(document: &ExecutableDocument) -> Option<ExecutableDocument> {
    let mut any = false;
    let mut find = |set: &SelectionSet| {
        for_each_field(set, &mut |field| {
            any |= field.node.name.node == "__typename" && !field.node.directives.is_empty();
        });
    };
    for (_, operation) in document.operations.iter() {
        find(&operation.node.selection_set.node);
    }
    for fragment in document.fragments.values() {
        find(&fragment.node.selection_set.node);
    }
    if !any {
        return None;
    }
    let mut rewritten = document.clone();
    match &mut rewritten.operations {
        async_graphql::parser::types::DocumentOperations::Single(operation) => {
            wrap(&mut operation.node.selection_set.node);
        }
        async_graphql::parser::types::DocumentOperations::Multiple(operations) => {
            for operation in operations.values_mut() {
                wrap(&mut operation.node.selection_set.node);
            }
        }
    }
    for fragment in rewritten.fragments.values_mut() {
        wrap(&mut fragment.node.selection_set.node);
    }
    Some(rewritten)
}

/// Calls `visit` on every field of `set`, at any depth.
fn for_each_field(
    set: &SelectionSet,
    visit: &mut dyn FnMut(&Positioned<async_graphql::parser::types::Field>),
) {
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

/// Moves the directives of every `__typename` in `set` to an inline
/// fragment around it.
fn wrap(set: &mut SelectionSet) {
    for item in &mut set.items {
        let replacement = match &mut item.node {
            Selection::Field(field) => {
                if field.node.name.node != "__typename" || field.node.directives.is_empty() {
                    wrap(&mut field.node.selection_set.node);
                    continue;
                }
                let directives = std::mem::take(&mut field.node.directives);
                let pos = field.pos;
                Selection::InlineFragment(Positioned::new(
                    InlineFragment {
                        type_condition: None,
                        directives,
                        selection_set: Positioned::new(
                            SelectionSet {
                                items: vec![Positioned::new(Selection::Field(field.clone()), pos)],
                            },
                            pos,
                        ),
                    },
                    pos,
                ))
            }
            Selection::InlineFragment(fragment) => {
                wrap(&mut fragment.node.selection_set.node);
                continue;
            }
            Selection::FragmentSpread(_) => continue,
        };
        item.node = replacement;
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn a_typename_with_directives_moves_into_a_fragment_carrying_them() {
        let document =
            parse_query("query($v: Boolean!) { a { t: __typename @skip(if: $v) b } } fragment F on T { __typename @include(if: $v) }")
                .expect("parses");
        let rewritten = for_validation(&document).expect("rewritten");
        let printed = format!("{rewritten:?}");
        assert_eq!(printed.matches("InlineFragment {").count(), 2, "{printed}");
        assert!(
            for_validation(&parse_query("{ __typename a { __typename } }").expect("parses"))
                .is_none()
        );
    }

    #[test]
    fn arguments_on_typename_are_refused() {
        let document = parse_query("{ a { __typename(x: 1) } }").expect("parses");
        let errors = argument_errors(&document);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("\"x\""), "{}", errors[0].message);
    }
}
