//! Measuring a parsed document: depth, cost, aliases, root fields, directives
//! and the longest list.
//!
//! Introspection (a `__schema` or `__type` field and everything under it) is
//! measured apart from the data: its fields count toward neither depth nor
//! cost, and it has bounds of its own, its depth and how deep its list fields
//! (`types`, `fields`, `args`…) nest, the one measure by which an
//! introspection answer can grow faster than the document. Data selections
//! around it are measured exactly as in a document without it.
//!
//! Fragments are measured once each (twice at most: where they are spread as
//! data and where as introspection) and reused, so documents whose fragments
//! spread each other many times over are measured in linear time, and a
//! fragment cycle (which validation refuses later) counts as empty instead of
//! looping. All arithmetic saturates.

use std::collections::HashMap;

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Value, Variables};
use async_graphql_value::Value as WrittenValue;

use crate::graphql::introspection;

/// Page size assumed for a connection whose `first`/`last` is not given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// The introspection fields that answer a list, each item with fields of its
/// own. The standard introspection query (graphql-js's
/// `getIntrospectionQuery`) nests three of them: `types { fields { args } }`.
/// `locations` is a list too, but of enum values, so nothing nests in it.
pub const INTROSPECTION_LIST_FIELDS: [&str; 8] = [
    "types",
    "directives",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
];

/// What a document asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measurements {
    /// Deepest nesting of data selections in the operation (`{ a { b } }` is
    /// 2); introspection selections are not counted.
    pub depth: usize,
    /// Every data field costs 1; a field with `first`/`last` (or a
    /// connection, with `edges` or `nodes`, without them: 20) multiplies its
    /// children's cost, and so does a field given `ids`, by their number.
    /// Introspection fields cost nothing here: they are bounded by
    /// [`Measurements::introspection_depth`] and
    /// [`Measurements::introspection_list_nesting`].
    pub cost: u64,
    /// Deepest nesting of selections in an introspection part, counted from
    /// the root of the operation like [`Measurements::depth`]
    /// (`{ __schema { types { name } } }` is 3); 0 without introspection.
    pub introspection_depth: usize,
    /// Most [`INTROSPECTION_LIST_FIELDS`] nested inside each other in an
    /// introspection part (`{ __schema { types { fields { name } } } }` is 2).
    pub introspection_list_nesting: usize,
    /// Aliased fields in the whole document.
    pub aliases: usize,
    /// Fields at the root of the operation.
    pub root_fields: usize,
    /// Directive uses in the whole document.
    pub directives: usize,
    /// Items in the longest list value, written in the document or sent as
    /// a variable's value, at any depth.
    pub longest_list: usize,
}

/// Measures the operation named `operation_name` (or the only one; with
/// several and no name, the largest of each measure).
pub fn measure(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Measurements {
    let (aliases, directives) = count_aliases_and_directives(document);
    let longest_list = longest_list_in_document(document).max(
        variables
            .values()
            .map(longest_const_list)
            .max()
            .unwrap_or(0),
    );
    let operations: Vec<&OperationDefinition> = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => vec![&op.node],
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => vec![&op.node],
            None => ops.values().map(|op| &op.node).collect(),
        },
        (DocumentOperations::Multiple(ops), None) => ops.values().map(|op| &op.node).collect(),
    };
    let mut measured = Measurements {
        aliases,
        directives,
        longest_list,
        ..Measurements::default()
    };
    // The operation that runs is measured with its variables' defaults. When
    // none is selected (several, and no name or an unknown one), nothing
    // runs: each is measured without defaults, fragments once for all.
    let defaults = match operations.as_slice() {
        [operation] => operation
            .variable_definitions
            .iter()
            .filter_map(|definition| {
                let default = definition.node.default_value.as_ref()?;
                Some((definition.node.name.node.as_str(), &default.node))
            })
            .collect(),
        _ => HashMap::new(),
    };
    let mut walker = Walker {
        document,
        variables,
        defaults,
        fragments: HashMap::new(),
        spreads_open: 0,
    };
    for operation in operations {
        let set = walker.selection_set(&operation.selection_set.node, Part::Data);
        measured.depth = measured.depth.max(set.depth);
        measured.cost = measured.cost.max(set.cost);
        measured.root_fields = measured.root_fields.max(set.fields);
        measured.introspection_depth = measured.introspection_depth.max(set.introspection_depth);
        measured.introspection_list_nesting = measured
            .introspection_list_nesting
            .max(set.introspection_lists);
    }
    measured
}

/// Which part of the document a selection set is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Part {
    /// Fields that read data: measured by depth and cost.
    Data,
    /// Inside a `__schema` or `__type` field: measured by introspection
    /// depth and list nesting.
    Introspection,
}

/// Depth, cost and number of fields of one selection set, fragments
/// expanded, and the depth and list nesting of the introspection in it.
#[derive(Clone, Copy, Default)]
struct SetSize {
    /// Deepest data selection, from this set's level.
    depth: usize,
    cost: u64,
    fields: usize,
    /// Deepest introspection selection, from this set's level.
    introspection_depth: usize,
    /// Most introspection list fields nested in this set.
    introspection_lists: usize,
}

impl SetSize {
    fn add(&mut self, other: SetSize) {
        self.depth = self.depth.max(other.depth);
        self.cost = self.cost.saturating_add(other.cost);
        self.fields = self.fields.saturating_add(other.fields);
        self.introspection_depth = self.introspection_depth.max(other.introspection_depth);
        self.introspection_lists = self.introspection_lists.max(other.introspection_lists);
    }

    /// The introspection depth of a data field's `children`, seen from the
    /// set holding the field: one level deeper, or 0 without introspection.
    fn introspection_below(children: SetSize) -> usize {
        if children.introspection_depth == 0 {
            0
        } else {
            children.introspection_depth.saturating_add(1)
        }
    }
}

enum FragmentState {
    Measuring,
    Measured(SetSize),
}

struct Walker<'d> {
    document: &'d ExecutableDocument,
    variables: &'d Variables,
    /// The default values of the operation's variables, by name.
    defaults: HashMap<&'d str, &'d Value>,
    /// Each fragment is measured once as data and once as introspection at
    /// most: what its fields are depends on where it is spread.
    fragments: HashMap<(&'d str, Part), FragmentState>,
    /// Fragments being measured, each inside the one before.
    spreads_open: usize,
}

/// How deep fragment spreads may nest inside each other: validation refuses
/// a document deeper than this (async-graphql allows 32).
const MAX_SPREAD_NESTING: usize = 32;

impl<'d> Walker<'d> {
    fn selection_set(&mut self, set: &'d SelectionSet, part: Part) -> SetSize {
        let mut size = SetSize::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let field_size = match part {
                        Part::Data if !introspection::is_schema_field(name) => {
                            let children = self.selection_set(&field.selection_set.node, part);
                            let multiplier = self.page_size(field, &field.selection_set.node);
                            SetSize {
                                depth: children.depth.saturating_add(1),
                                cost: multiplier.saturating_mul(children.cost).saturating_add(1),
                                fields: 1,
                                introspection_depth: SetSize::introspection_below(children),
                                introspection_lists: children.introspection_lists,
                            }
                        }
                        // `__schema` or `__type`, or a field inside one.
                        _ => {
                            let children =
                                self.selection_set(&field.selection_set.node, Part::Introspection);
                            let list = part == Part::Introspection
                                && INTROSPECTION_LIST_FIELDS.contains(&name);
                            SetSize {
                                fields: 1,
                                introspection_depth: children.introspection_depth.saturating_add(1),
                                introspection_lists: children
                                    .introspection_lists
                                    .saturating_add(usize::from(list)),
                                ..SetSize::default()
                            }
                        }
                    };
                    size.add(field_size);
                }
                Selection::InlineFragment(fragment) => {
                    let inner = self.selection_set(&fragment.node.selection_set.node, part);
                    size.add(inner);
                }
                Selection::FragmentSpread(spread) => {
                    let inner = self.fragment(spread.node.fragment_name.node.as_str(), part);
                    size.add(inner);
                }
            }
        }
        size
    }

    fn fragment(&mut self, name: &'d str, part: Part) -> SetSize {
        // Spreads nested deeper than validation allows count as empty: the
        // document is refused anyway, and the walk's recursion stays short.
        if self.spreads_open >= MAX_SPREAD_NESTING {
            return SetSize::default();
        }
        match self.fragments.get(&(name, part)) {
            Some(FragmentState::Measured(size)) => return *size,
            // A cycle: validation refuses the document; count nothing here.
            Some(FragmentState::Measuring) => return SetSize::default(),
            None => {}
        }
        let Some((key, definition)) = self.document.fragments.get_key_value(name) else {
            return SetSize::default();
        };
        self.fragments
            .insert((key.as_str(), part), FragmentState::Measuring);
        self.spreads_open += 1;
        let size = self.selection_set(&definition.node.selection_set.node, part);
        self.spreads_open -= 1;
        self.fragments
            .insert((key.as_str(), part), FragmentState::Measured(size));
        size
    }

    /// The value a variable will run with: the request's, else the
    /// operation's default.
    fn variable(&self, name: &str) -> Option<&Value> {
        self.variables
            .get(name)
            .or_else(|| self.defaults.get(name).copied())
    }

    /// The page size an argument asks for: a number, the default page size
    /// for null or nothing, `None` for anything else. Nothing is copied.
    fn page_argument(&self, value: &WrittenValue) -> Option<u64> {
        let number = |value: Option<&Value>| match value {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::Null) | None => Some(DEFAULT_PAGE_SIZE),
            Some(_) => None,
        };
        match value {
            WrittenValue::Variable(name) => number(self.variable(name)),
            WrittenValue::Number(n) => n.as_u64(),
            WrittenValue::Null => Some(DEFAULT_PAGE_SIZE),
            _ => None,
        }
    }

    /// How many items a list argument holds, without copying it.
    fn list_length(&self, value: &WrittenValue) -> Option<u64> {
        match value {
            WrittenValue::List(items) => Some(items.len() as u64),
            WrittenValue::Variable(name) => match self.variable(name) {
                Some(Value::List(items)) => Some(items.len() as u64),
                _ => None,
            },
            _ => None,
        }
    }

    /// How many times a field's children are fetched: its `first`/`last`,
    /// the number of `ids` it is given, 20 for a connection without them,
    /// otherwise 1. Every value is the one the operation will run with.
    fn page_size(
        &self,
        field: &async_graphql::parser::types::Field,
        children: &SelectionSet,
    ) -> u64 {
        let given = field
            .arguments
            .iter()
            .filter_map(|(name, value)| match name.node.as_str() {
                "first" | "last" => self.page_argument(&value.node),
                "ids" => self.list_length(&value.node),
                _ => None,
            })
            .max();
        if let Some(size) = given {
            return size.max(1);
        }
        let is_connection = children.items.iter().any(|item| match &item.node {
            Selection::Field(child) => matches!(child.node.name.node.as_str(), "edges" | "nodes"),
            _ => false,
        });
        if is_connection { DEFAULT_PAGE_SIZE } else { 1 }
    }
}

/// Aliases and directives written in the document, fragments counted once.
fn count_aliases_and_directives(document: &ExecutableDocument) -> (usize, usize) {
    let mut aliases = 0;
    let mut directives = 0;
    let mut sets: Vec<&SelectionSet> = Vec::new();
    for (_, operation) in document.operations.iter() {
        directives += operation.node.directives.len();
        directives += operation
            .node
            .variable_definitions
            .iter()
            .map(|v| v.node.directives.len())
            .sum::<usize>();
        sets.push(&operation.node.selection_set.node);
    }
    for fragment in document.fragments.values() {
        directives += fragment.node.directives.len();
        sets.push(&fragment.node.selection_set.node);
    }
    while let Some(set) = sets.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    aliases += usize::from(field.node.alias.is_some());
                    directives += field.node.directives.len();
                    sets.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    directives += fragment.node.directives.len();
                    sets.push(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => directives += spread.node.directives.len(),
            }
        }
    }
    (aliases, directives)
}

/// The longest list among the values written in the document: arguments of
/// fields and directives, and variables' default values. Every value is
/// visited once; values nest no deeper than the nesting limit allows.
fn longest_list_in_document(document: &ExecutableDocument) -> usize {
    let mut longest = 0;
    let mut sets: Vec<&SelectionSet> = Vec::new();
    let mut directive_lists: Vec<&Vec<Positioned<Directive>>> = Vec::new();
    for (_, operation) in document.operations.iter() {
        for variable in &operation.node.variable_definitions {
            if let Some(default) = &variable.node.default_value {
                longest = longest.max(longest_const_list(&default.node));
            }
            directive_lists.push(&variable.node.directives);
        }
        directive_lists.push(&operation.node.directives);
        sets.push(&operation.node.selection_set.node);
    }
    for fragment in document.fragments.values() {
        directive_lists.push(&fragment.node.directives);
        sets.push(&fragment.node.selection_set.node);
    }
    while let Some(set) = sets.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    for (_, value) in &field.node.arguments {
                        longest = longest.max(longest_list(&value.node));
                    }
                    directive_lists.push(&field.node.directives);
                    sets.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    directive_lists.push(&fragment.node.directives);
                    sets.push(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => directive_lists.push(&spread.node.directives),
            }
        }
    }
    for directive in directive_lists.into_iter().flatten() {
        for (_, value) in &directive.node.arguments {
            longest = longest.max(longest_list(&value.node));
        }
    }
    longest
}

/// Items in the longest list within a value written in the document.
fn longest_list(value: &WrittenValue) -> usize {
    match value {
        WrittenValue::List(items) => items
            .iter()
            .map(longest_list)
            .max()
            .unwrap_or(0)
            .max(items.len()),
        WrittenValue::Object(fields) => fields.values().map(longest_list).max().unwrap_or(0),
        _ => 0,
    }
}

/// Items in the longest list within a constant value (a variable's).
fn longest_const_list(value: &Value) -> usize {
    match value {
        Value::List(items) => items
            .iter()
            .map(longest_const_list)
            .max()
            .unwrap_or(0)
            .max(items.len()),
        Value::Object(fields) => fields.values().map(longest_const_list).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(query: &str) -> Measurements {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        measure(&document, None, &Variables::default())
    }

    #[test]
    fn depth_counts_nested_selections_through_fragments() {
        assert_eq!(measured("{ a }").depth, 1);
        assert_eq!(measured("{ a { b { c } } d }").depth, 3);
        assert_eq!(
            measured("{ a { ...F } } fragment F on A { b { c } }").depth,
            3
        );
        assert_eq!(measured("{ a { ... on A { b } } }").depth, 2);
    }

    #[test]
    fn connections_multiply_the_cost_of_their_children() {
        // 1 + 10 * (1 + 1)
        assert_eq!(measured("{ tags(first: 10) { name count } }").cost, 21);
        // articles: 1 + 5 * edges; edges = 1 + node; node = 1 + slug + comments;
        // comments = 1 + 3 * (1 + body) = 7; node = 9, edges = 10: 51.
        assert_eq!(
            measured("{ articles(last: 5) { edges { node { slug comments(first: 3) { nodes { body } } } } } }").cost,
            1 + 5 * (1 + (1 + 1 + (1 + 3 * (1 + 1))))
        );
        // A connection without first or last counts 20 items.
        assert_eq!(measured("{ articles { nodes { slug } } }").cost, 1 + 20 * 2);
        let document =
            async_graphql::parser::parse_query("query($n: Int) { tags(first: $n) { name } }")
                .expect("parses");
        let variables = Variables::from_json(serde_json::json!({ "n": 50 }));
        assert_eq!(measure(&document, None, &variables).cost, 51);
    }

    #[test]
    fn cost_uses_the_values_the_operation_runs_with() {
        let measure_with = |query: &str, variables: serde_json::Value| {
            let document = async_graphql::parser::parse_query(query).expect("parses");
            measure(&document, None, &Variables::from_json(variables)).cost
        };
        let nested = "query($n: Int = 100) { articles(first: $n) { nodes { comments(first: $n) { nodes { body } } } } }";
        // 1 + 100 * (1 + (1 + 100 * (1 + 1)))
        assert_eq!(measure_with(nested, serde_json::json!({})), 20_201);
        assert_eq!(
            measure_with(nested, serde_json::json!({ "n": 2 })),
            1 + 2 * (1 + (1 + 2 * 2))
        );
        // An explicit null runs as the default page size.
        assert_eq!(
            measure_with(nested, serde_json::json!({ "n": null })),
            1 + 20 * (1 + (1 + 20 * 2))
        );
        // A variable without a value or default counts the default page size.
        assert_eq!(
            measure_with(
                "query($n: Int) { tags(first: $n) { name } }",
                serde_json::json!({})
            ),
            1 + 20
        );
        // Defaults are the selected operation's own, also through fragments.
        let two = "query A($n: Int = 3) { ...F } query B($n: Int = 50) { ...F } fragment F on Q { tags(first: $n) { name } }";
        let document = async_graphql::parser::parse_query(two).expect("parses");
        let vars = Variables::default();
        assert_eq!(measure(&document, Some("A"), &vars).cost, 1 + 3);
        assert_eq!(measure(&document, Some("B"), &vars).cost, 1 + 50);
    }

    #[test]
    fn nodes_multiply_their_children_by_the_number_of_ids() {
        let literal = measured("{ nodes(ids: [\"a\", \"b\", \"c\"]) { id } }");
        assert_eq!(literal.cost, 1 + 3);
        let document = async_graphql::parser::parse_query(
            "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Article { comments(first: 10) { nodes { body } } } } }",
        )
        .expect("parses");
        let variables = Variables::from_json(serde_json::json!({ "ids": vec!["x"; 50] }));
        assert_eq!(
            measure(&document, None, &variables).cost,
            1 + 50 * (1 + 10 * (1 + 1))
        );
    }

    #[test]
    fn aliases_root_fields_and_directives_are_counted() {
        let m = measured(
            "query Q @a { x: tags { name } y: tags { n: name @include(if: true) } ...R }
             fragment R on Query @b { z: viewer { id } ... @skip(if: false) { w } }",
        );
        assert_eq!(m.aliases, 4);
        assert_eq!(m.root_fields, 4);
        assert_eq!(m.directives, 4);
    }

    #[test]
    fn the_longest_list_is_found_in_arguments_directives_defaults_and_variables() {
        assert_eq!(measured("{ a }").longest_list, 0);
        assert_eq!(measured("{ a(x: [1, 2, 3]) }").longest_list, 3);
        assert_eq!(
            measured("{ a(x: { y: [[1], [1, 2, 3, 4], []] }) }").longest_list,
            4
        );
        assert_eq!(
            measured("query($v: [Int] = [1, 2, 3, 4, 5]) { a(x: $v) }").longest_list,
            5
        );
        assert_eq!(
            measured("{ ...F } fragment F on Q { a @d(x: [1, 2]) { b(y: [1]) } }").longest_list,
            2
        );
        let document =
            async_graphql::parser::parse_query("query($v: [[Int]]) { a(x: $v) }").expect("parses");
        let variables = Variables::from_json(serde_json::json!({ "v": [[1, 2], vec![0; 500]] }));
        assert_eq!(measure(&document, None, &variables).longest_list, 500);
    }

    #[test]
    fn the_named_operation_is_measured() {
        let document =
            async_graphql::parser::parse_query("query Small { a } query Big { a { b { c } } x y }")
                .expect("parses");
        let small = measure(&document, Some("Small"), &Variables::default());
        assert_eq!((small.depth, small.root_fields), (1, 1));
        let either = measure(&document, None, &Variables::default());
        assert_eq!((either.depth, either.root_fields), (3, 3));
    }

    /// graphql-js 16's `getIntrospectionQuery` with every option on
    /// (descriptions, `specifiedByURL`, `isRepeatable`, the schema's
    /// description, deprecated input values, `isOneOf`), its layout condensed.
    const STANDARD_INTROSPECTION: &str = "
        query IntrospectionQuery {
          __schema {
            description
            queryType { name kind } mutationType { name kind } subscriptionType { name kind }
            types { ...FullType }
            directives {
              name description isRepeatable locations
              args(includeDeprecated: true) { ...InputValue }
            }
          }
        }
        fragment FullType on __Type {
          kind name description specifiedByURL isOneOf
          fields(includeDeprecated: true) {
            name description
            args(includeDeprecated: true) { ...InputValue }
            type { ...TypeRef }
            isDeprecated deprecationReason
          }
          inputFields(includeDeprecated: true) { ...InputValue }
          interfaces { ...TypeRef }
          enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
          possibleTypes { ...TypeRef }
        }
        fragment InputValue on __InputValue {
          name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
        }
        fragment TypeRef on __Type {
          kind name
          ofType { name kind ofType { name kind ofType { name kind ofType { name kind
          ofType { name kind ofType { name kind ofType { name kind ofType { name kind
          ofType { name kind } } } } } } } } }
        }";

    #[test]
    fn introspection_is_measured_apart_from_the_data() {
        let standard = measured(STANDARD_INTROSPECTION);
        // __schema > types > fields > args > type > 9 × ofType > name.
        assert_eq!(standard.introspection_depth, 15);
        // types > fields > args.
        assert_eq!(standard.introspection_list_nesting, 3);
        assert_eq!((standard.depth, standard.cost), (0, 0), "no data");
        assert_eq!(standard.root_fields, 1);

        // The data beside introspection is measured as without it.
        let both =
            measured("{ __schema { types { name } } articles { nodes { author { username } } } }");
        let data = measured("{ articles { nodes { author { username } } } }");
        assert_eq!((both.depth, both.cost), (data.depth, data.cost));
        assert_eq!((both.depth, both.cost), (4, 1 + 20 * (1 + 1 + 1)));
        assert_eq!(both.introspection_depth, 3);
        assert_eq!(both.introspection_list_nesting, 1);
        assert_eq!(both.root_fields, 2);
        assert_eq!(data.introspection_depth, 0);

        // `__type` is introspection too, and a list field counts only in it.
        let typed = measured("{ __type(name: \"Article\") { fields { name } } }");
        assert_eq!(
            (typed.introspection_depth, typed.introspection_list_nesting),
            (3, 1)
        );
        let data_named_fields = measured("{ fields { types { args { name } } } }");
        assert_eq!(data_named_fields.introspection_list_nesting, 0);
        assert_eq!(data_named_fields.depth, 4);
    }

    #[test]
    fn introspection_lists_nest_through_fragments_and_non_list_fields() {
        let deep = measured(
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
        );
        assert_eq!(deep.introspection_list_nesting, 4);
        assert_eq!(deep.introspection_depth, 8);
        let through_fragments = measured(
            "{ __type(name: \"A\") { ...T } }
             fragment T on __Type { interfaces { possibleTypes { ... on __Type { ...E } } } }
             fragment E on __Type { enumValues { name } inputFields { type { ofType { name } } } }",
        );
        assert_eq!(through_fragments.introspection_list_nesting, 3);
        assert_eq!(through_fragments.introspection_depth, 7);
        // `locations` lists enum values, in which nothing nests.
        let directives = measured("{ __schema { directives { locations args { name } } } }");
        assert_eq!(directives.introspection_list_nesting, 2);
    }

    #[test]
    fn a_fragment_counts_as_data_or_introspection_where_it_is_spread() {
        let m = measured(
            "{ a { ...F } __type(name: \"T\") { ...F } } fragment F on T { fields { b { c } } }",
        );
        // a > fields > b > c, and __type > fields > b > c.
        assert_eq!((m.depth, m.cost), (4, 4));
        assert_eq!(
            (m.introspection_depth, m.introspection_list_nesting),
            (4, 1)
        );
        // Introspection spread under data (which validation refuses) counts
        // from the operation's root, and the data above it as data.
        let nested = measured("{ a { b { __schema { types { name } } } } }");
        assert_eq!((nested.depth, nested.cost), (2, 2));
        assert_eq!(nested.introspection_depth, 5);
        // A cycle through both parts ends.
        let cycle = measured("{ ...A } fragment A on Q { a __schema { ...A } }");
        assert_eq!(cycle.depth, 1);
        assert_eq!(cycle.introspection_depth, 2);
    }

    #[test]
    fn cycles_and_fragment_explosions_end_quickly() {
        let cycle = measured("{ ...A } fragment A on Q { a ...B } fragment B on Q { b ...A }");
        assert_eq!(cycle.root_fields, 2);
        // Each fragment spreads the next one ten times: 10^30 fields expanded.
        let mut query = String::from("{ ...F0 }");
        for i in 0..30 {
            let spreads = format!("...F{} ", i + 1).repeat(10);
            query.push_str(&format!(" fragment F{i} on Q {{ a {{ {spreads} }} }}"));
        }
        query.push_str(" fragment F30 on Q { leaf }");
        let started = std::time::Instant::now();
        let exploded = measured(&query);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(exploded.cost, u64::MAX, "saturates");
        assert_eq!(exploded.depth, 31);
    }
}
