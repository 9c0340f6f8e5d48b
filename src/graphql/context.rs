//! Typed access to what a resolver needs from the GraphQL context.

use async_graphql::Context;

use crate::auth::Viewer;
use crate::error::{Error, Result};
use crate::state::AppState;

/// What every resolver reads from its context.
pub trait ContextExt {
    /// The shared application state.
    fn state(&self) -> Result<&AppState>;
    /// The caller of this request.
    fn viewer(&self) -> Result<&Viewer>;
}

fn missing(what: &str) -> Error {
    Error::Internal(format!("{what} is missing from the GraphQL context"))
}

impl ContextExt for Context<'_> {
    fn state(&self) -> Result<&AppState> {
        self.data_opt::<AppState>()
            .ok_or_else(|| missing("the application state"))
    }

    fn viewer(&self) -> Result<&Viewer> {
        self.data_opt::<Viewer>()
            .ok_or_else(|| missing("the viewer"))
    }
}
