//! Planning an operation: the spec's field collection done once, ahead of
//! execution, into a document async-graphql runs as it is and the shape its
//! answer must take.
//!
//! The planned document has the operation alone, its variable definitions
//! kept, no fragments and no directive: `@skip` and `@include` are decided
//! here, with the variables' default values; every response key appears once
//! per selection, its occurrences merged into one field whose selection is
//! all of theirs (so it resolves once); a selection on an interface or union
//! becomes one inline fragment per possible type holding what that type
//! collects. A selection that collects nothing gets a `__typename` field, as
//! does every per-type fragment, so each object answers something and an
//! abstract position tells which type it holds; [`ResponseShape`] says which
//! of those keys to strip again.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, Field, FragmentDefinition, InlineFragment,
    OperationDefinition, OperationType, Selection, SelectionSet, TypeCondition,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Name, Pos, Positioned, Value, Variables};
use async_graphql_value::Value as WrittenValue;

use super::shape::{AbstractShape, FieldShape, ObjectShape, ResponseShape, TypeShape};

/// Where planned fields that the document did not ask for stand: no real
/// field is on line 0, so whoever writes an answer can tell them apart.
pub const INJECTED: Pos = Pos { line: 0, column: 0 };

/// How deep selections may nest while planning. The document limits refuse
/// far less (a document is planned once validated, so no fragment cycle
/// reaches here); this bounds the recursion whatever they are set to, well
/// within a worker thread's stack.
const MAX_PLAN_DEPTH: usize = 128;

/// An operation ready to run: the document async-graphql executes and the
/// shape of its answer.
#[derive(Clone, Debug)]
pub struct Plan {
    /// One operation, no fragments, no directives.
    pub document: ExecutableDocument,
    /// What the answer's `data` holds, in the document's collected order.
    pub shape: ResponseShape,
    /// Whether a variable's value decided anything in the plan (a condition,
    /// or an argument left out): then another request's values may plan it
    /// otherwise.
    pub reads_variables: bool,
}

/// Why an operation cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Merged and expanded per type, the selection holds more fields than
    /// the configured maximum.
    #[error("the document expands to more than {max} fields")]
    TooLarge {
        /// The maximum.
        max: usize,
    },
    /// A directive's condition has no boolean value.
    #[error("{0}")]
    Condition(String),
    /// The document does not fit the schema; validation says how.
    #[error("{0}")]
    Invalid(String),
}

/// Plans the operation named `operation_name` (or the only one) of
/// `document` with `variables`, in at most `max_fields` fields.
pub fn plan(
    registry: &Registry,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    max_fields: usize,
) -> Result<Plan, PlanError> {
    let (name, operation) = select(document, operation_name)?;
    let root = match operation.ty {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => registry.subscription_type.as_deref(),
    }
    .and_then(|root| registry.types.get(root))
    .ok_or_else(|| PlanError::Invalid(format!("the schema has no {} root", operation.ty)))?;
    let mut planner = Planner {
        registry,
        fragments: &document.fragments,
        variables,
        defaults: operation
            .variable_definitions
            .iter()
            .filter_map(|definition| {
                let default = definition.node.default_value.as_ref()?;
                Some((definition.node.name.node.as_str(), default.node.clone()))
            })
            .collect(),
        always_given: operation
            .variable_definitions
            .iter()
            .filter(|definition| {
                definition.node.default_value.is_some() || !definition.node.var_type.node.nullable
            })
            .map(|definition| definition.node.name.node.as_str())
            .collect(),
        planned: 0,
        max_fields,
        depth: 0,
        reads_variables: Cell::new(false),
    };
    // A subscription selects exactly one root field; nothing is added there.
    let fill = match operation.ty {
        OperationType::Subscription => Fill::Never,
        _ => Fill::WhenEmpty,
    };
    let (selection_set, root_shape) =
        planner.object_selection(root, &[&operation.selection_set.node], fill)?;
    let planned = OperationDefinition {
        ty: operation.ty,
        variable_definitions: operation.variable_definitions.clone(),
        directives: Vec::new(),
        selection_set: Positioned::new(selection_set, operation.selection_set.pos),
    };
    let operations = match name {
        Some(name) => DocumentOperations::Multiple(HashMap::from([(
            name.clone(),
            Positioned::new(planned, INJECTED),
        )])),
        None => DocumentOperations::Single(Positioned::new(planned, INJECTED)),
    };
    Ok(Plan {
        document: ExecutableDocument {
            operations,
            fragments: HashMap::new(),
        },
        shape: ResponseShape { root: root_shape },
        reads_variables: planner.reads_variables.get(),
    })
}

/// The operation that runs, and its name when the document has several.
fn select<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Result<(Option<&'d Name>, &'d OperationDefinition), PlanError> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Ok((None, &operation.node)),
        (DocumentOperations::Multiple(operations), Some(wanted)) => operations
            .get_key_value(wanted)
            .map(|(name, operation)| (Some(name), &operation.node))
            .ok_or_else(|| PlanError::Invalid(format!("Unknown operation named \"{wanted}\""))),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            let (name, operation) = operations.iter().next().expect("one operation");
            Ok((Some(name), &operation.node))
        }
        (DocumentOperations::Multiple(_), None) => Err(PlanError::Invalid(
            "Operation name required in request.".into(),
        )),
    }
}

/// The fields collected under one response key, in document order.
type Collected<'d> = IndexMap<&'d str, Vec<&'d Positioned<Field>>>;

/// When an object's planned selection gets a `__typename` the document did
/// not ask for (stripped again from the answer).
#[derive(Clone, Copy)]
enum Fill {
    /// Never: the per-type selections of an abstract position, which add
    /// the key that tells their types apart themselves, and a
    /// subscription's root, which must select one field.
    Never,
    /// When it collects nothing, so that the object still answers `{}`: the
    /// root, whose answer is completed from nothing when every field failed.
    WhenEmpty,
    /// Unless it selects `__typename` itself: async-graphql answers an
    /// object whose every field failed as `null`, which would null its
    /// parents too when the object is non-null; with a field that cannot
    /// fail, the object answers and its failed fields are `null` in it.
    UnlessTyped,
}

struct Planner<'d> {
    registry: &'d Registry,
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'d Variables,
    /// The operation's variables' default values, by name.
    defaults: HashMap<&'d str, Value>,
    /// The variables that always have a value: a default, or a non-null type.
    always_given: HashSet<&'d str>,
    /// Fields planned so far.
    planned: usize,
    max_fields: usize,
    /// Selections entered and not left.
    depth: usize,
    /// Whether a variable's value decided anything.
    reads_variables: Cell<bool>,
}

impl<'d> Planner<'d> {
    /// The spec's CollectFields for an object of type `object` over `sets`
    /// (one selection set, or the merged ones of a field's occurrences), with
    /// one record of visited fragments for all of them.
    fn collect(&self, object: &str, sets: &[&'d SelectionSet]) -> Result<Collected<'d>, PlanError> {
        let mut collected = Collected::new();
        let mut visited = HashSet::new();
        for set in sets {
            self.collect_into(object, set, &mut visited, &mut collected)?;
        }
        Ok(collected)
    }

    fn collect_into(
        &self,
        object: &str,
        set: &'d SelectionSet,
        visited: &mut HashSet<&'d str>,
        collected: &mut Collected<'d>,
    ) -> Result<(), PlanError> {
        for selection in &set.items {
            if !self.included(selection.node.directives())? {
                continue;
            }
            match &selection.node {
                Selection::Field(field) => collected
                    .entry(field.node.response_key().node.as_str())
                    .or_default()
                    .push(field),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if !visited.insert(name) {
                        continue;
                    }
                    let fragment = self.fragments.get(name).ok_or_else(|| {
                        PlanError::Invalid(format!("Unknown fragment \"{name}\"."))
                    })?;
                    let condition = fragment.node.type_condition.node.on.node.as_str();
                    if self.applies(condition, object) {
                        self.collect_into(
                            object,
                            &fragment.node.selection_set.node,
                            visited,
                            collected,
                        )?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let condition = fragment.node.type_condition.as_ref();
                    if condition.is_none_or(|c| self.applies(c.node.on.node.as_str(), object)) {
                        self.collect_into(
                            object,
                            &fragment.node.selection_set.node,
                            visited,
                            collected,
                        )?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The spec's DoesFragmentTypeApply: `condition` is the object's type,
    /// an interface it implements or a union it belongs to.
    fn applies(&self, condition: &str, object: &str) -> bool {
        self.registry
            .types
            .get(condition)
            .is_some_and(|ty| ty.is_possible_type(object))
    }

    /// Whether a selection with `directives` is included: no `@skip` whose
    /// condition holds, no `@include` whose condition does not.
    fn included(&self, directives: &[Positioned<Directive>]) -> Result<bool, PlanError> {
        for directive in directives {
            let skip_when = match directive.node.name.node.as_str() {
                "skip" => true,
                "include" => false,
                _ => continue,
            };
            if self.condition(&directive.node)? == skip_when {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The value of a directive's `if`: written in the document, or a
    /// variable's value as sent, else its default.
    fn condition(&self, directive: &Directive) -> Result<bool, PlanError> {
        let name = directive.name.node.as_str();
        let missing = || PlanError::Condition(format!("@{name} needs a boolean `if`"));
        let value = &directive.get_argument("if").ok_or_else(missing)?.node;
        let value = match value {
            WrittenValue::Variable(variable) => {
                self.reads_variables.set(true);
                self.variables
                    .get(variable)
                    .or_else(|| self.defaults.get(variable.as_str()))
                    .ok_or_else(|| {
                        PlanError::Condition(format!(
                            "the variable ${variable} in @{name} has no value"
                        ))
                    })?
            }
            WrittenValue::Boolean(condition) => return Ok(*condition),
            _ => return Err(missing()),
        };
        match value {
            Value::Boolean(condition) => Ok(*condition),
            _ => Err(missing()),
        }
    }

    /// `value` without the variables the request gives no value and the
    /// operation no default: as the spec coerces arguments, an argument or
    /// input field given such a variable is not given at all (so its own
    /// default applies), and a list item given one is null. `None` when
    /// `value` is such a variable.
    fn without_absent_variables(&self, value: &WrittenValue) -> Option<WrittenValue> {
        match value {
            // A variable with a default, or of a non-null type (which the
            // request must give), always has a value.
            WrittenValue::Variable(name) if self.always_given.contains(name.as_str()) => {
                Some(value.clone())
            }
            WrittenValue::Variable(name) => {
                self.reads_variables.set(true);
                self.variables.contains_key(name).then(|| value.clone())
            }
            WrittenValue::List(items) => Some(WrittenValue::List(
                items
                    .iter()
                    .map(|item| {
                        self.without_absent_variables(item)
                            .unwrap_or(WrittenValue::Null)
                    })
                    .collect(),
            )),
            WrittenValue::Object(fields) => Some(WrittenValue::Object(
                fields
                    .iter()
                    .filter_map(|(name, field)| {
                        Some((name.clone(), self.without_absent_variables(field)?))
                    })
                    .collect(),
            )),
            value => Some(value.clone()),
        }
    }

    /// Counts one more planned field.
    fn count(&mut self) -> Result<(), PlanError> {
        self.planned += 1;
        if self.planned > self.max_fields {
            return Err(PlanError::TooLarge {
                max: self.max_fields,
            });
        }
        Ok(())
    }

    /// The merged selection on an object of type `object`, and its shape,
    /// with a `__typename` to strip added as `fill` says.
    fn object_selection(
        &mut self,
        object: &'d MetaType,
        sets: &[&'d SelectionSet],
        fill: Fill,
    ) -> Result<(SelectionSet, ObjectShape), PlanError> {
        let collected = self.collect(object.name(), sets)?;
        let typed = collected
            .values()
            .any(|occurrences| occurrences[0].node.name.node == "__typename");
        let fill_key = type_key(std::slice::from_ref(&collected));
        let mut items = Vec::with_capacity(collected.len());
        let mut fields = Vec::with_capacity(collected.len());
        for (key, occurrences) in collected {
            let (field, ty) = self.merged_field(object, &occurrences)?;
            items.push(Positioned::new(Selection::Field(field), occurrences[0].pos));
            fields.push(FieldShape {
                key: Name::new(key),
                ty,
            });
        }
        let mut injected = None;
        let fills = match fill {
            Fill::Never => false,
            Fill::WhenEmpty => items.is_empty(),
            Fill::UnlessTyped => !typed,
        };
        if fills {
            if items.is_empty() {
                self.count()?;
            }
            items.push(typename_field(&fill_key));
            injected = Some(fill_key);
        }
        Ok((SelectionSet { items }, ObjectShape { fields, injected }))
    }

    /// One field standing for all `occurrences` of a response key on
    /// `object`: the first one's name, alias and arguments (validation made
    /// sure they all agree), and all their selections merged.
    fn merged_field(
        &mut self,
        object: &'d MetaType,
        occurrences: &[&'d Positioned<Field>],
    ) -> Result<(Positioned<Field>, TypeShape), PlanError> {
        self.count()?;
        let first = &occurrences[0].node;
        let name = first.name.node.as_str();
        let (selection_set, ty) = if name == "__typename" {
            (SelectionSet::default(), TypeShape::typename())
        } else {
            let defined = object.field_by_name(name).ok_or_else(|| {
                PlanError::Invalid(format!(
                    "Unknown field \"{name}\" on type \"{}\".",
                    object.name()
                ))
            })?;
            let sets: Vec<&SelectionSet> = occurrences
                .iter()
                .map(|occurrence| &occurrence.node.selection_set.node)
                .collect();
            self.depth += 1;
            if self.depth > MAX_PLAN_DEPTH {
                return Err(PlanError::Invalid("selections nest without end".into()));
            }
            let planned = self.typed_selection(&defined.ty, &sets);
            self.depth -= 1;
            planned?
        };
        let field = Field {
            alias: first.alias.clone(),
            name: first.name.clone(),
            arguments: first
                .arguments
                .iter()
                .filter_map(|(name, value)| {
                    let kept = self.without_absent_variables(&value.node)?;
                    Some((name.clone(), Positioned::new(kept, value.pos)))
                })
                .collect(),
            directives: Vec::new(),
            selection_set: Positioned::new(selection_set, first.selection_set.pos),
        };
        Ok((Positioned::new(field, occurrences[0].pos), ty))
    }

    /// The merged selection for a field of type `ty` (as the registry writes
    /// it, `[Article!]!`), and the shape of its value.
    fn typed_selection(
        &mut self,
        ty: &str,
        sets: &[&'d SelectionSet],
    ) -> Result<(SelectionSet, TypeShape), PlanError> {
        match MetaTypeName::create(ty) {
            MetaTypeName::NonNull(inner) => {
                let (set, shape) = self.typed_selection(inner, sets)?;
                Ok((set, TypeShape::NonNull(Box::new(shape))))
            }
            MetaTypeName::List(inner) => {
                let (set, shape) = self.typed_selection(inner, sets)?;
                Ok((set, TypeShape::List(Box::new(shape))))
            }
            MetaTypeName::Named(name) => {
                let named = self
                    .registry
                    .types
                    .get(name)
                    .ok_or_else(|| PlanError::Invalid(format!("Unknown type \"{name}\".")))?;
                match named {
                    MetaType::Object { .. } => {
                        let (set, shape) = self.object_selection(named, sets, Fill::UnlessTyped)?;
                        Ok((set, TypeShape::Object(shape)))
                    }
                    MetaType::Interface { .. } | MetaType::Union { .. } => {
                        let (set, shape) = self.abstract_selection(named, sets)?;
                        Ok((set, TypeShape::Abstract(shape)))
                    }
                    _ => Ok((SelectionSet::default(), TypeShape::Leaf)),
                }
            }
        }
    }

    /// The merged selection on an interface or union: one inline fragment per
    /// possible type, each led by the `__typename` that tells them apart.
    fn abstract_selection(
        &mut self,
        abstract_type: &'d MetaType,
        sets: &[&'d SelectionSet],
    ) -> Result<(SelectionSet, AbstractShape), PlanError> {
        let possible: Vec<&'d MetaType> = abstract_type
            .possible_types()
            .into_iter()
            .flatten()
            .filter_map(|name| self.registry.types.get(name))
            .collect();
        let collected = possible
            .iter()
            .map(|object| self.collect(object.name(), sets))
            .collect::<Result<Vec<_>, _>>()?;
        let type_key = type_key(&collected);
        let mut items = Vec::with_capacity(possible.len());
        let mut by_type = HashMap::with_capacity(possible.len());
        for (object, collected) in possible.into_iter().zip(collected) {
            let selects_type_key = collected
                .get(type_key.as_str())
                .is_some_and(|fields| fields[0].node.name.node == "__typename");
            let (mut set, mut shape) = self.object_selection(object, sets, Fill::Never)?;
            if !selects_type_key {
                self.count()?;
                set.items.insert(0, typename_field(&type_key));
                shape.injected = Some(type_key.clone());
            }
            items.push(Positioned::new(
                Selection::InlineFragment(Positioned::new(
                    InlineFragment {
                        type_condition: Some(Positioned::new(
                            TypeCondition {
                                on: Positioned::new(Name::new(object.name()), INJECTED),
                            },
                            INJECTED,
                        )),
                        directives: Vec::new(),
                        selection_set: Positioned::new(set, INJECTED),
                    },
                    INJECTED,
                )),
                INJECTED,
            ));
            by_type.insert(object.name().to_owned(), shape);
        }
        Ok((SelectionSet { items }, AbstractShape { type_key, by_type }))
    }
}

/// The response key that tells an abstract position's types apart:
/// `__typename` when every type selects it as such or none uses the key,
/// else the first of `__typename_1`, `__typename_2`, ... no type uses.
fn type_key(collected: &[Collected<'_>]) -> Name {
    let free_or_typename = |key: &str| {
        collected.iter().all(|fields| match fields.get(key) {
            None => true,
            Some(occurrences) => occurrences[0].node.name.node == "__typename",
        })
    };
    if free_or_typename("__typename") {
        return Name::new("__typename");
    }
    (1..)
        .map(|n| format!("__typename_{n}"))
        .find(|key| {
            collected
                .iter()
                .all(|fields| !fields.contains_key(key.as_str()))
        })
        .map(Name::new)
        .expect("a free key")
}

/// A `__typename` field the document did not ask for, answered under `key`.
fn typename_field(key: &str) -> Positioned<Selection> {
    let alias = (key != "__typename").then(|| Positioned::new(Name::new(key), INJECTED));
    Positioned::new(
        Selection::Field(Positioned::new(
            Field {
                alias,
                name: Positioned::new(Name::new("__typename"), INJECTED),
                arguments: Vec::new(),
                directives: Vec::new(),
                selection_set: Positioned::new(SelectionSet::default(), INJECTED),
            },
            INJECTED,
        )),
        INJECTED,
    )
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;
    use crate::graphql::execution::Validator;

    fn planned(document: &str, variables: serde_json::Value) -> Plan {
        let validator = Validator::for_schema(crate::graphql::schema_builder());
        let document = parse_query(document).expect("parses");
        let variables = Variables::from_json(variables);
        plan(validator.registry(), &document, None, &variables, 1_000).expect("plans")
    }

    fn keys(plan: &Plan) -> Vec<&str> {
        plan.shape
            .root
            .fields
            .iter()
            .map(|field| field.key.as_str())
            .collect()
    }

    #[test]
    fn repeated_keys_merge_in_first_place_and_conditions_read_defaults() {
        let plan = planned(
            "query($s: Boolean = true) { a: tags { name } viewer @skip(if: $s) { bio } a: tags { name } rateLimit { used } }",
            serde_json::json!({}),
        );
        assert_eq!(keys(&plan), ["a", "rateLimit"]);
        assert!(plan.reads_variables);
    }

    #[test]
    fn a_plan_reads_variables_only_when_a_value_can_change_it() {
        for (document, reads) in [
            ("query($n: Int = 20) { tags(first: $n) { name } }", false),
            ("query($n: Int!) { tags(first: $n) { name } }", false),
            ("query($n: Int) { tags(first: $n) { name } }", true),
            (
                "query($s: Boolean!) { tags @include(if: $s) { name } }",
                true,
            ),
            ("{ tags { name @skip(if: false) } }", false),
        ] {
            let plan = planned(document, serde_json::json!({ "n": 3, "s": true }));
            assert_eq!(plan.reads_variables, reads, "{document}");
        }
    }

    #[test]
    fn an_abstract_selection_becomes_one_fragment_per_type() {
        let plan = planned(
            "{ node(id: \"x\") { id ... on Article { slug } } }",
            serde_json::json!({}),
        );
        let TypeShape::Abstract(node) = &plan.shape.root.fields[0].ty else {
            panic!("node is abstract");
        };
        assert_eq!(node.type_key.as_str(), "__typename");
        let article = &node.by_type["Article"];
        let fields: Vec<&str> = article.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(fields, ["id", "slug"]);
        assert_eq!(
            article.injected.as_ref().map(Name::as_str),
            Some("__typename")
        );
        assert!(node.by_type.len() > 1);
    }

    #[test]
    fn fragment_cycles_and_huge_expansions_end() {
        let validator = Validator::for_schema(crate::graphql::schema_builder());
        let cycle = parse_query(
            "{ viewer { ...A } } fragment A on User { articles { nodes { author { ...A } } } }",
        )
        .expect("parses");
        assert!(
            plan(
                validator.registry(),
                &cycle,
                None,
                &Variables::default(),
                1_000_000
            )
            .is_err()
        );
        let wide = parse_query(
            "{ tags { ...B ...B } } fragment B on Tag { a: name b: name c: name d: name }",
        )
        .expect("parses");
        assert_eq!(
            plan(validator.registry(), &wide, None, &Variables::default(), 3).map(|_| ()),
            Err(PlanError::TooLarge { max: 3 })
        );
    }
}
