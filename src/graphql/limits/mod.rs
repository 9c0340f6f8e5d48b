//! Document limits: tokens, depth, cost, aliases, root fields and directives,
//! checked before a document runs.
//!
//! Tokens are counted on the text before it is parsed; the rest is measured
//! on the parsed document ([`measure`]). A document over a limit is refused
//! with `LIMIT_EXCEEDED`, naming the limit, its maximum and what the document
//! has.

mod measure;
mod tokens;

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Request, ServerResult};

pub use measure::{DEFAULT_PAGE_SIZE, Measurements, measure};
pub use tokens::count_tokens;

use crate::config::Protection;
use crate::error::Error;

/// The configured limits; the extension that enforces them.
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

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitCheck { limits: *self })
    }
}

/// One request's check.
struct LimitCheck {
    limits: DocumentLimits,
}

#[async_trait::async_trait]
impl Extension for LimitCheck {
    /// Checks the document before async-graphql looks at it: its own recursion
    /// check walks every fragment spread anew, which takes exponential time on
    /// a document whose fragments spread each other many times over. The
    /// document parsed here is handed on, so it is parsed once.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let max_tokens = self.limits.max_tokens;
        let tokens = count_tokens(&request.query, max_tokens);
        if tokens > max_tokens {
            return Err(Error::LimitExceeded {
                limit: "tokens",
                max: max_tokens as u64,
                actual: tokens as u64,
            }
            .into_request_error());
        }
        // A document that does not parse is left to async-graphql, which
        // reports the syntax error.
        if let Ok(document) = async_graphql::parser::parse_query(&request.query) {
            let measured = measure(
                &document,
                request.operation_name.as_deref(),
                &request.variables,
            );
            self.limits
                .check(&measured)
                .map_err(Error::into_request_error)?;
            // The rate limit charges by the same measurements.
            request.data.insert(measured);
            request.set_parsed_query(document);
        }
        next.run(ctx, request).await
    }
}
