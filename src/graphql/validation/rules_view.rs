//! The document as async-graphql's validation rules should see it.
//!
//! Two gaps in its rules are closed by showing them an equivalent document:
//!
//! - They skip a `__typename` field altogether: its directives are not
//!   checked (unknown ones, wrong or missing arguments) and a variable used
//!   only in one counts as unused. Each `__typename` with directives is put
//!   inside an inline fragment on the enclosing type carrying them
//!   (`... on Article @skip(if: $v) { __typename }`), which they do visit.
//! - Their check of overlapping fields takes an inline fragment without a
//!   type condition to be on no type at all, so a field in one, deep inside
//!   `... on User`, is compared with the fields selected directly on the
//!   outer type, and a false conflict is reported. Each such fragment is
//!   given the enclosing type as its condition.
//!
//! Both rewrites mean the same to every rule; the spec's own overlap rule
//! runs on the document as sent ([`super::field_merging`]).

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, InlineFragment, OperationType, Selection, SelectionSet,
    TypeCondition,
};
use async_graphql::registry::{MetaTypeName, Registry};
use async_graphql::{Name, Positioned};

/// `document` rewritten for async-graphql's rules; `None` when it holds
/// nothing to rewrite.
pub fn for_rules(registry: &Registry, document: &ExecutableDocument) -> Option<ExecutableDocument> {
    let needs = |set: &SelectionSet| needs_rewrite(set);
    let any = document
        .operations
        .iter()
        .any(|(_, operation)| needs(&operation.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|fragment| needs(&fragment.node.selection_set.node));
    if !any {
        return None;
    }
    let mut rewritten = document.clone();
    let rewriter = Rewriter { registry };
    let root = |ty: OperationType| match ty {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => registry.subscription_type.as_deref(),
    };
    match &mut rewritten.operations {
        DocumentOperations::Single(operation) => {
            let ty = root(operation.node.ty);
            rewriter.rewrite(ty, &mut operation.node.selection_set.node);
        }
        DocumentOperations::Multiple(operations) => {
            for operation in operations.values_mut() {
                let ty = root(operation.node.ty);
                rewriter.rewrite(ty, &mut operation.node.selection_set.node);
            }
        }
    }
    for fragment in rewritten.fragments.values_mut() {
        let on = fragment.node.type_condition.node.on.node.clone();
        rewriter.rewrite(Some(on.as_str()), &mut fragment.node.selection_set.node);
    }
    Some(rewritten)
}

/// Whether `set` holds a `__typename` with directives or an inline fragment
/// without a type condition, at any depth.
fn needs_rewrite(set: &SelectionSet) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            (field.node.name.node == "__typename" && !field.node.directives.is_empty())
                || needs_rewrite(&field.node.selection_set.node)
        }
        Selection::InlineFragment(fragment) => {
            fragment.node.type_condition.is_none()
                || needs_rewrite(&fragment.node.selection_set.node)
        }
        Selection::FragmentSpread(_) => false,
    })
}

struct Rewriter<'r> {
    registry: &'r Registry,
}

impl Rewriter<'_> {
    /// Rewrites `set`, a selection on `parent` (`None` when unknown: the
    /// rules report that, and nothing is given a type condition).
    fn rewrite(&self, parent: Option<&str>, set: &mut SelectionSet) {
        for item in &mut set.items {
            let replacement = match &mut item.node {
                Selection::Field(field) => {
                    if field.node.name.node != "__typename" || field.node.directives.is_empty() {
                        let ty = parent
                            .and_then(|parent| self.registry.types.get(parent))
                            .and_then(|parent| parent.field_by_name(&field.node.name.node))
                            .map(|defined| MetaTypeName::concrete_typename(&defined.ty).to_owned());
                        self.rewrite(ty.as_deref(), &mut field.node.selection_set.node);
                        continue;
                    }
                    let directives = std::mem::take(&mut field.node.directives);
                    let pos = field.pos;
                    Selection::InlineFragment(Positioned::new(
                        InlineFragment {
                            type_condition: condition(parent, pos),
                            directives,
                            selection_set: Positioned::new(
                                SelectionSet {
                                    items: vec![Positioned::new(
                                        Selection::Field(field.clone()),
                                        pos,
                                    )],
                                },
                                pos,
                            ),
                        },
                        pos,
                    ))
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &mut fragment.node;
                    if fragment.type_condition.is_none() {
                        fragment.type_condition = condition(parent, item.pos);
                    }
                    let on = fragment
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.to_string());
                    self.rewrite(on.as_deref(), &mut fragment.selection_set.node);
                    continue;
                }
                Selection::FragmentSpread(_) => continue,
            };
            item.node = replacement;
        }
    }
}

/// A type condition on `parent`, when it is known.
fn condition(parent: Option<&str>, pos: async_graphql::Pos) -> Option<Positioned<TypeCondition>> {
    parent.map(|parent| {
        Positioned::new(
            TypeCondition {
                on: Positioned::new(Name::new(parent), pos),
            },
            pos,
        )
    })
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;
    use crate::graphql::execution::Validator;

    fn rewritten(document: &str) -> Option<String> {
        let validator = Validator::for_schema(crate::graphql::schema_builder());
        let document = parse_query(document).expect("parses");
        for_rules(validator.registry(), &document).map(|document| format!("{document:?}"))
    }

    #[test]
    fn a_typename_with_directives_moves_into_a_fragment_on_its_type() {
        let printed = rewritten(
            "query($v: Boolean!) { viewer { t: __typename @skip(if: $v) bio } }
             fragment F on Article { __typename @include(if: $v) }",
        )
        .expect("rewritten");
        assert_eq!(printed.matches("InlineFragment {").count(), 2, "{printed}");
        assert!(printed.contains(r#"node: Name("User")"#), "{printed}");
        assert!(printed.contains(r#"node: Name("Article")"#), "{printed}");
    }

    #[test]
    fn inline_fragments_without_a_condition_get_the_enclosing_type() {
        let printed = rewritten("{ viewer { ... { bio } } }").expect("rewritten");
        assert!(printed.contains(r#"node: Name("User")"#), "{printed}");
        assert_eq!(
            rewritten("{ __typename viewer { ... on User { bio } } }"),
            None
        );
    }
}
