//! Document limits: tokens, depth, cost, aliases, root fields and directives,
//! checked before a document runs.
//!
//! Tokens are counted on the text before it is parsed; the rest is measured
//! on the parsed document ([`measure`]). A document over a limit is refused
//! with `LIMIT_EXCEEDED`, naming the limit, its maximum and what the document
//! has.

mod measure;
mod tokens;

pub use measure::{DEFAULT_PAGE_SIZE, Measurements, measure};
pub use tokens::count_tokens;

use crate::config::Protection;
use crate::error::Error;

/// The configured limits.
#[derive(Clone, Copy, Debug)]
pub struct DocumentLimits {
    /// Most lexical tokens.
    pub max_tokens: usize,
    /// Deepest nesting of selections.
    pub max_depth: usize,
    /// Highest cost.
    pub max_cost: u64,
    /// Most aliases.
    pub max_aliases: usize,
    /// Most root fields.
    pub max_root_fields: usize,
    /// Most directives.
    pub max_directives: usize,
}

impl DocumentLimits {
    /// The limits in the protection settings.
    pub fn from_protection(protection: &Protection) -> Self {
        Self {
            max_tokens: protection.max_tokens,
            max_depth: protection.max_depth,
            max_cost: protection.max_cost,
            max_aliases: protection.max_aliases,
            max_root_fields: protection.max_root_fields,
            max_directives: protection.max_directives,
        }
    }

    /// Refuses a document with more lexical tokens than allowed, counted on
    /// the text before it is parsed (and no further than the limit).
    pub fn check_tokens(&self, query: &str) -> Result<(), Error> {
        let tokens = count_tokens(query, self.max_tokens);
        if tokens > self.max_tokens {
            return Err(Error::LimitExceeded {
                limit: "tokens",
                max: self.max_tokens as u64,
                actual: tokens as u64,
            });
        }
        Ok(())
    }

    /// The first limit `measured` is over, if any.
    pub fn check(&self, measured: &Measurements) -> Result<(), Error> {
        let checks = [
            ("depth", self.max_depth as u64, measured.depth as u64),
            ("cost", self.max_cost, measured.cost),
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
        ];
        match checks.into_iter().find(|(_, max, actual)| actual > max) {
            Some((limit, max, actual)) => Err(Error::LimitExceeded { limit, max, actual }),
            None => Ok(()),
        }
    }
}
