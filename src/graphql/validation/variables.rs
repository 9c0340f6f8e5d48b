//! Variables as the spec checks them, where async-graphql's rules fall short.
//!
//! - [`usage_errors`]: the validation rule "All Variable Usages Are Allowed"
//!   (IsVariableUsageAllowed): a variable may be used only where its type
//!   fits, a nullable one in a non-null position only when it or the
//!   position has a default. async-graphql's rule lets a `[ID]` in where
//!   `[ID!]!` is expected, or an `Int` where `String!` is.
//!
//! It follows graphql-js 16 in what it accepts and refuses.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, VariableDefinition};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Pos, Positioned, ServerError};
use async_graphql_value::{ConstValue, Value};

use super::values::{item_type, root_type, walk_directives, walk_selections};

/// A variable used in a document, with what its position expects.
struct Usage<'d> {
    name: &'d str,
    /// Where the argument that holds it starts.
    pos: Pos,
    /// The type the position expects, as the registry writes types.
    ty: String,
    /// Whether the position has a default of its own (an argument or an
    /// input field with a default value).
    defaulted: bool,
    /// The input object it is a field of, when that is a OneOf input object.
    oneof: Option<String>,
}

/// The variables used in one operation or fragment, and the fragments it
/// spreads.
#[derive(Default)]
struct Found<'d> {
    usages: Vec<Usage<'d>>,
    spreads: Vec<&'d str>,
}

/// The errors of variables used where their type is not allowed, over every
/// operation of `document` and the fragments each spreads, in document
/// order.
pub fn usage_errors(registry: &Registry, document: &ExecutableDocument) -> Vec<ServerError> {
    let fragments: HashMap<&str, Found<'_>> = document
        .fragments
        .iter()
        .map(|(name, fragment)| {
            let mut found = Found::default();
            let fragment = &fragment.node;
            found.directives(registry, &fragment.directives);
            let on = fragment.type_condition.node.on.node.as_str();
            found.selections(registry, Some(on), &fragment.selection_set.node);
            (name.as_str(), found)
        })
        .collect();
    let mut operations: Vec<&Positioned<OperationDefinition>> =
        document.operations.iter().map(|(_, op)| op).collect();
    operations.sort_by_key(|operation| operation.pos);

    let mut errors = Vec::new();
    for operation in operations {
        let operation = &operation.node;
        let mut own = Found::default();
        own.directives(registry, &operation.directives);
        let root = root_type(registry, operation.ty);
        own.selections(registry, root, &operation.selection_set.node);

        // The operation's own usages, then those of every fragment it
        // spreads, directly or not, each once.
        let mut all: Vec<&Found<'_>> = vec![&own];
        let mut seen = HashSet::new();
        let mut next = 0;
        while next < all.len() {
            let spreads = all[next].spreads.clone();
            next += 1;
            for name in spreads {
                if seen.insert(name)
                    && let Some(fragment) = fragments.get(name)
                {
                    all.push(fragment);
                }
            }
        }

        let definitions: HashMap<&str, &Positioned<VariableDefinition>> = operation
            .variable_definitions
            .iter()
            .map(|definition| (definition.node.name.node.as_str(), definition))
            .collect();
        for usage in all.iter().flat_map(|found| &found.usages) {
            let Some(definition) = definitions.get(usage.name) else {
                continue;
            };
            let var_type = definition.node.var_type.node.to_string();
            let named = MetaTypeName::concrete_typename(&var_type);
            if !registry.types.contains_key(named) {
                continue;
            }
            let default = definition.node.default_value.as_ref().map(|d| &d.node);
            let locations = vec![definition.pos, usage.pos];
            if !allowed(&var_type, default, &usage.ty, usage.defaulted) {
                let mut error = ServerError::new(
                    format!(
                        "Variable \"${}\" of type \"{var_type}\" used in position expecting type \"{}\".",
                        usage.name, usage.ty
                    ),
                    None,
                );
                error.locations = locations.clone();
                errors.push(error);
            }
            if let Some(oneof) = &usage.oneof
                && !MetaTypeName::create(&var_type).is_non_null()
            {
                let mut error = ServerError::new(
                    format!(
                        "Variable \"${}\" is of type \"{var_type}\" but must be non-nullable to be used for OneOf Input Object \"{oneof}\".",
                        usage.name
                    ),
                    None,
                );
                error.locations = locations;
                errors.push(error);
            }
        }
    }
    errors
}

impl<'d> Found<'d> {
    fn selections(
        &mut self,
        registry: &Registry,
        parent: Option<&str>,
        set: &'d async_graphql::parser::types::SelectionSet,
    ) {
        let mut arguments = Vec::new();
        let spreads = &mut self.spreads;
        walk_selections(
            registry,
            parent,
            set,
            &mut |input, value| {
                arguments.push((input.ty.clone(), input.default_value.is_some(), value))
            },
            &mut |name| spreads.push(name),
        );
        for (ty, defaulted, value) in arguments {
            self.value(registry, &value.node, &ty, defaulted, None, value.pos);
        }
    }

    fn directives(
        &mut self,
        registry: &Registry,
        directives: &'d [Positioned<async_graphql::parser::types::Directive>],
    ) {
        let mut arguments = Vec::new();
        walk_directives(registry, directives, &mut |input, value| {
            arguments.push((input.ty.clone(), input.default_value.is_some(), value));
        });
        for (ty, defaulted, value) in arguments {
            self.value(registry, &value.node, &ty, defaulted, None, value.pos);
        }
    }

    /// Notes the variables in `value`, at a position of type `ty`.
    fn value(
        &mut self,
        registry: &Registry,
        value: &'d Value,
        ty: &str,
        defaulted: bool,
        oneof: Option<&str>,
        pos: Pos,
    ) {
        match value {
            Value::Variable(name) => self.usages.push(Usage {
                name: name.as_str(),
                pos,
                ty: ty.to_owned(),
                defaulted,
                oneof: oneof.map(str::to_owned),
            }),
            Value::List(items) => {
                let item = item_type(ty);
                for value in items {
                    self.value(registry, value, item, false, None, pos);
                }
            }
            Value::Object(fields) => {
                let named = MetaTypeName::concrete_typename(ty);
                let Some(MetaType::InputObject {
                    name,
                    input_fields,
                    oneof,
                    ..
                }) = registry.types.get(named)
                else {
                    return;
                };
                let oneof = oneof.then_some(name.as_str());
                for (key, value) in fields {
                    if let Some(field) = input_fields.get(key.as_str()) {
                        let defaulted = field.default_value.is_some();
                        self.value(registry, value, &field.ty, defaulted, oneof, pos);
                    }
                }
            }
            _ => {}
        }
    }
}

/// IsVariableUsageAllowed: whether a variable of type `var_type` with the
/// default `var_default` may be used where `location` is expected, the
/// location having a default of its own when `location_defaulted`.
fn allowed(
    var_type: &str,
    var_default: Option<&ConstValue>,
    location: &str,
    location_defaulted: bool,
) -> bool {
    if let MetaTypeName::NonNull(nullable_location) = MetaTypeName::create(location)
        && !MetaTypeName::create(var_type).is_non_null()
    {
        let non_null_default = var_default.is_some_and(|value| *value != ConstValue::Null);
        return (non_null_default || location_defaulted) && compatible(var_type, nullable_location);
    }
    compatible(var_type, location)
}

/// AreTypesCompatible: whether values of type `sub` always fit `location`.
fn compatible(sub: &str, location: &str) -> bool {
    match (MetaTypeName::create(sub), MetaTypeName::create(location)) {
        (MetaTypeName::NonNull(sub), MetaTypeName::NonNull(location)) => compatible(sub, location),
        (_, MetaTypeName::NonNull(_)) => false,
        (MetaTypeName::NonNull(sub), _) => compatible(sub, location),
        (MetaTypeName::List(sub), MetaTypeName::List(location)) => compatible(sub, location),
        (MetaTypeName::List(_), _) | (_, MetaTypeName::List(_)) => false,
        (MetaTypeName::Named(sub), MetaTypeName::Named(location)) => sub == location,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;
    use crate::graphql::execution::Validator;

    fn registry() -> Validator {
        Validator::for_schema(crate::graphql::schema_builder())
    }

    fn usages(document: &str) -> Vec<String> {
        let validator = registry();
        let document = parse_query(document).expect("parses");
        usage_errors(validator.registry(), &document)
            .into_iter()
            .map(|error| error.message)
            .collect()
    }

    /// Usages graphql-js allows.
    #[test]
    fn variables_where_their_type_fits_are_allowed() {
        for document in [
            "query($w: [ID!]!) { nodes(ids: $w) { __typename } }",
            "query($w: ID!) { nodes(ids: [$w]) { __typename } }",
            "query($w: [ID!] = [\"x\"]) { nodes(ids: $w) { __typename } }",
            "query($w: String!) { user(username: $w) { id } }",
            "query($w: String = \"alice\") { user(username: $w) { id } }",
            "query($n: Int) { tags(first: $n) { name } }",
            "query($n: Int!) { articles(first: $n) { totalCount } }",
            "query($s: ArticleStatus) { articles(filter: { status: $s }) { totalCount } }",
            "query($f: ArticleOrderField) { articles(orderBy: { field: $f }) { totalCount } }",
            "query($b: Boolean = true) { viewer @skip(if: $b) { id } }",
            "query($b: Boolean!) { viewer { ...F } } fragment F on User { id @include(if: $b) }",
            "query Q($d: Boolean) { viewer { id } } mutation M($d: Boolean) { createArticle(input: {title: \"a\", description: \"b\", body: \"c\", draft: $d}) { article { id } } }",
            "query($t: [String!]) { articles(filter: { tag: $u }) { totalCount } }",
            "query { viewer { ...F } } fragment F on User { articles(first: $undefined) { totalCount } }",
        ] {
            assert_eq!(usages(document), Vec::<String>::new(), "{document}");
        }
    }

    /// Usages graphql-js refuses, with the number of errors it finds.
    #[test]
    fn variables_where_their_type_does_not_fit_are_refused() {
        for (document, count) in [
            ("query($w: [ID]) { nodes(ids: $w) { __typename } }", 1),
            ("query($w: [ID!]) { nodes(ids: $w) { __typename } }", 1),
            ("query($w: ID) { nodes(ids: [$w]) { __typename } }", 1),
            ("query($w: ID!) { nodes(ids: $w) { __typename } }", 1),
            ("query($w: [[ID!]!]!) { nodes(ids: $w) { __typename } }", 1),
            ("query($w: Int) { user(username: $w) { id } }", 1),
            ("query($w: String) { user(username: $w) { id } }", 1),
            ("query($w: String = null) { user(username: $w) { id } }", 1),
            ("query($n: String) { tags(first: $n) { name } }", 1),
            (
                "query($s: String) { articles(filter: { status: $s }) { totalCount } }",
                1,
            ),
            ("query($b: Boolean) { viewer @skip(if: $b) { id } }", 1),
            (
                "query($b: Boolean) { viewer { ...F } } fragment F on User { id @include(if: $b) }",
                1,
            ),
            (
                "query($b: Boolean) { viewer { ...F ...F } } fragment F on User { ...G } fragment G on User { id @include(if: $b) }",
                1,
            ),
            (
                "query A($b: Int) { viewer { ...F } } query B($b: String) { viewer { ...F } } fragment F on User { articles(first: 1, status: $b) { totalCount } }",
                2,
            ),
            (
                "mutation($t: [String]) { createArticle(input: {title: \"a\", description: \"b\", body: \"c\", tags: $t}) { article { id } } }",
                1,
            ),
        ] {
            let found = usages(document);
            assert_eq!(found.len(), count, "{document}: {found:?}");
        }
    }

    #[test]
    fn a_list_of_nullable_ids_where_non_null_ids_go_is_named() {
        assert_eq!(
            usages("query($w: [ID]) { nodes(ids: $w) { __typename } }"),
            ["Variable \"$w\" of type \"[ID]\" used in position expecting type \"[ID!]!\"."]
        );
    }
}
