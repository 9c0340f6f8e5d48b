//! The shape of an operation's answer, and completing async-graphql's
//! answer into it as the spec's execution would have written it.
//!
//! async-graphql resolves an object's fields concurrently and keeps their
//! values in the order they finish; leaves a field that failed out of its
//! object; and nulls nothing above it. Completing walks the answer along the
//! planned shape: each object's keys in the collected order, a failed field
//! `null`, a `null` in a non-null position nulling the nearest nullable
//! ancestor (up to `data` itself), and the `__typename` fields the plan added
//! removed. Lists written as JSON text ([`crate::graphql::ready`]) are taken
//! as they are: they hold only fields answered without failing, in the
//! planned order.

use std::collections::HashMap;

use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, PathSegment, Response, ServerError, Value};

/// What an operation's `data` holds.
#[derive(Clone, Debug)]
pub struct ResponseShape {
    /// The root object's fields.
    pub root: ObjectShape,
}

/// The keys of an object, in the order the spec's field collection gives.
#[derive(Clone, Debug, Default)]
pub struct ObjectShape {
    /// Each response key and the type of its value.
    pub fields: Vec<FieldShape>,
    /// A key the plan added to the object (a `__typename`), to remove.
    pub injected: Option<Name>,
}

/// One response key of an object.
#[derive(Clone, Debug)]
pub struct FieldShape {
    /// The key: the field's alias, or its name.
    pub key: Name,
    /// The field's type, with its selection.
    pub ty: TypeShape,
}

/// A field's type as far as completing its value needs it.
#[derive(Clone, Debug)]
pub enum TypeShape {
    /// `T!`: never null; a null here nulls the parent.
    NonNull(Box<TypeShape>),
    /// `[T]`.
    List(Box<TypeShape>),
    /// A scalar or enum, taken as it is.
    Leaf,
    /// An object type, with its selection.
    Object(ObjectShape),
    /// An interface or union: the selection depends on the value's type.
    Abstract(AbstractShape),
}

impl TypeShape {
    /// The type of `__typename`: `String!`.
    pub fn typename() -> Self {
        Self::NonNull(Box::new(Self::Leaf))
    }
}

/// The selection on an interface or union, by the type a value has.
#[derive(Clone, Debug)]
pub struct AbstractShape {
    /// The key holding each value's type name.
    pub type_key: Name,
    /// The selection for each possible type.
    pub by_type: HashMap<String, ObjectShape>,
}

impl ResponseShape {
    /// Completes `response`'s data in place. A response that failed before
    /// execution (no data, and only errors without a path) is left alone; one
    /// whose root fields all failed had its data nulled by async-graphql, and
    /// is completed from nothing.
    pub fn complete(&self, response: &mut Response) {
        let data = std::mem::take(&mut response.data);
        let data = match data {
            Value::Null if !response.errors.iter().any(|error| !error.path.is_empty()) => {
                Value::Null
            }
            Value::Null => Value::Object(IndexMap::new()),
            data => data,
        };
        response.data = match data {
            Value::Null => Value::Null,
            data => complete_object(&self.root, data).unwrap_or(Value::Null),
        };
        // Fields resolve concurrently and report their errors as they fail:
        // one order for every request, by place in the document, then path.
        response
            .errors
            .sort_by(|one, other| error_order(one).cmp(&error_order(other)));
    }
}

/// Where an error stands among a response's errors: its first location in
/// the document (line, column), then its path (list indices in number
/// order, field names as `(0, name)`).
type ErrorOrder<'e> = (Option<(usize, usize)>, Vec<(usize, &'e str)>);

/// The [`ErrorOrder`] of `error`.
fn error_order(error: &ServerError) -> ErrorOrder<'_> {
    let location = error.locations.first().map(|pos| (pos.line, pos.column));
    let path = error
        .path
        .iter()
        .map(|segment| match segment {
            PathSegment::Index(index) => (*index, ""),
            PathSegment::Field(name) => (0, name.as_str()),
        })
        .collect();
    (location, path)
}

/// `value` as an object of `shape`; `None` when a non-null field of it is
/// null, so the object itself is null in its parent.
fn complete_object(shape: &ObjectShape, value: Value) -> Option<Value> {
    let Value::Object(mut fields) = value else {
        return Some(value);
    };
    if let Some(injected) = &shape.injected {
        fields.swap_remove(injected);
    }
    let mut completed = IndexMap::with_capacity(shape.fields.len());
    for field in &shape.fields {
        let value = fields.swap_remove(&field.key).unwrap_or(Value::Null);
        completed.insert(field.key.clone(), complete_value(&field.ty, value)?);
    }
    Some(Value::Object(completed))
}

/// `value` completed as a `ty`; `None` when it is null in a non-null
/// position.
fn complete_value(ty: &TypeShape, value: Value) -> Option<Value> {
    match (ty, value) {
        (TypeShape::NonNull(inner), value) => match complete_value(inner, value) {
            Some(Value::Null) | None => None,
            completed => completed,
        },
        (_, Value::Null) => Some(Value::Null),
        (TypeShape::List(inner), Value::List(items)) => {
            let completed: Option<Vec<Value>> = items
                .into_iter()
                .map(|item| complete_value(inner, item))
                .collect();
            Some(completed.map_or(Value::Null, Value::List))
        }
        (TypeShape::Object(shape), value) => {
            Some(complete_object(shape, value).unwrap_or_default())
        }
        (TypeShape::Abstract(shape), value) => {
            let object = match &value {
                Value::Object(fields) => match fields.get(&shape.type_key) {
                    Some(Value::String(name)) => shape.by_type.get(name.as_str()),
                    _ => None,
                },
                _ => None,
            };
            match object {
                Some(object) => Some(complete_object(object, value).unwrap_or_default()),
                None => Some(value),
            }
        }
        // Leaves, and lists written as JSON text.
        (_, value) => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Pos;
    use serde_json::json;

    use super::*;

    fn leaf(non_null: bool) -> TypeShape {
        if non_null {
            TypeShape::NonNull(Box::new(TypeShape::Leaf))
        } else {
            TypeShape::Leaf
        }
    }

    fn object(fields: Vec<(&str, TypeShape)>) -> ObjectShape {
        ObjectShape {
            fields: fields
                .into_iter()
                .map(|(key, ty)| FieldShape {
                    key: Name::new(key),
                    ty,
                })
                .collect(),
            injected: None,
        }
    }

    fn completed(shape: ObjectShape, data: serde_json::Value, failed: bool) -> String {
        let mut response = Response::new(Value::from_json(data).expect("a value"));
        if failed {
            let mut error = ServerError::new("failed", None);
            error.path = vec![async_graphql::PathSegment::Field("x".into())];
            response.errors.push(error);
        }
        ResponseShape { root: shape }.complete(&mut response);
        serde_json::to_string(&response.data).expect("JSON")
    }

    #[test]
    fn keys_come_in_the_collected_order_and_added_ones_go() {
        let mut inner = object(vec![("b", leaf(false)), ("a", leaf(false))]);
        inner.injected = Some(Name::new("__typename"));
        let shape = object(vec![
            ("first", leaf(true)),
            ("inner", TypeShape::Object(inner)),
        ]);
        let data = json!({"inner": {"a": 1, "__typename": "T", "b": 2}, "first": 0});
        assert_eq!(
            completed(shape, data, false),
            r#"{"first":0,"inner":{"b":2,"a":1}}"#
        );
    }

    #[test]
    fn a_failed_nullable_field_is_null_and_a_non_null_one_nulls_its_parent() {
        let card = || object(vec![("title", leaf(true)), ("summary", leaf(false))]);
        let shape = object(vec![
            ("maybe", TypeShape::Object(card())),
            (
                "cards",
                TypeShape::List(Box::new(TypeShape::NonNull(Box::new(TypeShape::Object(
                    card(),
                ))))),
            ),
            ("other", leaf(false)),
        ]);
        let data = json!({
            "maybe": {"title": "t"},
            "cards": [{"title": "a", "summary": "s"}, {"summary": "no title"}],
            "other": 1,
        });
        assert_eq!(
            completed(shape, data, true),
            r#"{"maybe":{"title":"t","summary":null},"cards":null,"other":1}"#
        );
    }

    #[test]
    fn errors_come_by_place_in_the_document_then_path() {
        let error = |line: usize, path: Vec<PathSegment>| {
            let mut error = ServerError::new(format!("at {line}"), Some(Pos { line, column: 1 }));
            error.path = path;
            error
        };
        let field = |name: &str| PathSegment::Field(name.into());
        let mut response = Response::new(Value::Null);
        response.errors = vec![
            error(3, vec![field("b")]),
            error(2, vec![field("a"), PathSegment::Index(10), field("x")]),
            error(2, vec![field("a"), PathSegment::Index(9), field("x")]),
        ];
        ResponseShape {
            root: object(vec![("a", leaf(false)), ("b", leaf(false))]),
        }
        .complete(&mut response);
        let order: Vec<String> = response
            .errors
            .iter()
            .map(|error| format!("{}{:?}", error.message, error.path))
            .collect();
        assert_eq!(
            order,
            [
                r#"at 2[Field("a"), Index(9), Field("x")]"#,
                r#"at 2[Field("a"), Index(10), Field("x")]"#,
                r#"at 3[Field("b")]"#,
            ]
        );
    }

    #[test]
    fn a_null_reaching_the_root_nulls_data() {
        let shape = object(vec![(
            "viewer",
            TypeShape::NonNull(Box::new(TypeShape::Leaf)),
        )]);
        assert_eq!(completed(shape, json!({}), true), "null");
    }

    #[test]
    fn root_fields_that_all_failed_complete_from_nothing() {
        let shape = object(vec![("a", leaf(false)), ("b", leaf(false))]);
        assert_eq!(
            completed(shape.clone(), serde_json::Value::Null, true),
            r#"{"a":null,"b":null}"#
        );
        // Without an error at a path, nothing ran: data stays null.
        assert_eq!(completed(shape, serde_json::Value::Null, false), "null");
    }

    #[test]
    fn an_abstract_value_takes_the_selection_of_its_type() {
        let mut article = object(vec![("title", leaf(false))]);
        article.injected = Some(Name::new("__typename"));
        let mut user = object(vec![("name", leaf(false))]);
        user.injected = Some(Name::new("__typename"));
        let shape = object(vec![(
            "nodes",
            TypeShape::List(Box::new(TypeShape::Abstract(AbstractShape {
                type_key: Name::new("__typename"),
                by_type: HashMap::from([("Article".into(), article), ("User".into(), user)]),
            }))),
        )]);
        let data = json!({"nodes": [
            {"__typename": "User", "name": "ann"},
            {"title": "t", "__typename": "Article"},
            null,
        ]});
        assert_eq!(
            completed(shape, data, false),
            r#"{"nodes":[{"name":"ann"},{"title":"t"},null]}"#
        );
    }
}
