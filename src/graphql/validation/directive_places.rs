//! Directives on variable definitions, which async-graphql's rules do not
//! look at: each must be known and allowed there (none of the schema's is).

use async_graphql::ServerError;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::registry::Registry;

/// The errors of directives written on variable definitions that may not
/// be used there.
pub fn errors(registry: &Registry, document: &ExecutableDocument) -> Vec<ServerError> {
    let mut errors = Vec::new();
    for (_, operation) in document.operations.iter() {
        for definition in &operation.node.variable_definitions {
            for directive in &definition.node.directives {
                let name = directive.node.name.node.as_str();
                let message = match registry.directives.get(name) {
                    None => format!("Unknown directive \"@{name}\"."),
                    Some(known)
                        if known
                            .locations
                            .iter()
                            .any(|location| format!("{location:?}") == "VARIABLE_DEFINITION") =>
                    {
                        continue;
                    }
                    Some(_) => {
                        format!("Directive \"@{name}\" may not be used on VARIABLE_DEFINITION.")
                    }
                };
                errors.push(ServerError::new(message, Some(directive.pos)));
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;
    use crate::graphql::execution::Validator;

    #[test]
    fn directives_on_variable_definitions_are_refused() {
        let validator = Validator::for_schema(crate::graphql::schema_builder());
        let document =
            parse_query("query($v: String! @skip(if: false), $w: Int @nope) { __typename }")
                .expect("parses");
        let errors = errors(validator.registry(), &document);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].message.contains("VARIABLE_DEFINITION"),
            "{}",
            errors[0].message
        );
        assert!(
            errors[1].message.contains("Unknown directive"),
            "{}",
            errors[1].message
        );
        let fine = parse_query("query($v: String!) { __typename }").expect("parses");
        assert!(self::errors(validator.registry(), &fine).is_empty());
    }
}
