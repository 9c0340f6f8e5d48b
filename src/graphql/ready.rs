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
//!
//! A field that must load first (the author of a comment, the first comments
//! of each article, a page of each author's articles) names the load for its
//! object's whole set ([`ReadyObject::load_field`]). The list is written in
//! rounds: each round writes what is at hand and gathers the loads its
//! pending fields name, one per position in the document and set of
//! objects; they run together, and the next round finds their values. So a
//! document runs the statements the field resolvers would run, one per list
//! or relation per level, and the answer is written once they are in.
//!
//! When a field can be neither answered nor loaded here (it may fail, or
//! this module does not know it), its arguments do not parse, a load fails,
//! or the request is not written as JSON text by this crate (a WebSocket),
//! the whole list is resolved the usual way, so the two ways never mix
//! within a list, and the errors are the resolvers'. What the rounds loaded
//! stays in the sets, so the resolvers do not read it again.
//!
//! Fields answered here pass no schema extension's per-field hook; the
//! schema has no extensions ([`super::build_schema`]).

use std::any::Any;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use async_graphql::indexmap::IndexSet;
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{
    Context, ContextSelectionSet, InputType, Name, OutputType, Positioned, ServerResult, Value,
};
use chrono::{DateTime, Utc};
use futures_util::future::{BoxFuture, try_join_all};

use super::execution::INJECTED;
use super::json::{write_str, write_time, write_value};
use crate::auth::Viewer;
use crate::error::Result;
use crate::state::AppState;

/// How many rounds of loads one list may take before it is left to the
/// resolvers. Each round is one level of the document (or one more set at a
/// level), so a document within the depth limit needs far fewer.
const MAX_ROUNDS: usize = 32;

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
    /// An object made for this answer (a page of a nested connection).
    Owned(Box<dyn ReadyObject + 'a>),
    /// A list of objects, each answered with the field's own selection.
    List(Vec<&'a dyn ReadyObject>),
    /// Known only by loading or resolving it: see [`ReadyObject::load_field`].
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

/// A field's arguments, parsed once per position in the document by the
/// object type that knows them ([`ReadyObject::field_arguments`]).
pub type Arguments = Box<dyn Any + Send + Sync>;

/// What an object type makes of a field's arguments.
pub enum FieldArguments {
    /// The field takes none that this module needs: it is answered by
    /// [`ReadyObject::ready_field`], and only when the document gives it none.
    None,
    /// Parsed: the field is answered by [`ReadyObject::ready_field_with`].
    Parsed(Arguments),
    /// They do not parse or are refused: the resolver tells why.
    Unusable,
}

/// A load a pending field waits for: it fills a loader of the object's set,
/// for every member at once.
pub struct FieldLoad<'s> {
    /// The set it loads for (its address): objects of another set at the
    /// same position need a load of their own.
    pub set: usize,
    /// The load.
    pub load: BoxFuture<'s, Result<()>>,
}

impl<'s> FieldLoad<'s> {
    /// `load`, which fills a loader of the set at `set`.
    pub fn new<S>(set: &std::sync::Arc<S>, load: BoxFuture<'s, Result<()>>) -> Self {
        Self {
            set: std::sync::Arc::as_ptr(set) as *const () as usize,
            load,
        }
    }
}

/// An object that can answer some of its fields from what it holds.
pub trait ReadyObject: Send + Sync {
    /// Its GraphQL type name, for `__typename` and fragment type conditions.
    fn type_name(&self) -> &'static str;

    /// The value of the field named `field` (without arguments) as `viewer`
    /// sees it, or [`Ready::Pending`] when it must load first or only its
    /// resolver can tell (it may fail, or is a field this method does not
    /// know).
    fn ready_field(&self, field: &str, viewer: &Viewer) -> Ready<'_>;

    /// The arguments of `field` as its resolver reads them, from the field's
    /// context `ctx`, for a field this object answers with arguments.
    fn field_arguments(&self, _field: &str, _ctx: &Context<'_>) -> FieldArguments {
        FieldArguments::None
    }

    /// The value of `field` with `arguments` (from [`Self::field_arguments`]).
    fn ready_field_with(
        &self,
        _field: &str,
        _arguments: &Arguments,
        _viewer: &Viewer,
    ) -> Ready<'_> {
        Ready::Pending
    }

    /// The load after which `field` (with `arguments` when it takes them) is
    /// ready, for this object's whole set; `None` when the field cannot be
    /// answered here.
    fn load_field<'s>(
        &self,
        _field: &str,
        _arguments: Option<&Arguments>,
        _state: &'s AppState,
        _viewer: &'s Viewer,
    ) -> Option<FieldLoad<'s>> {
        None
    }
}

/// Put in a request's data by a transport that writes the response with
/// [`super::json::response_json`]: lists may then carry their answer as JSON
/// text (in a [`Value::Binary`]), which that writer copies as it is.
#[derive(Clone, Copy, Debug)]
pub struct JsonTextLists;

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
        let text = json_text(ctx, &self.0).await;
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

/// The JSON text of every item's answer to the selection at `ctx`, written
/// in rounds until nothing is pending; `None` when the request is not
/// written as JSON text or a field cannot be answered here.
async fn json_text<T: ReadyObject>(ctx: &ContextSelectionSet<'_>, items: &[&T]) -> Option<Vec<u8>> {
    ctx.data_opt::<JsonTextLists>()?;
    let viewer = ctx.data_opt::<Viewer>()?;
    let state = ctx.data_opt::<AppState>()?;
    let planner = Planner {
        fragments: &ctx.query_env.fragments,
        implements: &ctx.schema_env.registry.implements,
    };
    let items: Vec<&dyn ReadyObject> = items.iter().map(|item| *item as &dyn ReadyObject).collect();
    let selections = [&ctx.item.node];
    let mut plan = None;
    let mut waited = HashSet::new();
    for _ in 0..MAX_ROUNDS {
        let mut writer = Writer {
            planner: &planner,
            viewer,
            state: Some(state),
            loads: Vec::new(),
        };
        let mut out = Vec::with_capacity(512 * items.len());
        writer.list(Some(ctx), &mut plan, &selections, &items, &mut out)?;
        if writer.loads.is_empty() {
            return Some(out);
        }
        let mut loads = Vec::with_capacity(writer.loads.len());
        for (key, load) in writer.loads {
            // A load that left its field pending makes no progress.
            if !waited.insert(key) {
                return None;
            }
            loads.push(load);
        }
        try_join_all(loads).await.ok()?;
    }
    None
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
    /// The first field selected under this key.
    field: &'d Positioned<Field>,
    /// The key as JSON text with its colon, and the comma before it but for
    /// the first field: a GraphQL name needs no escaping.
    written_key: Vec<u8>,
    name: &'d str,
    /// Its arguments as the object type parsed them.
    arguments: Option<Arguments>,
    /// The sub-selections of every field selected under this key.
    selections: Vec<&'d SelectionSet>,
    /// Their plan, made for the type of the first object the field held.
    nested: Option<Plan<'d>>,
}

impl PlannedField<'_> {
    /// Where the field sits in the document: loads for one position and set
    /// run once per round.
    fn position(&self) -> usize {
        std::ptr::from_ref(self.field) as usize
    }
}

impl<'d> Planner<'d> {
    /// The plan of `selections` (one, or several merged) on `object`'s type,
    /// whose fields' arguments are read in `ctx` (the unit tests have none:
    /// a field with arguments then cannot be planned); `None` when a field's
    /// arguments are not the object's to parse, or anything carries a
    /// directive (`@skip` and `@include` are applied and gone by now).
    fn plan(
        &self,
        object: &dyn ReadyObject,
        selections: &[&'d SelectionSet],
        ctx: Option<&ContextSelectionSet<'_>>,
    ) -> Option<Plan<'d>> {
        let mut plan = Plan {
            type_name: object.type_name(),
            fields: Vec::new(),
        };
        for selection in selections {
            self.collect(selection, &mut plan)?;
        }
        for planned in &mut plan.fields {
            let given = !planned.field.node.arguments.is_empty();
            let parsed = match ctx {
                Some(ctx) => object.field_arguments(planned.name, &ctx.with_field(planned.field)),
                None => FieldArguments::None,
            };
            planned.arguments = match parsed {
                FieldArguments::Parsed(arguments) => Some(arguments),
                FieldArguments::None if !given => None,
                FieldArguments::None | FieldArguments::Unusable => return None,
            };
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
                    let key = field.node.response_key().node.as_str();
                    let sub = &field.node.selection_set.node;
                    match plan.fields.iter_mut().find(|planned| planned.key() == key) {
                        // Validation made sure both ask for the same field,
                        // with the same arguments.
                        Some(planned) => planned.selections.push(sub),
                        None => plan.fields.push(PlannedField {
                            field,
                            written_key: written_key(key, plan.fields.is_empty()),
                            name: field.node.name.node.as_str(),
                            arguments: None,
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

impl PlannedField<'_> {
    /// The response key: the alias, or the name.
    fn key(&self) -> &str {
        self.field.node.response_key().node.as_str()
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

/// The loads of one round, by position and set.
type Loads<'s> = Vec<((usize, usize), BoxFuture<'s, Result<()>>)>;

/// One round of writing: the text of what is at hand, and the loads its
/// pending fields wait for.
struct Writer<'p, 'd, 's> {
    planner: &'p Planner<'d>,
    viewer: &'s Viewer,
    /// Where loads read from (none in the unit tests of this module: a
    /// pending field then cannot be answered here).
    state: Option<&'s AppState>,
    loads: Loads<'s>,
}

impl<'d, 's> Writer<'_, 'd, 's> {
    /// Appends the JSON array of `items`' answers to `selections`, planned
    /// in `plan` from the first item. `None` when a field cannot be
    /// answered here.
    fn list(
        &mut self,
        ctx: Option<&ContextSelectionSet<'_>>,
        plan: &mut Option<Plan<'d>>,
        selections: &[&'d SelectionSet],
        items: &[&dyn ReadyObject],
        out: &mut Vec<u8>,
    ) -> Option<()> {
        out.push(b'[');
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            self.object(ctx, plan, selections, *item, out)?;
        }
        out.push(b']');
        Some(())
    }

    /// Appends `object`'s answer to `selections`, planned in `plan` unless it
    /// is planned already.
    fn object(
        &mut self,
        ctx: Option<&ContextSelectionSet<'_>>,
        plan: &mut Option<Plan<'d>>,
        selections: &[&'d SelectionSet],
        object: &dyn ReadyObject,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        let plan = match plan {
            Some(plan) => plan,
            None => plan.insert(self.planner.plan(object, selections, ctx)?),
        };
        self.fields(ctx, plan, object, out)
    }

    /// Appends `object`'s answer to `plan` as JSON text (`{}` when the
    /// selection holds no field); a pending field is written `null` and its
    /// load noted for the next round.
    fn fields(
        &mut self,
        ctx: Option<&ContextSelectionSet<'_>>,
        plan: &mut Plan<'d>,
        object: &dyn ReadyObject,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        if object.type_name() != plan.type_name {
            return None;
        }
        out.push(b'{');
        for field in &mut plan.fields {
            out.extend_from_slice(&field.written_key);
            if field.name == "__typename" {
                write_str(out, object.type_name());
                continue;
            }
            let ready = match &field.arguments {
                Some(arguments) => object.ready_field_with(field.name, arguments, self.viewer),
                None => object.ready_field(field.name, self.viewer),
            };
            let nested_ctx;
            let field_ctx;
            let nested = match &ready {
                Ready::Object(_) | Ready::Owned(_) | Ready::List(_) => {
                    field_ctx = ctx.map(|ctx| ctx.with_field(field.field));
                    nested_ctx = field_ctx
                        .as_ref()
                        .map(|ctx| ctx.with_selection_set(&field.field.node.selection_set));
                    nested_ctx.as_ref()
                }
                _ => None,
            };
            match ready {
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
                    self.object(nested, &mut field.nested, &field.selections, inner, out)?;
                }
                Ready::Owned(inner) => {
                    self.object(nested, &mut field.nested, &field.selections, &*inner, out)?;
                }
                Ready::List(items) => {
                    self.list(nested, &mut field.nested, &field.selections, &items, out)?;
                }
                Ready::Pending => {
                    let arguments = field.arguments.as_ref();
                    let state = self.state?;
                    let load = object.load_field(field.name, arguments, state, self.viewer)?;
                    let key = (field.position(), load.set);
                    if !self.loads.iter().any(|(noted, _)| *noted == key) {
                        self.loads.push((key, load.load));
                    }
                    out.extend_from_slice(b"null");
                }
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
        let mut writer = Writer {
            planner: &planner,
            viewer: &Viewer::Anonymous,
            state: None,
            loads: Vec::new(),
        };
        let items: Vec<&dyn ReadyObject> = cards.iter().map(|c| c as &dyn ReadyObject).collect();
        let mut out = Vec::new();
        writer.list(None, &mut None, &[selection], &items, &mut out)?;
        let text = String::from_utf8(out).expect("UTF-8");
        Some(text[1..text.len() - 1].to_owned())
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
