//! The spec's validation rule "Values of Correct Type": every literal value
//! of a document (field and directive arguments, variable defaults, and the
//! items and fields nested in them) must be one its position's type accepts.
//!
//! async-graphql's own rule lets through strings in enum positions, values
//! other than objects in input-object positions and `Int` literals outside 32
//! bits. This rule checks every literal as graphql-js's
//! `ValuesOfCorrectTypeRule` does, over every operation and fragment of the
//! document. Variables inside literals are left to the rules on variables
//! ([`super::variables`]), and so are values whose position the schema does
//! not know (an unknown argument or field is another rule's to report).
//!
//! The walk over selections that meets each argument with its definition is
//! shared with [`super::variables`].

use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};
use async_graphql::registry::{MetaInputValue, MetaType, MetaTypeName, Registry};
use async_graphql::{Pos, Positioned, ServerError};
use async_graphql_value::Value;

/// The errors of the literal values of `document` that their positions'
/// types do not accept, in document order.
pub fn errors(registry: &Registry, document: &ExecutableDocument) -> Vec<ServerError> {
    let mut found: Vec<(Pos, Vec<ServerError>)> = Vec::new();
    for (_, positioned) in document.operations.iter() {
        let operation = &positioned.node;
        let mut checker = Checker::new(registry);
        for definition in &operation.variable_definitions {
            let definition = &definition.node;
            if let Some(default) = &definition.default_value {
                let ty = definition.var_type.node.to_string();
                checker.check(&default.node.clone().into_value(), &ty, default.pos);
            }
            checker.directives(&definition.directives);
        }
        checker.directives(&operation.directives);
        let root = root_type(registry, operation.ty);
        checker.selections(root, &operation.selection_set.node);
        found.push((positioned.pos, checker.errors));
    }
    for fragment in document.fragments.values() {
        let mut checker = Checker::new(registry);
        checker.directives(&fragment.node.directives);
        let on = fragment.node.type_condition.node.on.node.as_str();
        checker.selections(Some(on), &fragment.node.selection_set.node);
        found.push((fragment.pos, checker.errors));
    }
    found.sort_by_key(|(pos, _)| *pos);
    found.into_iter().flat_map(|(_, errors)| errors).collect()
}

/// The name of the root type of operations of type `ty`, if the schema has one.
pub(super) fn root_type(
    registry: &Registry,
    ty: async_graphql::parser::types::OperationType,
) -> Option<&str> {
    use async_graphql::parser::types::OperationType;
    match ty {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => registry.subscription_type.as_deref(),
    }
}

/// Calls `argument` with every argument in `set` (on `parent`, when the
/// schema knows it) whose definition the schema has, with that definition:
/// arguments of fields and of directives, at any depth, fragment spreads
/// not followed; and `spread` with the name of every fragment spread.
pub(super) fn walk_selections<'d>(
    registry: &Registry,
    parent: Option<&str>,
    set: &'d SelectionSet,
    argument: &mut dyn FnMut(&MetaInputValue, &'d Positioned<Value>),
    spread: &mut dyn FnMut(&'d str),
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                let definition = parent
                    .and_then(|parent| registry.types.get(parent))
                    .and_then(|parent| parent.field_by_name(field.name.node.as_str()));
                if let Some(definition) = definition {
                    for (name, value) in &field.arguments {
                        if let Some(input) = definition.args.get(name.node.as_str()) {
                            argument(input, value);
                        }
                    }
                }
                walk_directives(registry, &field.directives, argument);
                let child = definition.map(|d| MetaTypeName::concrete_typename(&d.ty));
                walk_selections(registry, child, &field.selection_set.node, argument, spread);
            }
            Selection::InlineFragment(fragment) => {
                let fragment = &fragment.node;
                walk_directives(registry, &fragment.directives, argument);
                let on = match &fragment.type_condition {
                    Some(condition) => Some(condition.node.on.node.as_str()),
                    None => parent,
                };
                walk_selections(registry, on, &fragment.selection_set.node, argument, spread);
            }
            Selection::FragmentSpread(fragment) => {
                walk_directives(registry, &fragment.node.directives, argument);
                spread(fragment.node.fragment_name.node.as_str());
            }
        }
    }
}

/// Calls `argument` with every argument of `directives` whose definition
/// the schema has, with that definition.
pub(super) fn walk_directives<'d>(
    registry: &Registry,
    directives: &'d [Positioned<Directive>],
    argument: &mut dyn FnMut(&MetaInputValue, &'d Positioned<Value>),
) {
    for directive in directives {
        let Some(definition) = registry.directives.get(directive.node.name.node.as_str()) else {
            continue;
        };
        for (name, value) in &directive.node.arguments {
            if let Some(input) = definition.args.get(name.node.as_str()) {
                argument(input, value);
            }
        }
    }
}

/// The type of items of a list literal at a position of type `ty`: the
/// list's item type, or (a list where none is expected) the type itself
/// without its non-null.
pub(super) fn item_type(ty: &str) -> &str {
    let nullable = match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => inner,
        _ => ty,
    };
    match MetaTypeName::create(nullable) {
        MetaTypeName::List(item) => item,
        _ => nullable,
    }
}

struct Checker<'r> {
    registry: &'r Registry,
    errors: Vec<ServerError>,
}

impl<'r> Checker<'r> {
    fn new(registry: &'r Registry) -> Self {
        Self {
            registry,
            errors: Vec::new(),
        }
    }

    fn selections(&mut self, parent: Option<&str>, set: &SelectionSet) {
        let registry = self.registry;
        let mut arguments = Vec::new();
        walk_selections(
            registry,
            parent,
            set,
            &mut |input, value| arguments.push((input.ty.clone(), value)),
            &mut |_| {},
        );
        for (ty, value) in arguments {
            self.check(&value.node, &ty, value.pos);
        }
    }

    fn directives(&mut self, directives: &[Positioned<Directive>]) {
        let registry = self.registry;
        let mut arguments = Vec::new();
        walk_directives(registry, directives, &mut |input, value| {
            arguments.push((input.ty.clone(), value));
        });
        for (ty, value) in arguments {
            self.check(&value.node, &ty, value.pos);
        }
    }

    fn report(&mut self, message: String, pos: Pos) {
        self.errors.push(ServerError::new(message, Some(pos)));
    }

    /// Checks `value`, at a position of type `ty` (as the registry writes
    /// types); `pos` is where the value being checked starts.
    fn check(&mut self, value: &Value, ty: &str, pos: Pos) {
        match value {
            Value::Variable(_) => {}
            Value::Null => {
                if MetaTypeName::create(ty).is_non_null() {
                    self.report(format!("Expected value of type \"{ty}\", found null."), pos);
                }
            }
            Value::List(items) => {
                if MetaTypeName::create(ty).is_list() {
                    let item = item_type(ty);
                    for value in items {
                        self.check(value, item, pos);
                    }
                } else {
                    self.leaf(value, ty, pos);
                }
            }
            Value::Object(fields) => {
                let named = MetaTypeName::concrete_typename(ty);
                let Some(MetaType::InputObject {
                    name,
                    input_fields,
                    oneof,
                    ..
                }) = self.registry.types.get(named)
                else {
                    self.leaf(value, ty, pos);
                    return;
                };
                for field in input_fields.values() {
                    let required = MetaTypeName::create(&field.ty).is_non_null()
                        && field.default_value.is_none();
                    if required && !fields.contains_key(field.name.as_str()) {
                        self.report(
                            format!(
                                "Field \"{name}.{}\" of required type \"{}\" was not provided.",
                                field.name, field.ty
                            ),
                            pos,
                        );
                    }
                }
                if *oneof {
                    if fields.len() != 1 {
                        self.report(
                            format!("OneOf Input Object \"{name}\" must specify exactly one key."),
                            pos,
                        );
                    } else if let Some((key, Value::Null)) = fields.iter().next() {
                        self.report(format!("Field \"{name}.{key}\" must be non-null."), pos);
                    }
                }
                for (key, value) in fields {
                    match input_fields.get(key.as_str()) {
                        Some(field) => self.check(value, &field.ty, pos),
                        None => self.report(
                            format!("Field \"{key}\" is not defined by type \"{name}\"."),
                            pos,
                        ),
                    }
                }
            }
            Value::Number(_)
            | Value::String(_)
            | Value::Boolean(_)
            | Value::Enum(_)
            | Value::Binary(_) => self.leaf(value, ty, pos),
        }
    }

    /// Checks `value` as a leaf type's literal: what the type's
    /// `parseLiteral` accepts in graphql-js.
    fn leaf(&mut self, value: &Value, ty: &str, pos: Pos) {
        let named = MetaTypeName::concrete_typename(ty);
        let Some(meta) = self.registry.types.get(named) else {
            return;
        };
        let refusal = match meta {
            MetaType::Enum {
                name, enum_values, ..
            } => match value {
                Value::Enum(value) if enum_values.contains_key(value.as_str()) => None,
                Value::Enum(value) => Some(format!(
                    "Value \"{value}\" does not exist in \"{name}\" enum."
                )),
                Value::String(text) => {
                    let suggestion = enum_values
                        .keys()
                        .find(|known| known.eq_ignore_ascii_case(text))
                        .map(|known| format!(" Did you mean the enum value \"{known}\"?"))
                        .unwrap_or_default();
                    Some(format!(
                        "Enum \"{name}\" cannot represent non-enum value: {value}.{suggestion}"
                    ))
                }
                _ => Some(format!(
                    "Enum \"{name}\" cannot represent non-enum value: {value}."
                )),
            },
            MetaType::Scalar { name, .. } => scalar_refusal(name, value),
            _ => Some(format!("Expected value of type \"{ty}\", found {value}.")),
        };
        if let Some(message) = refusal {
            self.report(message, pos);
        }
    }
}

/// Why the built-in scalar `name` does not accept the literal `value`, as
/// graphql-js's `parseLiteral` has it; custom scalars accept any literal.
fn scalar_refusal(name: &str, value: &Value) -> Option<String> {
    let integer = |value: &Value| match value {
        Value::Number(number) => number.is_i64() || number.is_u64(),
        _ => false,
    };
    match name {
        "Int" => match value {
            Value::Number(number) if integer(value) => {
                let fits = number.as_i64().is_some_and(|n| i32::try_from(n).is_ok());
                (!fits).then(|| {
                    format!("Int cannot represent non 32-bit signed integer value: {value}")
                })
            }
            _ => Some(format!("Int cannot represent non-integer value: {value}")),
        },
        "Float" => (!matches!(value, Value::Number(_)))
            .then(|| format!("Float cannot represent non numeric value: {value}")),
        "String" => (!matches!(value, Value::String(_)))
            .then(|| format!("String cannot represent a non string value: {value}")),
        "Boolean" => (!matches!(value, Value::Boolean(_)))
            .then(|| format!("Boolean cannot represent a non boolean value: {value}")),
        "ID" => (!matches!(value, Value::String(_)) && !integer(value))
            .then(|| format!("ID cannot represent a non-string and non-integer value: {value}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;
    use crate::graphql::execution::Validator;

    fn messages(document: &str) -> Vec<String> {
        let validator = Validator::for_schema(crate::graphql::schema_builder());
        let document = parse_query(document).expect("parses");
        errors(validator.registry(), &document)
            .into_iter()
            .map(|error| error.message)
            .collect()
    }

    /// Documents graphql-js accepts.
    #[test]
    fn values_of_the_right_type_pass() {
        for document in [
            "{ viewer { articles(status: DRAFT) { totalCount } } }",
            "{ viewer { articles(status: null) { totalCount } } }",
            "{ articles(filter: { status: PUBLISHED, tag: \"x\" }) { totalCount } }",
            "{ articles(orderBy: { direction: ASC }) { totalCount } }",
            "{ articles(first: 2147483647, last: -2147483648) { totalCount } }",
            "{ node(id: 1) { id } n: node(id: \"x\") { id } }",
            "{ nodes(ids: 1) { id } }",
            "{ nodes(ids: \"x\") { id } }",
            "{ nodes(ids: [\"x\", 2]) { id } }",
            "query($v: ArticleStatus = DRAFT) { viewer { articles(status: $v) { totalCount } } }",
            "query($i: [ID!]! = 1) { nodes(ids: $i) { id } }",
            "query($a: String) { articles(filter: { tag: $a, status: $a }) { totalCount } }",
            "query($b: Boolean!) { viewer @skip(if: $b) { id } }",
            "mutation { createArticle(input: {title: \"a\", description: \"b\", body: \"c\", tags: \"x\"}) { article { id } } }",
            "mutation { revokeAllSessions { user { id } } }",
            "mutation { grantRole(input: {username: \"x\", role: ADMIN}) { user { id } } }",
            "{ viewer { nope(status: \"DRAFT\") } articles(nope: \"x\") { totalCount } }",
            "{ viewer @nope(if: \"x\") { id } }",
        ] {
            assert_eq!(messages(document), Vec::<String>::new(), "{document}");
        }
    }

    /// Documents graphql-js refuses, with the number of errors it finds.
    #[test]
    fn values_of_the_wrong_type_are_refused() {
        for (document, count) in [
            (
                "{ viewer { articles(status: \"DRAFT\") { totalCount } } }",
                1,
            ),
            ("{ viewer { articles(status: NOPE) { totalCount } } }", 1),
            ("{ viewer { articles(status: 1) { totalCount } } }", 1),
            ("{ viewer { articles(status: [DRAFT]) { totalCount } } }", 1),
            ("{ viewer { articles(status: {a: 1}) { totalCount } } }", 1),
            (
                "{ articles(filter: { status: \"PUBLISHED\" }) { totalCount } }",
                1,
            ),
            (
                "{ articles(orderBy: { field: \"CREATED_AT\" }) { totalCount } }",
                1,
            ),
            ("{ articles(orderBy: { field: ASC }) { totalCount } }", 1),
            (
                "{ articles(orderBy: { direction: null }) { totalCount } }",
                1,
            ),
            (
                "query($v: ArticleStatus = \"DRAFT\") { viewer { articles(status: $v) { totalCount } } }",
                1,
            ),
            (
                "query($v: ArticleFilterInput = {status: \"DRAFT\"}) { articles(filter: $v) { totalCount } }",
                1,
            ),
            (
                "query($v: [ArticleStatus] = [\"DRAFT\", DRAFT, \"X\"]) { __typename }",
                2,
            ),
            (
                "query($a: String) { articles(filter: {tag: $a, status: \"DRAFT\"}) { totalCount } }",
                1,
            ),
            (
                "query Q { viewer { articles(status: \"DRAFT\") { totalCount } } } query R { __typename }",
                1,
            ),
            (
                "{ viewer { ...F } } fragment F on User { articles(status: \"DRAFT\") { totalCount } }",
                1,
            ),
            (
                "{ viewer { ... on User { articles(status: \"X\") { totalCount } } } }",
                1,
            ),
            (
                "mutation { grantRole(input: {username: \"x\", role: \"ADMIN\"}) { user { id } } }",
                1,
            ),
            ("{ articles(first: -2147483649) { totalCount } }", 1),
            ("{ articles(first: 3000000000) { totalCount } }", 1),
            ("{ articles(first: 1.0) { totalCount } }", 1),
            ("{ articles(first: \"1\") { totalCount } }", 1),
            (
                "{ articles(first: 99999999999999999999) { totalCount } }",
                1,
            ),
            (
                "query($n: Int = 3000000000) { tags(first: $n) { name } }",
                1,
            ),
            ("{ node(id: 1.5) { id } }", 1),
            ("{ node(id: ABC) { id } }", 1),
            ("{ nodes(ids: [\"x\", null]) { id } }", 1),
            ("{ nodes(ids: [[\"x\"]]) { id } }", 1),
            ("{ nodes(ids: null) { id } }", 1),
            ("{ user(username: ALICE) { id } }", 1),
            ("{ articles(filter: \"x\") { totalCount } }", 1),
            ("{ articles(filter: [{tag: \"x\"}]) { totalCount } }", 1),
            ("{ articles(filter: TAG) { totalCount } }", 1),
            ("{ articles(filter: {nope: 1, tag: 1}) { totalCount } }", 2),
            (
                "mutation { createArticle(input: {title: \"a\", description: \"b\"}) { article { id } } }",
                1,
            ),
            (
                "mutation { createArticle(input: {title: \"a\", description: \"b\", body: \"c\", tags: null}) { article { id } } }",
                1,
            ),
            (
                "mutation { createArticle(input: {title: \"a\", description: \"b\", body: \"c\", draft: 1}) { article { id } } }",
                1,
            ),
            ("{ viewer @skip(if: \"true\") { id } }", 1),
            ("{ viewer @skip(if: null) { id } }", 1),
            (
                "query($b: Boolean! = null) { viewer @skip(if: $b) { id } }",
                1,
            ),
            ("{ tags(first: null) { name } }", 1),
        ] {
            let found = messages(document);
            assert_eq!(found.len(), count, "{document}: {found:?}");
        }
    }

    #[test]
    fn a_string_for_an_enum_value_is_named() {
        assert_eq!(
            messages("{ viewer { articles(status: \"DRAFT\") { totalCount } } }"),
            [
                "Enum \"ArticleStatus\" cannot represent non-enum value: \"DRAFT\". Did you mean the enum value \"DRAFT\"?"
            ]
        );
    }
}
