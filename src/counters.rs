//! Counters of what the server did since start, read by `/metrics`
//! ([`crate::http::metrics`]) and by the tests. They sit below every layer
//! that counts: each layer records into them, none depends on another's.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ErrorCode;

/// Counts the SQL statements the connection pool runs.
#[derive(Clone, Debug, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Records one statement.
    pub fn record(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Statements recorded so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// How lists of objects were answered since start.
#[derive(Debug, Default)]
pub struct ListStats {
    /// Lists written straight from the values their items hold.
    pub direct: AtomicU64,
    /// Lists answered through their items' field resolvers.
    pub resolved: AtomicU64,
}

/// The GraphQL responses sent over HTTP since start (each of a batch counts
/// as one), and the errors they carried by code.
#[derive(Debug, Default)]
pub struct ResponseStats {
    responses: AtomicU64,
    with_errors: AtomicU64,
    /// By [`ErrorCode`], at `code as usize`.
    errors: [AtomicU64; ErrorCode::ALL.len()],
}

impl ResponseStats {
    /// Records one response that carried errors with these `codes` (none:
    /// it succeeded). A code that is not one of [`ErrorCode`]'s counts in
    /// the responses with errors only.
    pub fn record<'a>(&self, codes: impl IntoIterator<Item = &'a str>) {
        self.responses.fetch_add(1, Ordering::Relaxed);
        let mut failed = false;
        for code in codes {
            failed = true;
            if let Some(code) = ErrorCode::named(code) {
                self.errors[code as usize].fetch_add(1, Ordering::Relaxed);
            }
        }
        if failed {
            self.with_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Responses recorded so far.
    pub fn responses(&self) -> u64 {
        self.responses.load(Ordering::Relaxed)
    }

    /// Responses recorded with at least one error.
    pub fn with_errors(&self) -> u64 {
        self.with_errors.load(Ordering::Relaxed)
    }

    /// Errors recorded with `code`.
    pub fn errors(&self, code: ErrorCode) -> u64 {
        self.errors[code as usize].load(Ordering::Relaxed)
    }
}
