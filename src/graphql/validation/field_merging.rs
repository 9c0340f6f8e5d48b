//! The spec's validation rule "Field Selection Merging": fields answered
//! under one response key must be the same field with the same arguments
//! (unless their parents are distinct object types, which never both apply)
//! and must answer values of the same shape.
//!
//! Fields are compared pairwise as the spec's FieldsInSetCanMerge does, each
//! selection set with fragments expanded (every type condition, as
//! validation does not know the runtime type). Comparing the same pair of
//! field nodes twice is skipped, so a fragment spread many times costs once;
//! the work is still bounded ([`MAX_COMPARISONS`]), past which the document
//! is refused as too large to check.

use std::collections::HashSet;

use async_graphql::ServerError;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    ExecutableDocument, Field, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Name, Positioned};

use crate::graphql::escapes::{block_string_end, quoted_string_end};

/// The most field pairs one document may need compared.
pub const MAX_COMPARISONS: usize = 100_000;

/// Why a document's fields cannot merge, or why it was not checked.
#[derive(Debug, PartialEq)]
pub enum MergeError {
    /// Two fields under one response key conflict.
    Conflict(ServerError),
    /// Checking needs more than [`MAX_COMPARISONS`] comparisons.
    TooMuchWork,
}

/// The conflicts in `document`, parsed from `source`: one error per
/// conflicting pair of fields.
pub fn check(
    registry: &Registry,
    document: &ExecutableDocument,
    source: &str,
) -> Result<(), Vec<MergeError>> {
    let mut checker = Checker {
        registry,
        source,
        fragments: &document.fragments,
        compared: HashSet::new(),
        comparisons: 0,
        errors: Vec::new(),
    };
    for (_, operation) in document.operations.iter() {
        let root = match operation.node.ty {
            async_graphql::parser::types::OperationType::Query => Some(&registry.query_type),
            async_graphql::parser::types::OperationType::Mutation => {
                registry.mutation_type.as_ref()
            }
            async_graphql::parser::types::OperationType::Subscription => {
                registry.subscription_type.as_ref()
            }
        };
        if let Some(root) = root {
            checker.every_set(root, &operation.node.selection_set.node)?;
        }
    }
    for fragment in document.fragments.values() {
        let on = fragment.node.type_condition.node.on.node.as_str();
        checker.every_set(on, &fragment.node.selection_set.node)?;
    }
    if checker.errors.is_empty() {
        Ok(())
    } else {
        Err(checker.errors)
    }
}

/// A field as found in a selection set: the type it was selected on.
#[derive(Clone, Copy)]
struct FoundField<'d> {
    parent: &'d str,
    field: &'d Positioned<Field>,
}

struct Checker<'d> {
    registry: &'d Registry,
    /// The document's text, where arguments' strings are told apart.
    source: &'d str,
    fragments: &'d std::collections::HashMap<Name, Positioned<FragmentDefinition>>,
    /// Pairs of field nodes (by address) already compared, with whether
    /// their parents were exclusive.
    compared: HashSet<(usize, usize, bool)>,
    comparisons: usize,
    errors: Vec<MergeError>,
}

impl<'d> Checker<'d> {
    /// Checks `set` on `parent` and every selection set inside it.
    fn every_set(&mut self, parent: &'d str, set: &'d SelectionSet) -> Result<(), Vec<MergeError>> {
        self.within(parent, set).map_err(|error| vec![error])?;
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if field.selection_set.node.items.is_empty() {
                        continue;
                    }
                    let Some(ty) = self.field_type(parent, field.name.node.as_str()) else {
                        continue;
                    };
                    let named = MetaTypeName::concrete_typename(ty);
                    self.every_set(named, &field.selection_set.node)?;
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |c| c.node.on.node.as_str());
                    self.every_set(on, &fragment.node.selection_set.node)?;
                }
                // Fragment definitions are checked on their own.
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }

    /// Compares the fields of one selection set pairwise.
    fn within(&mut self, parent: &'d str, set: &'d SelectionSet) -> Result<(), MergeError> {
        let grouped = self.fields_of(parent, set);
        for fields in grouped.values() {
            for (index, first) in fields.iter().enumerate() {
                for second in &fields[index + 1..] {
                    if let Some(reason) = self.conflict(*first, *second, false)? {
                        self.report(first, second, reason);
                    }
                }
            }
        }
        Ok(())
    }

    fn report(&mut self, first: &FoundField<'d>, second: &FoundField<'d>, reason: String) {
        let key = first.field.node.response_key().node.as_str();
        let mut error = ServerError::new(
            format!(
                "Fields \"{key}\" conflict because {reason}. Use different aliases on the fields to fetch both if this was intentional."
            ),
            Some(first.field.pos),
        );
        error.locations.push(second.field.pos);
        self.errors.push(MergeError::Conflict(error));
    }

    /// The fields of `set` on `parent` by response key, fragments expanded
    /// whatever their type condition, each field node once.
    fn fields_of(
        &self,
        parent: &'d str,
        set: &'d SelectionSet,
    ) -> IndexMap<&'d str, Vec<FoundField<'d>>> {
        let mut grouped: IndexMap<&'d str, Vec<FoundField<'d>>> = IndexMap::new();
        let mut seen_fields = HashSet::new();
        let mut visited = HashSet::new();
        self.collect(parent, set, &mut visited, &mut seen_fields, &mut grouped);
        grouped
    }

    fn collect(
        &self,
        parent: &'d str,
        set: &'d SelectionSet,
        visited: &mut HashSet<&'d str>,
        seen_fields: &mut HashSet<usize>,
        grouped: &mut IndexMap<&'d str, Vec<FoundField<'d>>>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let address = std::ptr::from_ref(field) as usize;
                    if seen_fields.insert(address) {
                        grouped
                            .entry(field.node.response_key().node.as_str())
                            .or_default()
                            .push(FoundField { parent, field });
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |c| c.node.on.node.as_str());
                    self.collect(
                        on,
                        &fragment.node.selection_set.node,
                        visited,
                        seen_fields,
                        grouped,
                    );
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if !visited.insert(name) {
                        continue;
                    }
                    if let Some(fragment) = self.fragments.get(name) {
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        self.collect(
                            on,
                            &fragment.node.selection_set.node,
                            visited,
                            seen_fields,
                            grouped,
                        );
                    }
                }
            }
        }
    }

    /// Why `first` and `second` cannot be answered under one key, if they
    /// cannot; `exclusive` when an ancestor pair never both apply.
    fn conflict(
        &mut self,
        first: FoundField<'d>,
        second: FoundField<'d>,
        exclusive: bool,
    ) -> Result<Option<String>, MergeError> {
        let (a, b) = (
            std::ptr::from_ref(first.field) as usize,
            std::ptr::from_ref(second.field) as usize,
        );
        if a == b || !self.compared.insert((a.min(b), a.max(b), exclusive)) {
            return Ok(None);
        }
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(MergeError::TooMuchWork);
        }
        let exclusive = exclusive
            || (first.parent != second.parent
                && self.is_object(first.parent)
                && self.is_object(second.parent));
        let (one, other) = (&first.field.node, &second.field.node);
        let (name_one, name_other) = (one.name.node.as_str(), other.name.node.as_str());
        if !exclusive {
            if name_one != name_other {
                return Ok(Some(format!(
                    "\"{name_one}\" and \"{name_other}\" are different fields"
                )));
            }
            if !same_arguments(one, other, self.source) {
                return Ok(Some("they have differing arguments".into()));
            }
        }
        let (Some(type_one), Some(type_other)) = (
            self.field_type(first.parent, name_one),
            self.field_type(second.parent, name_other),
        ) else {
            // An unknown field is another rule's to report.
            return Ok(None);
        };
        if self.types_conflict(type_one, type_other) {
            return Ok(Some(format!(
                "they return conflicting types \"{type_one}\" and \"{type_other}\""
            )));
        }
        if one.selection_set.node.items.is_empty() || other.selection_set.node.items.is_empty() {
            return Ok(None);
        }
        let fields_one = self.fields_of(
            MetaTypeName::concrete_typename(type_one),
            &one.selection_set.node,
        );
        let fields_other = self.fields_of(
            MetaTypeName::concrete_typename(type_other),
            &other.selection_set.node,
        );
        let mut reasons = Vec::new();
        for (key, ones) in &fields_one {
            let Some(others) = fields_other.get(key) else {
                continue;
            };
            for sub_one in ones {
                for sub_other in others {
                    if let Some(reason) = self.conflict(*sub_one, *sub_other, exclusive)? {
                        reasons.push(format!("\"{key}\" conflict because {reason}"));
                    }
                }
            }
        }
        Ok((!reasons.is_empty()).then(|| format!("subfields {}", reasons.join(" and "))))
    }

    /// The type of field `name` on `parent` as the registry writes it.
    /// None for the meta-fields (`__typename`, `__schema`, `__type`): as in
    /// graphql-js, the reference implementation, their types are not
    /// compared.
    fn field_type(&self, parent: &str, name: &str) -> Option<&'d str> {
        if name.starts_with("__") {
            return None;
        }
        let parent = self.registry.types.get(parent)?;
        parent.field_by_name(name).map(|field| field.ty.as_str())
    }

    fn is_object(&self, name: &str) -> bool {
        matches!(self.registry.types.get(name), Some(MetaType::Object { .. }))
    }

    /// The spec's SameResponseShape on the types alone: the same list and
    /// non-null wrapping, and for leaves the same type.
    fn types_conflict(&self, one: &str, other: &str) -> bool {
        match (MetaTypeName::create(one), MetaTypeName::create(other)) {
            (MetaTypeName::NonNull(one), MetaTypeName::NonNull(other))
            | (MetaTypeName::List(one), MetaTypeName::List(other)) => {
                self.types_conflict(one, other)
            }
            (MetaTypeName::Named(one), MetaTypeName::Named(other)) => {
                let is_leaf = |name| self.registry.types.get(name).is_some_and(|ty| ty.is_leaf());
                (is_leaf(one) || is_leaf(other)) && one != other
            }
            _ => true,
        }
    }
}

/// Whether two fields have the same arguments, in any order, as graphql-js
/// (the reference implementation) compares them: by their printed form, so
/// a block string and a quoted string of the same value differ.
fn same_arguments(one: &Field, other: &Field, source: &str) -> bool {
    one.arguments.len() == other.arguments.len()
        && one.arguments.iter().all(|(name, value)| {
            other.arguments.iter().any(|(other_name, other_value)| {
                other_name.node == name.node
                    && other_value.node == value.node
                    && string_kinds(source, value.pos) == string_kinds(source, other_value.pos)
            })
        })
}

/// Whether each string literal of the value written at `pos` in `source`
/// is a block string, in order.
fn string_kinds(source: &str, pos: async_graphql::Pos) -> Vec<bool> {
    let Some(line) = source.split('\n').nth(pos.line.saturating_sub(1)) else {
        return Vec::new();
    };
    let start = line
        .char_indices()
        .nth(pos.column.saturating_sub(1))
        .map_or(line.len(), |(offset, _)| offset);
    let start = line.as_ptr() as usize - source.as_ptr() as usize + start;
    let bytes = &source.as_bytes()[start..];
    let mut kinds = Vec::new();
    let (mut index, mut open) = (0, 0usize);
    while index < bytes.len() {
        match bytes[index] {
            b'"' if bytes[index..].starts_with(b"\"\"\"") => {
                kinds.push(true);
                index = block_string_end(bytes, index);
            }
            b'"' => {
                kinds.push(false);
                index = quoted_string_end(bytes, index);
            }
            b'[' | b'{' => {
                open += 1;
                index += 1;
            }
            b']' | b'}' => {
                open = open.saturating_sub(1);
                index += 1;
            }
            b')' | b',' | b' ' | b'\n' | b'\r' | b'\t' if open == 0 => break,
            _ => index += 1,
        }
        if open == 0
            && index > 0
            && matches!(bytes.get(index.wrapping_sub(1)), Some(b'"' | b']' | b'}'))
        {
            break;
        }
    }
    kinds
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;
    use crate::graphql::execution::Validator;

    fn verdict(text: &str) -> Result<(), String> {
        let validator = Validator::for_schema(crate::graphql::schema_builder());
        let document = parse_query(text).expect("parses");
        check(validator.registry(), &document, text).map_err(|errors| format!("{errors:?}"))
    }

    #[test]
    fn the_same_field_twice_merges() {
        for document in [
            "{ articles(first: 2) { nodes { slug } nodes { title } } }",
            "{ a: articles(first: 2) { totalCount } a: articles(first: 2) { nodes { slug } } }",
            "{ node(id: \"x\") { ... on Article { x: slug } ... on User { x: username } } }",
            "{ articles { nodes { ...A ...A ...A } } } fragment A on Article { slug title: slug }",
            "{ articles { nodes { ... on Node { ... on Comment { y: author { bio } } } y: __typename } } }",
            "{ user(username: \"b\\u006fb\") { id } user(username: \"bob\") { bio } }",
            "{ a: user(username: \"\"\"🐉\"\"\") { id } a: user(username: \"\"\"🐉\"\"\") { bio } }",
        ] {
            assert_eq!(verdict(document), Ok(()), "{document}");
        }
    }

    #[test]
    fn different_fields_or_arguments_under_one_key_conflict() {
        for document in [
            "{ articles { nodes { x: slug ... on Article { x: title } } } }",
            "{ a: articles(first: 1) { totalCount } a: articles(first: 2) { totalCount } }",
            "{ node(id: \"x\") { ... on Article { x: slug } ... on Node { x: id } } }",
            "{ articles { nodes { author { x: username } } nodes { author { x: bio } } } }",
            "{ node(id: \"x\") { ... on Article { x: favoritesCount } ... on User { x: username } } }",
            "{ user(username: \"\"\"bob\"\"\") { id } user(username: \"bob\") { bio } }",
            "{ a: user(username: \"🐉\") { id } a: user(username: \"\"\"🐉\"\"\") { bio } }",
            "{ articles(filter: { tag: \"a\" }) { totalCount } articles(filter: { tag: \"\"\"a\"\"\" }) { totalCount } }",
        ] {
            let found = verdict(document);
            assert!(found.is_err(), "{document}");
        }
    }

    #[test]
    fn a_document_too_large_to_compare_is_refused() {
        let mut document = String::from("{ articles { nodes {");
        for index in 0..600 {
            document.push_str(&format!(" x: author {{ n{index}: username }}"));
        }
        document.push_str(" } } }");
        let validator = Validator::for_schema(crate::graphql::schema_builder());
        let parsed = parse_query(&document).expect("parses");
        let errors = check(validator.registry(), &parsed, &document).expect_err("too much work");
        assert!(errors.contains(&MergeError::TooMuchWork), "{errors:?}");
    }
}
