//! Typed access to what a resolver needs from the GraphQL context.

use async_graphql::Context;

use super::loaders::{Loaders, ViewerLoaders};
use crate::auth::Viewer;
use crate::error::{Error, Result};
use crate::state::AppState;

/// What every resolver reads from its context.
pub trait ContextExt {
    /// The shared application state.
    fn state(&self) -> Result<&AppState>;
    /// The caller of this request.
    fn viewer(&self) -> Result<&Viewer>;
    /// The request-independent DataLoaders.
    fn loaders(&self) -> Result<&Loaders>;
    /// The DataLoaders for the viewer's own state; `None` when anonymous.
    fn viewer_loaders(&self) -> Option<&ViewerLoaders>;
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

    fn loaders(&self) -> Result<&Loaders> {
        self.data_opt::<Loaders>()
            .ok_or_else(|| missing("the loaders"))
    }

    fn viewer_loaders(&self) -> Option<&ViewerLoaders> {
        self.data_opt::<ViewerLoaders>()
    }
}
