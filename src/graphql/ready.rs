//! Lists whose fields are at hand, answered without a future per field.
//!
//! async-graphql resolves every field of every object as a future of its own:
//! it boxes it, runs it among its siblings and hashes its name into the
//! object's map twice. A page of 20 article cards asks for about 250 fields,
//! nearly all of them values the page's statement has read already, and that
//! machinery cost more than everything else the gateway does for the page.
//!
//! Objects that hold such values implement [`ReadyObject`]: for each field
//! they can answer without waiting, its value. A [`ReadyList`] walks its
//! selection (fields, aliases, fragments and `__typename`) over every item
//! and builds the same response directly. When any item has any field that
//! is not ready (it loads, takes arguments or carries a directive), the whole
//! list is resolved the usual way instead, so the two ways never mix within
//! a list and a response never depends on which one ran.
//!
//! Fields answered here pass no schema extension's per-field hook; the
//! schema has no extensions ([`super::build_schema`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::indexmap::{IndexMap, IndexSet};
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{
    ContextSelectionSet, InputType, Name, OutputType, Positioned, ServerResult, Value,
};

use crate::auth::Viewer;
use crate::state::AppState;

/// A field's value, as far as it is known without waiting.
pub enum Ready<'a> {
    /// A leaf: a scalar, an enum, or a list of them.
    Value(Value),
    /// An object, answered with the field's own selection.
    Object(&'a dyn ReadyObject),
    /// Known only by resolving it: the list is resolved the usual way.
    Pending,
}

impl Ready<'_> {
    /// A string leaf.
    pub fn string(text: &str) -> Self {
        Self::Value(Value::String(text.to_owned()))
    }

    /// A leaf as its resolver would answer it: scalars, enums, and optional
    /// values and lists of them are written the same way in and out.
    pub fn leaf<T: InputType>(value: &T) -> Self {
        Self::Value(value.to_value())
    }

    /// What a field read from a set's loader is: its value when the set has
    /// loaded it (`or` when the load found nothing for this member), pending
    /// before the load.
    pub fn loaded<T: InputType + Clone>(loaded: Option<Option<&T>>, or: T) -> Self {
        match loaded {
            Some(value) => Self::leaf(value.unwrap_or(&or)),
            None => Self::Pending,
        }
    }
}

/// An object that can answer some of its fields from what it holds.
pub trait ReadyObject: Send + Sync {
    /// Its GraphQL type name, for `__typename` and fragment type conditions.
    fn type_name(&self) -> &'static str;

    /// The value of the field named `field` (without arguments) as `viewer`
    /// sees it, or [`Ready::Pending`] when only its resolver can tell: it
    /// loads something, may fail, or is a field this method does not know.
    fn ready_field(&self, field: &str, viewer: &Viewer) -> Ready<'_>;
}

/// How lists of objects were answered since start.
#[derive(Debug, Default)]
pub struct ListStats {
    /// Lists answered straight from the values their items hold.
    pub direct: AtomicU64,
    /// Lists answered through their items' field resolvers.
    pub resolved: AtomicU64,
}

/// A list of objects that answers its selection directly when every item
/// can, and through async-graphql's resolvers otherwise.
pub struct ReadyList<'a, T>(Vec<&'a T>);

impl<'a, T> ReadyList<'a, T> {
    /// The list of `items`.
    pub fn new(items: impl IntoIterator<Item = &'a T>) -> Self {
        Self(items.into_iter().collect())
    }
}

impl<T: OutputType + ReadyObject> OutputType for ReadyList<'_, T> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("[{}]", T::qualified_type_name()))
    }

    fn qualified_type_name() -> String {
        format!("[{}]!", T::qualified_type_name())
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry);
        Self::qualified_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let stats = ctx.data_opt::<AppState>().map(|state| &state.lists);
        if let Some(items) = answer_directly(ctx, &self.0) {
            stats.map(|stats| stats.direct.fetch_add(1, Ordering::Relaxed));
            return Ok(items);
        }
        stats.map(|stats| stats.resolved.fetch_add(1, Ordering::Relaxed));
        resolve_list(ctx, field, self.0.iter().copied(), Some(self.0.len())).await
    }
}

/// Every item's answer to the selection at `ctx`, or `None` when any item
/// cannot give its answer without waiting.
fn answer_directly<T: ReadyObject>(ctx: &ContextSelectionSet<'_>, items: &[&T]) -> Option<Value> {
    let viewer = ctx.data_opt::<Viewer>()?;
    let walk = SelectionWalk {
        fragments: &ctx.query_env.fragments,
        implements: &ctx.schema_env.registry.implements,
        viewer,
    };
    let selection = &ctx.item.node;
    let mut answers = Vec::with_capacity(items.len());
    for item in items {
        answers.push(walk.object(selection, *item)?);
    }
    Some(Value::List(answers))
}

/// What walking a selection over objects needs from the request.
struct SelectionWalk<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    implements: &'a HashMap<String, IndexSet<String>>,
    viewer: &'a Viewer,
}

impl SelectionWalk<'_> {
    /// `object`'s answer to `selection`: null when the selection holds no
    /// field, as async-graphql answers it.
    fn object(&self, selection: &SelectionSet, object: &dyn ReadyObject) -> Option<Value> {
        let mut fields = IndexMap::with_capacity(selection.items.len());
        self.collect(selection, object, &mut fields)?;
        Some(if fields.is_empty() {
            Value::Null
        } else {
            Value::Object(fields)
        })
    }

    /// Adds the fields `selection` asks of `object` to `fields`, in order.
    fn collect(
        &self,
        selection: &SelectionSet,
        object: &dyn ReadyObject,
        fields: &mut IndexMap<Name, Value>,
    ) -> Option<()> {
        for item in &selection.items {
            // `@skip` and `@include` are gone by now; any other directive is
            // the resolvers' to apply.
            if !item.node.directives().is_empty() {
                return None;
            }
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if !field.arguments.is_empty() {
                        return None;
                    }
                    let value = if field.name.node == "__typename" {
                        Value::String(object.type_name().to_owned())
                    } else {
                        match object.ready_field(&field.name.node, self.viewer) {
                            Ready::Value(value) => value,
                            Ready::Object(inner) => {
                                self.object(&field.selection_set.node, inner)?
                            }
                            Ready::Pending => return None,
                        }
                    };
                    merge(fields, field.response_key().node.clone(), value);
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = &self.fragments.get(&spread.node.fragment_name.node)?.node;
                    if self.applies(Some(&fragment.type_condition.node.on.node), object) {
                        self.collect(&fragment.selection_set.node, object, fields)?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let condition = fragment.type_condition.as_ref();
                    if self.applies(condition.map(|c| &c.node.on.node), object) {
                        self.collect(&fragment.selection_set.node, object, fields)?;
                    }
                }
            }
        }
        Some(())
    }

    /// Whether a fragment on `condition` (none: the enclosing type) applies
    /// to `object`: it names its type or an interface the type implements.
    fn applies(&self, condition: Option<&Name>, object: &dyn ReadyObject) -> bool {
        let Some(condition) = condition else {
            return true;
        };
        let type_name = object.type_name();
        condition.as_str() == type_name
            || self
                .implements
                .get(type_name)
                .is_some_and(|interfaces| interfaces.contains(condition.as_str()))
    }
}

/// Adds `value` under `key`, merging it into a value the key holds already
/// (the same field selected twice, with different sub-selections) the way
/// async-graphql merges them.
fn merge(fields: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    match fields.entry(key) {
        async_graphql::indexmap::map::Entry::Vacant(vacant) => {
            vacant.insert(value);
        }
        async_graphql::indexmap::map::Entry::Occupied(mut held) => match (held.get_mut(), value) {
            (Value::Object(held), Value::Object(more)) => {
                for (key, value) in more {
                    merge(held, key, value);
                }
            }
            (Value::List(held), Value::List(more)) => {
                for (held, more) in held.iter_mut().zip(more) {
                    if let (Value::Object(held), Value::Object(more)) = (held, more) {
                        for (key, value) in more {
                            merge(held, key, value);
                        }
                    }
                }
            }
            _ => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::value;

    use super::*;

    fn object(value: Value) -> IndexMap<Name, Value> {
        match value {
            Value::Object(fields) => fields,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn a_field_selected_twice_merges_its_objects_and_keeps_its_first_leaf() {
        let mut fields = object(value!({ "title": "First", "author": { "username": "ann" } }));
        merge(&mut fields, Name::new("title"), value!("Second"));
        merge(
            &mut fields,
            Name::new("author"),
            value!({ "image": null, "username": "bob" }),
        );
        merge(&mut fields, Name::new("slug"), value!("a-slug"));
        assert_eq!(
            Value::Object(fields),
            value!({ "title": "First", "author": { "username": "ann", "image": null }, "slug": "a-slug" })
        );
    }

    #[test]
    fn lists_of_objects_selected_twice_merge_item_by_item() {
        let mut fields = object(value!({ "nodes": [{ "a": 1 }, { "a": 2 }] }));
        merge(
            &mut fields,
            Name::new("nodes"),
            value!([{ "b": 3 }, { "b": 4 }]),
        );
        assert_eq!(
            Value::Object(fields),
            value!({ "nodes": [{ "a": 1, "b": 3 }, { "a": 2, "b": 4 }] })
        );
    }
}
