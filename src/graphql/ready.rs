//! Lists whose fields are at hand, written as JSON text without a future,
//! a map or an allocation per field.
//!
//! async-graphql resolves every field of every object as a future of its own,
//! collects the answers into a map per object, and the response is then
//! written out and dropped value by value. A page of 20 article cards asks for
//! about 250 fields, nearly all of them values the page's statement has read
//! already, and that machinery cost more than everything else the gateway
//! does for the page.
//!
//! Objects that hold such values implement [`ReadyObject`]: for each field
//! they can answer without waiting, its value. A [`ReadyList`] plans its
//! selection once (fields, aliases, fragments, `__typename`, the same field
//! selected twice merged as GraphQL merges it) and writes every item's answer
//! as JSON text, which the response carries as it is ([`JsonTextLists`]).
//! The selection it sees is the operation's plan ([`super::execution`]):
//! already merged, one field per response key in the collected order, with
//! `@skip`/`@include` decided, so the text is what completing the
//! field-by-field answer gives.
//! When any item has any field that is not ready (it loads, takes arguments
//! or carries a directive), or the request is not written as JSON text by
//! this crate (a WebSocket), the whole list is resolved the usual way, so
//! the two ways never mix within a list.
//!
//! Fields answered here pass no schema extension's per-field hook; the
//! schema has no extensions ([`super::build_schema`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::indexmap::IndexSet;
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{
    ContextSelectionSet, InputType, Name, OutputType, Positioned, ServerResult, Value,
};
use chrono::{DateTime, Utc};

use super::execution::INJECTED;
use super::json::{write_str, write_time, write_value};
use crate::auth::Viewer;
use crate::state::AppState;

/// A field's value, as far as it is known without waiting.
pub enum Ready<'a> {
    /// A string held by the object.
    Str(&'a str),
    /// A list of strings held by the object.
    Strs(&'a [String]),
    /// A time held by the object.
    Time(&'a DateTime<Utc>),
    /// Any other leaf, as its resolver answers it.
    Value(Value),
    /// An object, answered with the field's own selection.
    Object(&'a dyn ReadyObject),
    /// Known only by resolving it: the list is resolved the usual way.
    Pending,
}

impl Ready<'_> {
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

/// Put in a request's data by a transport that writes the response with
/// [`super::json::response_json`]: lists may then carry their answer as JSON
/// text (in a [`Value::Binary`]), which that writer copies as it is.
#[derive(Clone, Copy, Debug)]
pub struct JsonTextLists;

/// How lists of objects were answered since start.
#[derive(Debug, Default)]
pub struct ListStats {
    /// Lists written straight from the values their items hold.
    pub direct: AtomicU64,
    /// Lists answered through their items' field resolvers.
    pub resolved: AtomicU64,
}

/// A list of objects that writes its answer directly when every item can,
/// and answers through async-graphql's resolvers otherwise.
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
        let text = json_text(ctx, &self.0);
        if let Some(state) = ctx.data_opt::<AppState>() {
            let way = match text {
                Some(_) => &state.lists.direct,
                None => &state.lists.resolved,
            };
            way.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(text) = text {
            return Ok(Value::Binary(text.into()));
        }
        resolve_list(ctx, field, self.0.iter().copied(), Some(self.0.len())).await
    }
}

/// The JSON text of every item's answer to the selection at `ctx`, or `None`
/// when the request is not written as JSON text or any item cannot answer
/// without waiting.
fn json_text<T: ReadyObject>(ctx: &ContextSelectionSet<'_>, items: &[&T]) -> Option<Vec<u8>> {
    ctx.data_opt::<JsonTextLists>()?;
    let viewer = ctx.data_opt::<Viewer>()?;
    let planner = Planner {
        fragments: &ctx.query_env.fragments,
        implements: &ctx.schema_env.registry.implements,
    };
    let mut plan = None;
    let mut out = Vec::with_capacity(512 * items.len());
    out.push(b'[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        let plan = match &mut plan {
            Some(plan) => plan,
            None => plan.insert(planner.plan(*item, &[&ctx.item.node])?),
        };
        plan.write(&planner, *item, viewer, &mut out)?;
    }
    out.push(b']');
    Some(out)
}

/// What planning a selection needs from the request.
struct Planner<'d> {
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    implements: &'d HashMap<String, IndexSet<String>>,
}

/// A selection on one object type, flattened: its fields in order, one per
/// response key.
struct Plan<'d> {
    type_name: &'static str,
    fields: Vec<PlannedField<'d>>,
}

/// One response key of a [`Plan`].
struct PlannedField<'d> {
    key: &'d str,
    /// The key as JSON text with its colon, and the comma before it but for
    /// the first field: a GraphQL name needs no escaping.
    written_key: Vec<u8>,
    name: &'d str,
    /// The sub-selections of every field selected under this key.
    selections: Vec<&'d SelectionSet>,
    /// Their plan, made for the type of the first object the field held.
    nested: Option<Plan<'d>>,
}

impl<'d> Planner<'d> {
    /// The plan of `selections` (one, or several merged) on `object`'s type;
    /// `None` when a field takes arguments or anything carries a directive
    /// (`@skip` and `@include` are applied and gone by now).
    fn plan(&self, object: &dyn ReadyObject, selections: &[&'d SelectionSet]) -> Option<Plan<'d>> {
        let mut plan = Plan {
            type_name: object.type_name(),
            fields: Vec::new(),
        };
        for selection in selections {
            self.collect(selection, &mut plan)?;
        }
        Some(plan)
    }

    /// Adds the fields of `selection` that apply to the plan's type.
    fn collect(&self, selection: &'d SelectionSet, plan: &mut Plan<'d>) -> Option<()> {
        for item in &selection.items {
            if !item.node.directives().is_empty() {
                return None;
            }
            match &item.node {
                // A `__typename` the plan added to a selection that collects
                // nothing is not part of the answer.
                Selection::Field(field) if field.pos == INJECTED => {}
                Selection::Field(field) => {
                    let field = &field.node;
                    if !field.arguments.is_empty() {
                        return None;
                    }
                    let key = field.response_key().node.as_str();
                    let sub = &field.selection_set.node;
                    match plan.fields.iter_mut().find(|planned| planned.key == key) {
                        // Validation made sure both ask for the same field.
                        Some(planned) => planned.selections.push(sub),
                        None => plan.fields.push(PlannedField {
                            key,
                            written_key: written_key(key, plan.fields.is_empty()),
                            name: field.name.node.as_str(),
                            selections: vec![sub],
                            nested: None,
                        }),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = &self.fragments.get(&spread.node.fragment_name.node)?.node;
                    if self.applies(Some(&fragment.type_condition.node.on.node), plan.type_name) {
                        self.collect(&fragment.selection_set.node, plan)?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let condition = fragment.type_condition.as_ref();
                    if self.applies(condition.map(|c| &c.node.on.node), plan.type_name) {
                        self.collect(&fragment.selection_set.node, plan)?;
                    }
                }
            }
        }
        Some(())
    }

    /// Whether a fragment on `condition` (none: the enclosing type) applies
    /// to objects of `type_name`: it names the type or an interface the type
    /// implements.
    fn applies(&self, condition: Option<&Name>, type_name: &str) -> bool {
        let Some(condition) = condition else {
            return true;
        };
        condition.as_str() == type_name
            || self
                .implements
                .get(type_name)
                .is_some_and(|interfaces| interfaces.contains(condition.as_str()))
    }
}

/// `"key":`, after a comma unless it is the object's `first` key.
fn written_key(key: &str, first: bool) -> Vec<u8> {
    let mut written = Vec::with_capacity(key.len() + 4);
    if !first {
        written.push(b',');
    }
    write_str(&mut written, key);
    written.push(b':');
    written
}

impl<'d> Plan<'d> {
    /// Appends `object`'s answer as JSON text (`{}` when the selection holds
    /// no field). `None` when a field is pending.
    fn write(
        &mut self,
        planner: &Planner<'d>,
        object: &dyn ReadyObject,
        viewer: &Viewer,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        if object.type_name() != self.type_name {
            return None;
        }
        out.push(b'{');
        for field in &mut self.fields {
            out.extend_from_slice(&field.written_key);
            if field.name == "__typename" {
                write_str(out, object.type_name());
                continue;
            }
            match object.ready_field(field.name, viewer) {
                Ready::Str(text) => write_str(out, text),
                Ready::Strs(texts) => {
                    out.push(b'[');
                    for (index, text) in texts.iter().enumerate() {
                        if index > 0 {
                            out.push(b',');
                        }
                        write_str(out, text);
                    }
                    out.push(b']');
                }
                Ready::Time(time) => write_time(out, time),
                Ready::Value(value) => write_value(out, &value).ok()?,
                Ready::Object(inner) => {
                    let nested = match &mut field.nested {
                        Some(nested) => nested,
                        None => field.nested.insert(planner.plan(inner, &field.selections)?),
                    };
                    nested.write(planner, inner, viewer, out)?;
                }
                Ready::Pending => return None,
            }
        }
        out.push(b'}');
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};

    use super::*;

    /// A card with a nested author, and a field that is never ready.
    struct Card {
        title: &'static str,
        tags: Vec<String>,
        author: Author,
    }

    struct Author {
        name: &'static str,
    }

    impl ReadyObject for Card {
        fn type_name(&self) -> &'static str {
            "Card"
        }

        fn ready_field(&self, field: &str, _viewer: &Viewer) -> Ready<'_> {
            match field {
                "title" => Ready::Str(self.title),
                "tags" => Ready::Strs(&self.tags),
                "count" => Ready::leaf(&7i64),
                "author" => Ready::Object(&self.author),
                _ => Ready::Pending,
            }
        }
    }

    impl ReadyObject for Author {
        fn type_name(&self) -> &'static str {
            "Author"
        }

        fn ready_field(&self, field: &str, _viewer: &Viewer) -> Ready<'_> {
            match field {
                "name" => Ready::Str(self.name),
                _ => Ready::Pending,
            }
        }
    }

    fn cards() -> Vec<Card> {
        vec![
            Card {
                title: "A \"quoted\" title",
                tags: vec!["rust".into(), "web".into()],
                author: Author { name: "ann" },
            },
            Card {
                title: "Plain",
                tags: Vec::new(),
                author: Author { name: "bob" },
            },
        ]
    }

    /// The JSON text of `cards` answering the selection of the document's
    /// only operation, with Card implementing the interface Node.
    fn written(document: &str, cards: &[Card]) -> Option<String> {
        let document: ExecutableDocument = parse_query(document).expect("parses");
        let DocumentOperations::Single(operation) = &document.operations else {
            panic!("one operation");
        };
        let implements = HashMap::from([("Card".to_owned(), IndexSet::from(["Node".to_owned()]))]);
        let planner = Planner {
            fragments: &document.fragments,
            implements: &implements,
        };
        let selection = &operation.node.selection_set.node;
        let mut plan = planner.plan(&cards[0], &[selection])?;
        let mut out = Vec::new();
        for (index, card) in cards.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            plan.write(&planner, card, &Viewer::Anonymous, &mut out)?;
        }
        Some(String::from_utf8(out).expect("UTF-8"))
    }

    #[test]
    fn fields_aliases_and_typenames_come_in_the_order_selected() {
        let text = written("{ __typename heading: title tags count }", &cards());
        assert_eq!(
            text.as_deref(),
            Some(concat!(
                r#"{"__typename":"Card","heading":"A \"quoted\" title","tags":["rust","web"],"count":7},"#,
                r#"{"__typename":"Card","heading":"Plain","tags":[],"count":7}"#
            ))
        );
    }

    #[test]
    fn fragments_apply_on_the_type_and_its_interfaces_only() {
        let text = written(
            "{ ...Mine ... on Node { tags } ... on Other { count } ... { count } }
             fragment Mine on Card { title } fragment Theirs on Other { tags }",
            &cards()[1..],
        );
        assert_eq!(
            text.as_deref(),
            Some(r#"{"title":"Plain","tags":[],"count":7}"#)
        );
    }

    #[test]
    fn a_key_selected_twice_merges_its_selections_in_first_place() {
        let text = written(
            "{ author { name } title author { who: name name } title }",
            &cards()[1..],
        );
        assert_eq!(
            text.as_deref(),
            Some(r#"{"author":{"name":"bob","who":"bob"},"title":"Plain"}"#)
        );
    }

    #[test]
    fn a_pending_field_an_argument_or_a_directive_leaves_the_list_to_the_resolvers() {
        for document in [
            "{ title body }",
            "{ author { name email } }",
            "{ title(format: UPPER) }",
            "{ title @cached }",
            "{ ... on Card @cached { title } }",
            "{ ...Missing }",
        ] {
            assert_eq!(written(document, &cards()), None, "{document}");
        }
    }
}
