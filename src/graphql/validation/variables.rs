//! Variables as the spec checks them, where async-graphql's rules fall short.
//!
//! - [`usage_errors`]: the validation rule "All Variable Usages Are Allowed"
//!   (IsVariableUsageAllowed): a variable may be used only where its type
//!   fits, a nullable one in a non-null position only when it or the
//!   position has a default. async-graphql's rule lets a `[ID]` in where
//!   `[ID!]!` is expected, or an `Int` where `String!` is.
//! - [`coercion_errors`]: the variable values a request sends, coerced to
//!   the types the selected operation declares before anything runs
//!   (CoerceVariableValues, graphql-js's `getVariableValues`). async-graphql
//!   checks a value only where the variable is used, and a required
//!   variable left out not at all.
//!
//! Both follow graphql-js 16 in what they accept and refuse.

use std::collections::{HashMap, HashSet};

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, VariableDefinition,
};
use async_graphql::registry::{MetaInputValue, MetaType, MetaTypeName, Registry};
use async_graphql::{Name, Pos, Positioned, ServerError, Variables};
use async_graphql_value::{ConstValue, Value};

use super::values::{item_type, root_type, walk_directives, walk_selections};

/// The most errors coercing variable values reports before giving up, as
/// graphql-js does when it runs an operation.
pub const MAX_COERCION_ERRORS: usize = 50;

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

/// The operation of `document` a request with `operation_name` runs, if
/// there is one.
fn selected<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d Positioned<OperationDefinition>> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), None) => Some(operation),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The errors of coercing `variables` to the variables the operation of
/// `document` named `operation_name` (or its only one) declares: a required
/// variable left out or null, a value its type does not accept, at most
/// [`MAX_COERCION_ERRORS`] of them. None when there is no such operation.
pub fn coercion_errors(
    registry: &Registry,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Vec<ServerError> {
    let Some(operation) = selected(document, operation_name) else {
        return Vec::new();
    };
    let mut coercion = Coercion {
        registry,
        errors: Vec::new(),
    };
    for definition in &operation.node.variable_definitions {
        if coercion.variable(definition, variables).is_err() {
            coercion.errors.push(ServerError::new(
                "Too many errors processing variables, error limit reached. Execution aborted.",
                None,
            ));
            break;
        }
    }
    coercion.errors
}

/// The error limit was reached.
struct Full;

/// Where in a variable's value a part is.
enum Step<'v> {
    Field(&'v str),
    Index(usize),
}

struct Coercion<'r> {
    registry: &'r Registry,
    errors: Vec<ServerError>,
}

/// What one variable's errors share: its definition and path.
struct Variable<'v> {
    name: &'v str,
    pos: Pos,
    path: Vec<Step<'v>>,
}

impl<'r> Coercion<'r> {
    fn report(&mut self, message: String, pos: Pos) -> Result<(), Full> {
        if self.errors.len() >= MAX_COERCION_ERRORS {
            return Err(Full);
        }
        self.errors.push(ServerError::new(message, Some(pos)));
        Ok(())
    }

    fn variable(
        &mut self,
        definition: &Positioned<VariableDefinition>,
        variables: &Variables,
    ) -> Result<(), Full> {
        let pos = definition.pos;
        let definition = &definition.node;
        let name = definition.name.node.as_str();
        let ty = definition.var_type.node.to_string();
        let named = MetaTypeName::concrete_typename(&ty);
        if !self
            .registry
            .types
            .get(named)
            .is_some_and(MetaType::is_input)
        {
            return self.report(
                format!(
                    "Variable \"${name}\" expected value of type \"{ty}\" which cannot be used as an input type."
                ),
                pos,
            );
        }
        let required = !definition.var_type.node.nullable;
        match variables.get(&definition.name.node) {
            None if required && definition.default_value.is_none() => self.report(
                format!("Variable \"${name}\" of required type \"{ty}\" was not provided."),
                pos,
            ),
            None => Ok(()),
            Some(ConstValue::Null) if required => self.report(
                format!("Variable \"${name}\" of non-null type \"{ty}\" must not be null."),
                pos,
            ),
            Some(value) => {
                let mut variable = Variable {
                    name,
                    pos,
                    path: Vec::new(),
                };
                self.coerce(&mut variable, value, &ty)
            }
        }
    }

    /// Reports why `value` (at `variable`'s path) is not a value of `ty`.
    fn invalid(
        &mut self,
        variable: &Variable<'_>,
        value: &ConstValue,
        why: String,
    ) -> Result<(), Full> {
        let mut message = format!("Variable \"${}\" got invalid value {value}", variable.name);
        if !variable.path.is_empty() {
            let mut path = variable.name.to_owned();
            for step in &variable.path {
                match step {
                    Step::Field(name) => {
                        path.push('.');
                        path.push_str(name);
                    }
                    Step::Index(index) => path.push_str(&format!("[{index}]")),
                }
            }
            message.push_str(&format!(" at \"{path}\""));
        }
        message.push_str("; ");
        message.push_str(&why);
        self.report(message, variable.pos)
    }

    /// coerceInputValue: checks `value` as a value of `ty`.
    fn coerce<'v>(
        &mut self,
        variable: &mut Variable<'v>,
        value: &'v ConstValue,
        ty: &str,
    ) -> Result<(), Full> {
        match MetaTypeName::create(ty) {
            MetaTypeName::NonNull(inner) => {
                if *value == ConstValue::Null {
                    return self.invalid(
                        variable,
                        value,
                        format!("Expected non-nullable type \"{ty}\" not to be null."),
                    );
                }
                self.coerce(variable, value, inner)
            }
            _ if *value == ConstValue::Null => Ok(()),
            MetaTypeName::List(item) => match value {
                ConstValue::List(items) => {
                    for (index, value) in items.iter().enumerate() {
                        variable.path.push(Step::Index(index));
                        let result = self.coerce(variable, value, item);
                        variable.path.pop();
                        result?;
                    }
                    Ok(())
                }
                // A value that is not a list is a list of one.
                _ => self.coerce(variable, value, item),
            },
            MetaTypeName::Named(named) => match self.registry.types.get(named) {
                Some(MetaType::InputObject {
                    name,
                    input_fields,
                    oneof,
                    ..
                }) => self.input_object(variable, value, name, input_fields, *oneof),
                Some(MetaType::Enum {
                    name, enum_values, ..
                }) => {
                    let why = match value {
                        ConstValue::String(text) if enum_values.contains_key(text.as_str()) => {
                            return Ok(());
                        }
                        ConstValue::Enum(text) if enum_values.contains_key(text.as_str()) => {
                            return Ok(());
                        }
                        ConstValue::String(text) => {
                            format!("Value \"{text}\" does not exist in \"{name}\" enum.")
                        }
                        ConstValue::Enum(text) => {
                            format!("Value \"{text}\" does not exist in \"{name}\" enum.")
                        }
                        _ => format!("Enum \"{name}\" cannot represent non-string value: {value}."),
                    };
                    self.invalid(variable, value, why)
                }
                Some(MetaType::Scalar { name, .. }) => match scalar_refusal(name, value) {
                    Some(why) => self.invalid(variable, value, why),
                    None => Ok(()),
                },
                _ => Ok(()),
            },
        }
    }

    fn input_object<'v>(
        &mut self,
        variable: &mut Variable<'v>,
        value: &'v ConstValue,
        name: &str,
        input_fields: &IndexMap<String, MetaInputValue>,
        oneof: bool,
    ) -> Result<(), Full> {
        let ConstValue::Object(fields) = value else {
            return self.invalid(
                variable,
                value,
                format!("Expected type \"{name}\" to be an object."),
            );
        };
        // The fields the coerced object has: those given and those defaulted.
        let mut coerced: Vec<(&str, bool)> = Vec::new();
        for field in input_fields.values() {
            match fields.get(field.name.as_str()) {
                None if field.default_value.is_some() => coerced.push((&field.name, false)),
                None => {
                    if MetaTypeName::create(&field.ty).is_non_null() {
                        self.invalid(
                            variable,
                            value,
                            format!(
                                "Field \"{}\" of required type \"{}\" was not provided.",
                                field.name, field.ty
                            ),
                        )?;
                    }
                }
                Some(given) => {
                    coerced.push((&field.name, *given == ConstValue::Null));
                    variable
                        .path
                        .push(Step::Field(given_name(fields, &field.name)));
                    let result = self.coerce(variable, given, &field.ty);
                    variable.path.pop();
                    result?;
                }
            }
        }
        for key in fields.keys() {
            if !input_fields.contains_key(key.as_str()) {
                self.invalid(
                    variable,
                    value,
                    format!("Field \"{key}\" is not defined by type \"{name}\"."),
                )?;
            }
        }
        if oneof {
            if coerced.len() != 1 {
                self.invalid(
                    variable,
                    value,
                    format!("Exactly one key must be specified for OneOf type \"{name}\"."),
                )?;
            }
            if let Some((key, true)) = coerced.first() {
                self.invalid(
                    variable,
                    &ConstValue::Null,
                    format!("Field \"{key}\" must be non-null."),
                )?;
            }
        }
        Ok(())
    }
}

/// The key of `fields` spelled `name`, borrowed from the value.
fn given_name<'v>(fields: &'v IndexMap<Name, ConstValue>, name: &str) -> &'v str {
    fields
        .get_key_value(name)
        .map_or("", |(key, _)| key.as_str())
}

/// Why the built-in scalar `name` does not accept the variable value
/// `value`, as graphql-js's `parseValue` has it (JSON numbers are doubles
/// there: `1.0` is an integer); custom scalars accept any value.
fn scalar_refusal(name: &str, value: &ConstValue) -> Option<String> {
    let integral = |value: &ConstValue| match value {
        ConstValue::Number(number) => {
            number.is_i64()
                || number.is_u64()
                || number
                    .as_f64()
                    .is_some_and(|n| n.is_finite() && n.fract() == 0.0)
        }
        _ => false,
    };
    match name {
        "Int" => {
            if !integral(value) {
                return Some(format!("Int cannot represent non-integer value: {value}"));
            }
            let ConstValue::Number(number) = value else {
                return None;
            };
            let fits = match number.as_i64() {
                Some(n) => i32::try_from(n).is_ok(),
                None => number
                    .as_f64()
                    .is_some_and(|n| n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX)),
            };
            (!fits)
                .then(|| format!("Int cannot represent non 32-bit signed integer value: {value}"))
        }
        "Float" => (!matches!(value, ConstValue::Number(_)))
            .then(|| format!("Float cannot represent non numeric value: {value}")),
        "String" => (!matches!(value, ConstValue::String(_)))
            .then(|| format!("String cannot represent a non string value: {value}")),
        "Boolean" => (!matches!(value, ConstValue::Boolean(_)))
            .then(|| format!("Boolean cannot represent a non boolean value: {value}")),
        "ID" => (!matches!(value, ConstValue::String(_)) && !integral(value))
            .then(|| format!("ID cannot represent value: {value}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use serde_json::json;

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

    fn coercion(document: &str, variables: serde_json::Value, name: Option<&str>) -> Vec<String> {
        let validator = registry();
        let document = parse_query(document).expect("parses");
        let variables = Variables::from_json(variables);
        coercion_errors(validator.registry(), &document, name, &variables)
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

    /// Values graphql-js's getVariableValues accepts.
    #[test]
    fn values_that_coerce_pass() {
        for (document, variables) in [
            ("query($n: Int) { tags(first: $n) { name } }", json!({})),
            (
                "query($n: Int) { tags(first: $n) { name } }",
                json!({ "n": null }),
            ),
            (
                "query($n: Int = 2) { tags(first: $n) { name } }",
                json!({ "n": null }),
            ),
            (
                "query($n: Int! = 2) { tags(first: $n) { name } }",
                json!({}),
            ),
            (
                "query($n: Int!) { tags(first: $n) { name } }",
                json!({ "n": 1.0 }),
            ),
            (
                "query($n: Int!) { tags(first: $n) { name } }",
                json!({ "n": -2147483648i64 }),
            ),
            (
                "query($i: [ID!]!) { nodes(ids: $i) { id } }",
                json!({ "i": "x" }),
            ),
            (
                "query($i: [ID!]!) { nodes(ids: $i) { id } }",
                json!({ "i": [1, "x", 2.0, 12345678901234567890u64] }),
            ),
            (
                "query($f: ArticleFilterInput) { articles(filter: $f) { totalCount } }",
                json!({ "f": { "status": "DRAFT", "tag": null } }),
            ),
            (
                "query($o: ArticleOrder) { articles(orderBy: $o) { totalCount } }",
                json!({ "o": {} }),
            ),
            (
                "query($s: Boolean!) { viewer @skip(if: $s) { id } }",
                json!({ "s": false, "other": [1] }),
            ),
            (
                "mutation($a: AttenuateTokenInput!) { attenuateToken(input: $a) { token } }",
                json!({ "a": { "expiresIn": 5, "actions": "comment.create" } }),
            ),
        ] {
            assert_eq!(
                coercion(document, variables.clone(), None),
                Vec::<String>::new(),
                "{document} {variables}"
            );
        }
    }

    /// Values graphql-js's getVariableValues refuses, with how many errors.
    #[test]
    fn values_that_do_not_coerce_are_refused() {
        for (document, variables, count) in [
            ("query($n: Int!) { tags(first: $n) { name } }", json!({}), 1),
            (
                "query($n: Int!) { tags(first: $n) { name } }",
                json!({ "n": null }),
                1,
            ),
            (
                "query($n: Int!) { tags(first: $n) { name } }",
                json!({ "n": 1.5 }),
                1,
            ),
            (
                "query($n: Int!) { tags(first: $n) { name } }",
                json!({ "n": "1" }),
                1,
            ),
            (
                "query($n: Int!) { tags(first: $n) { name } }",
                json!({ "n": 2147483648i64 }),
                1,
            ),
            (
                "query($n: Int!) { tags(first: $n) { name } }",
                json!({ "n": 1e20 }),
                1,
            ),
            (
                "query($n: Int!) { tags(first: $n) { name } }",
                json!({ "n": [1] }),
                1,
            ),
            (
                "query($s: Boolean!) { viewer @skip(if: $s) { id } }",
                json!({ "s": "true" }),
                1,
            ),
            (
                "query($a: String, $b: String) { articles(filter: { author: $a, favoritedBy: $b }) { totalCount } }",
                json!({ "a": { "s": "x" } }),
                1,
            ),
            (
                "query($f: ArticleFilterInput) { articles(filter: $f) { totalCount } }",
                json!({ "f": "x" }),
                1,
            ),
            (
                "query($f: ArticleFilterInput) { articles(filter: $f) { totalCount } }",
                json!({ "f": [{ "tag": "x" }] }),
                1,
            ),
            (
                "query($f: ArticleFilterInput) { articles(filter: $f) { totalCount } }",
                json!({ "f": { "nope": 1, "tag": 5 } }),
                2,
            ),
            (
                "query($f: ArticleFilterInput) { articles(filter: $f) { totalCount } }",
                json!({ "f": { "status": "draft" } }),
                1,
            ),
            (
                "query($o: ArticleOrder) { articles(orderBy: $o) { totalCount } }",
                json!({ "o": { "field": null } }),
                1,
            ),
            (
                "query($i: [ID!]!) { nodes(ids: $i) { id } }",
                json!({ "i": [null, 1.5, true, { "id": 1 }, ["x"]] }),
                5,
            ),
            (
                "mutation($c: CreateArticleInput!) { createArticle(input: $c) { article { id } } }",
                json!({ "c": { "title": "t" } }),
                2,
            ),
            (
                "query A($n: Int!) { tags(first: $n) { name } } query B { __typename }",
                json!({}),
                1,
            ),
            ("query($d: DateTime!) { __typename }", json!({}), 1),
        ] {
            let name = document.starts_with("query A").then_some("A");
            let found = coercion(document, variables.clone(), name);
            assert_eq!(found.len(), count, "{document} {variables}: {found:?}");
        }
    }

    #[test]
    fn only_the_selected_operation_is_coerced() {
        let document = "query A($n: Int!) { tags(first: $n) { name } } query B { __typename }";
        assert!(coercion(document, json!({}), Some("B")).is_empty());
        assert!(
            coercion(document, json!({}), None).is_empty(),
            "no operation runs"
        );
        assert!(
            coercion(document, json!({}), Some("C")).is_empty(),
            "no operation runs"
        );
    }

    #[test]
    fn a_missing_required_variable_is_named() {
        assert_eq!(
            coercion(
                "query($n: Int!) { tags(first: $n) { name } }",
                json!({}),
                None
            ),
            ["Variable \"$n\" of required type \"Int!\" was not provided."]
        );
        assert_eq!(
            coercion(
                "query($f: ArticleFilterInput) { articles(filter: $f) { totalCount } }",
                json!({ "f": { "tag": 5 } }),
                None
            ),
            [
                "Variable \"$f\" got invalid value 5 at \"f.tag\"; String cannot represent a non string value: 5"
            ]
        );
    }

    #[test]
    fn coercion_stops_after_fifty_errors() {
        let ids: Vec<bool> = vec![true; 80];
        let found = coercion(
            "query($i: [ID!]!) { nodes(ids: $i) { id } }",
            json!({ "i": ids }),
            None,
        );
        assert_eq!(found.len(), MAX_COERCION_ERRORS + 1);
        assert!(found[MAX_COERCION_ERRORS].starts_with("Too many errors"));
    }
}
