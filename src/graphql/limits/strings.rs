//! Strings no backend can store: a NUL character is refused by PostgreSQL's
//! text type, while SQLite and MySQL keep it and hand it back. Every string a
//! request carries, written in the document or sent as a variable, is checked
//! before anything runs, so such input is a client's mistake
//! (`BAD_USER_INPUT`, naming where it is) on every backend alike rather than
//! a database error on one.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Value, Variables};
use async_graphql_value::Value as WrittenValue;

use crate::error::Error;

/// The longest path an error names, in characters: names in a document or a
/// variable may be long, and the answer must not echo them back whole.
const MAX_PATH_CHARS: usize = 100;

/// Refuses a request with a NUL character in any string it carries, naming
/// where: `variables.<name>.<field>…` for a variable's value, or
/// `<field>.<argument>.<field>…` for a value written in the document (list
/// items by their index). The search builds no path until it finds one, so
/// it costs one look at each value.
pub fn check_storable(document: &ExecutableDocument, variables: &Variables) -> Result<(), Error> {
    let found = variables
        .iter()
        .find_map(|(name, value)| {
            nul_in_const(value).map(|within| join(format!("variables.{name}"), within))
        })
        .or_else(|| nul_in_document(document));
    match found {
        Some(path) => {
            let path = match path.char_indices().nth(MAX_PATH_CHARS) {
                Some((cut, _)) => format!("{}…", &path[..cut]),
                None => path,
            };
            Err(Error::invalid_field(
                &path,
                "must not contain NUL characters (\\u0000)",
            ))
        }
        None => Ok(()),
    }
}

/// `head` followed by the segments of `within`, outermost first.
fn join(head: String, within: Vec<String>) -> String {
    within
        .into_iter()
        .rev()
        .fold(head, |path, segment| format!("{path}.{segment}"))
}

/// Where a NUL character is in the values written in `document`: arguments
/// of fields and directives, and variables' defaults.
fn nul_in_document(document: &ExecutableDocument) -> Option<String> {
    let mut sets: Vec<&SelectionSet> = Vec::new();
    for (_, operation) in document.operations.iter() {
        for variable in &operation.node.variable_definitions {
            let name = &variable.node.name.node;
            if let Some(default) = &variable.node.default_value
                && let Some(within) = nul_in_const(&default.node)
            {
                return Some(join(format!("variables.{name}"), within));
            }
        }
        sets.push(&operation.node.selection_set.node);
    }
    sets.extend(
        document
            .fragments
            .values()
            .map(|fragment| &fragment.node.selection_set.node),
    );
    while let Some(set) = sets.pop() {
        for item in &set.items {
            let (directives, children) = match &item.node {
                Selection::Field(field) => {
                    let name = &field.node.name.node;
                    for (argument, value) in &field.node.arguments {
                        if let Some(within) = nul_in_written(&value.node) {
                            return Some(join(format!("{name}.{}", argument.node), within));
                        }
                    }
                    (&field.node.directives, Some(&field.node.selection_set.node))
                }
                Selection::InlineFragment(fragment) => (
                    &fragment.node.directives,
                    Some(&fragment.node.selection_set.node),
                ),
                Selection::FragmentSpread(spread) => (&spread.node.directives, None),
            };
            for directive in directives {
                let name = &directive.node.name.node;
                for (argument, value) in &directive.node.arguments {
                    if let Some(within) = nul_in_written(&value.node) {
                        return Some(join(format!("@{name}.{}", argument.node), within));
                    }
                }
            }
            sets.extend(children);
        }
    }
    None
}

/// Where a NUL character is in a written value: the path's segments below
/// it, innermost first (empty for the value itself).
fn nul_in_written(value: &WrittenValue) -> Option<Vec<String>> {
    match value {
        WrittenValue::String(text) if text.contains('\0') => Some(Vec::new()),
        WrittenValue::List(items) => items.iter().enumerate().find_map(|(index, item)| {
            let mut within = nul_in_written(item)?;
            within.push(index.to_string());
            Some(within)
        }),
        WrittenValue::Object(fields) => fields.iter().find_map(|(name, field)| {
            let mut within = nul_in_written(field)?;
            within.push(name.to_string());
            Some(within)
        }),
        _ => None,
    }
}

/// Where a NUL character is in a constant value: the path's segments below
/// it, innermost first (empty for the value itself).
fn nul_in_const(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(text) if text.contains('\0') => Some(Vec::new()),
        Value::List(items) => items.iter().enumerate().find_map(|(index, item)| {
            let mut within = nul_in_const(item)?;
            within.push(index.to_string());
            Some(within)
        }),
        Value::Object(fields) => fields.iter().find_map(|(name, field)| {
            let mut within = nul_in_const(field)?;
            within.push(name.to_string());
            Some(within)
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(document: &str, variables: serde_json::Value) -> Option<String> {
        let document = async_graphql::parser::parse_query(document).expect("parses");
        match check_storable(&document, &Variables::from_json(variables)) {
            Ok(()) => None,
            Err(Error::InvalidInput(fields)) => Some(fields[0].field.clone()),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_nul_anywhere_is_found_and_named() {
        assert_eq!(refused("{ a(s: \"fine\") }", serde_json::json!({})), None);
        assert_eq!(
            refused("{ a(s: \"x\\u0000y\") }", serde_json::json!({})).as_deref(),
            Some("a.s")
        );
        assert_eq!(
            refused(
                "mutation { createArticle(input: { title: \"t\", tags: [\"ok\", \"b\\u0000d\"] }) { id } }",
                serde_json::json!({})
            )
            .as_deref(),
            Some("createArticle.input.tags.1")
        );
        assert_eq!(
            refused(
                "query($i: In) { a(i: $i) }",
                serde_json::json!({ "i": { "email": "a\u{0}@b.c" } })
            )
            .as_deref(),
            Some("variables.i.email")
        );
        assert_eq!(
            refused(
                "query($s: String = \"\\u0000\") { a(s: $s) }",
                serde_json::json!({})
            )
            .as_deref(),
            Some("variables.s")
        );
        assert_eq!(
            refused(
                "{ ...F } fragment F on Q { b @include(if: true) { c(x: { y: \"\\u0000\" }) } }",
                serde_json::json!({})
            )
            .as_deref(),
            Some("c.x.y")
        );
        // A long name is cut in the answer.
        let long = format!("{{ a(s: {{ {}: \"\\u0000\" }}) }}", "n".repeat(10_000));
        let named = refused(&long, serde_json::json!({})).expect("refused");
        assert_eq!(named.chars().count(), MAX_PATH_CHARS + 1, "{named}");
    }
}
