//! Document limits: tokens, nesting, depth, cost, aliases, root fields,
//! directives and list lengths, checked before a document runs, and the
//! depth and list nesting of introspection, which has limits of its own.
//!
//! Tokens and nesting are counted on the text before it is parsed
//! ([`tokens::scan`]); the rest is measured on the parsed document
//! ([`measure`]). A document over a limit is refused
//! with `LIMIT_EXCEEDED`, naming the limit, its maximum and what the document
//! has.

mod measure;
mod strings;
mod tokens;

pub use measure::{DEFAULT_PAGE_SIZE, Measurements, measure};
pub use strings::check_storable;
pub use tokens::{TextScan, count_tokens, scan};

use crate::config::Protection;
use crate::error::Error;

/// The configured limits.
#[derive(Clone, Copy, Debug)]
pub struct DocumentLimits {
    /// Most lexical tokens.
    pub max_tokens: usize,
    /// Deepest nesting of braces, brackets and parentheses.
    pub max_nesting: usize,
    /// Deepest nesting of data selections.
    pub max_depth: usize,
    /// Highest cost of the data selections.
    pub max_cost: u64,
    /// Deepest nesting of selections in introspection.
    pub max_introspection_depth: usize,
    /// Most list fields of introspection nested inside each other.
    pub max_introspection_list_nesting: usize,
    /// Most aliases.
    pub max_aliases: usize,
    /// Most root fields.
    pub max_root_fields: usize,
    /// Most directives.
    pub max_directives: usize,
    /// Most items in one list value.
    pub max_list_length: usize,
}

impl DocumentLimits {
    /// The limits in the protection settings.
    pub fn from_protection(protection: &Protection) -> Self {
        Self {
            max_tokens: protection.max_tokens,
            max_nesting: protection.max_nesting,
            max_depth: protection.max_depth,
            max_cost: protection.max_cost,
            max_introspection_depth: protection.max_introspection_depth,
            max_introspection_list_nesting: protection.max_introspection_list_nesting,
            max_aliases: protection.max_aliases,
            max_root_fields: protection.max_root_fields,
            max_directives: protection.max_directives,
            max_list_length: protection.max_list_length,
        }
    }

    /// Refuses a document with more lexical tokens or deeper nesting than
    /// allowed, counted on the text before it is parsed (and no further than
    /// one past the limit). Every document is checked with this before the
    /// parser sees it: the parser's recursion is bounded only by this check.
    pub fn check_text(&self, query: &str) -> Result<(), Error> {
        let found = scan(query, self.max_tokens, self.max_nesting);
        if found.tokens > self.max_tokens {
            return Err(Error::LimitExceeded {
                limit: "tokens",
                max: self.max_tokens as u64,
                actual: found.tokens as u64,
            });
        }
        if found.nesting > self.max_nesting {
            return Err(Error::LimitExceeded {
                limit: "nesting",
                max: self.max_nesting as u64,
                actual: found.nesting as u64,
            });
        }
        Ok(())
    }

    /// The first limit `measured` is over, if any.
    pub fn check(&self, measured: &Measurements) -> Result<(), Error> {
        let checks = [
            ("depth", self.max_depth as u64, measured.depth as u64),
            ("cost", self.max_cost, measured.cost),
            (
                "introspectionDepth",
                self.max_introspection_depth as u64,
                measured.introspection_depth as u64,
            ),
            (
                "introspectionListNesting",
                self.max_introspection_list_nesting as u64,
                measured.introspection_list_nesting as u64,
            ),
            ("aliases", self.max_aliases as u64, measured.aliases as u64),
            (
                "rootFields",
                self.max_root_fields as u64,
                measured.root_fields as u64,
            ),
            (
                "directives",
                self.max_directives as u64,
                measured.directives as u64,
            ),
            (
                "listLength",
                self.max_list_length as u64,
                measured.longest_list as u64,
            ),
        ];
        match checks.into_iter().find(|(_, max, actual)| actual > max) {
            Some((limit, max, actual)) => Err(Error::LimitExceeded { limit, max, actual }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(limits: &DocumentLimits, query: &str) -> Option<(&'static str, u64, u64)> {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let measured = measure(&document, None, &Default::default());
        match limits.check(&measured) {
            Ok(()) => None,
            Err(Error::LimitExceeded { limit, max, actual }) => Some((limit, max, actual)),
            Err(other) => panic!("not a limit: {other}"),
        }
    }

    #[test]
    fn introspection_has_limits_of_its_own() {
        let limits = DocumentLimits::from_protection(&Protection {
            max_depth: 3,
            max_cost: 5,
            ..Protection::default()
        });
        // 7 deep and 7 fields: over the data depth and cost, which do not
        // count introspection, within the introspection depth.
        let type_ref = "{ __type(name: \"A\") { ofType { ofType { ofType { ofType { ofType { name } } } } } } }";
        assert_eq!(refusal(&limits, type_ref), None);
        let lists =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        assert_eq!(
            refusal(&limits, lists),
            Some(("introspectionListNesting", 3, 4))
        );
        let deep = format!(
            "{{ __type(name: \"A\") {{ {} name {} }} }}",
            "ofType {".repeat(19),
            "}".repeat(19)
        );
        assert_eq!(
            refusal(&limits, &deep),
            Some(("introspectionDepth", 20, 21))
        );
        // Data beside introspection is held to the data limits.
        let data =
            "{ __schema { types { name } } articles(first: 1) { nodes { author { username } } } }";
        assert_eq!(refusal(&limits, data), Some(("depth", 3, 4)));
    }
}
