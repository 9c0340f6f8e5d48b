//! The error every layer below GraphQL returns, and its one mapping into
//! GraphQL errors.
//!
//! Each variant is an outcome a client can act on and carries one stable code
//! in `extensions.code`:
//!
//! | code | meaning |
//! |---|---|
//! | `UNAUTHENTICATED` | no token where one is needed, or a token that is invalid, tampered with or expired |
//! | `FORBIDDEN` | the token is valid but does not allow this operation |
//! | `NOT_FOUND` | the thing does not exist, or the caller may not know it exists |
//! | `BAD_USER_INPUT` | input that fails validation; `extensions.fields` lists every offending field |
//! | `CONFLICT` | a unique value (username, email) is taken |
//! | `INTERNAL` | a fault on our side; logged with the request id, which `extensions.requestId` repeats |
//! | `BAD_REQUEST` | the HTTP request itself is refused: method, content type, `Accept`, CSRF, batching |
//! | `LIMIT_EXCEEDED` | a document, body or header over a configured limit; `extensions.limit`, `max` and `actual` say which |
//! | `RATE_LIMITED` | the caller's points are spent; `extensions.retryAfter` says for how many seconds |
//! | `TIMEOUT` | the request ran longer than the request timeout and was cancelled |
//! | `PERSISTED_QUERY_NOT_FOUND` | a persisted-query hash the server does not know yet; send the document with it |
//! | `PERSISTED_QUERY_NOT_SUPPORTED` | persisted queries are switched off |
//! | `DOCUMENT_NOT_TRUSTED` | only trusted documents run, and this one is not in the manifest |

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;
use serde::Serialize;

/// Result alias for service and auth code.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One input field that failed validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The input field's name as the client sent it, e.g. `email`.
    pub field: String,
    /// Why it was refused.
    pub message: String,
}

/// Everything that can go wrong while serving a request.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    /// No token where one is needed, or a token that cannot be trusted.
    #[error("{0}")]
    Unauthenticated(String),
    /// A valid token that does not allow the operation.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The named thing does not exist or is not visible to the caller.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Input failed validation; every offending field is listed.
    #[error("invalid input: {}", describe_fields(.0))]
    InvalidInput(Vec<FieldError>),
    /// A value that must be unique is taken.
    #[error("{message}")]
    Conflict {
        /// The input field holding the taken value.
        field: &'static str,
        /// What is taken.
        message: String,
    },
    /// A database failure. Never shown to clients.
    #[error("database error: {0}")]
    Database(Arc<DbErr>),
    /// Any other fault on our side. Never shown to clients.
    #[error("internal error: {0}")]
    Internal(String),
    /// The HTTP request itself is not acceptable.
    #[error("{0}")]
    BadRequest(String),
    /// Something in the request is over a configured limit.
    #[error("{limit} is {actual}, over the limit of {max}")]
    LimitExceeded {
        /// Which limit, e.g. `depth`, `cost`, `aliases`.
        limit: &'static str,
        /// The configured limit.
        max: u64,
        /// What the request has.
        actual: u64,
    },
    /// The caller has spent their points for this window.
    #[error(
        "rate limit exceeded: {cost} points asked, {remaining} left; try again in {retry_after_secs} s"
    )]
    RateLimited {
        /// What the refused request would have cost.
        cost: u64,
        /// Points left in the window.
        remaining: u64,
        /// Seconds until the window resets.
        retry_after_secs: u64,
    },
    /// The request ran longer than the request timeout.
    #[error("the request took longer than {0} ms and was cancelled")]
    Timeout(u64),
    /// An automatic persisted query whose document the server does not have.
    #[error("PersistedQueryNotFound")]
    PersistedQueryNotFound,
    /// Automatic persisted queries are switched off.
    #[error("PersistedQueryNotSupported")]
    PersistedQueryNotSupported,
    /// Only trusted documents run, and this one is not one of them.
    #[error("only trusted documents may run, and this document is not in the manifest")]
    DocumentNotTrusted,
}

/// The documented set of error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// See [`Error::Unauthenticated`].
    Unauthenticated,
    /// See [`Error::Forbidden`].
    Forbidden,
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::InvalidInput`]; also used for malformed requests and documents.
    BadUserInput,
    /// See [`Error::Conflict`].
    Conflict,
    /// See [`Error::Internal`] and [`Error::Database`].
    Internal,
    /// See [`Error::BadRequest`].
    BadRequest,
    /// See [`Error::LimitExceeded`].
    LimitExceeded,
    /// See [`Error::RateLimited`].
    RateLimited,
    /// See [`Error::Timeout`].
    Timeout,
    /// See [`Error::PersistedQueryNotFound`].
    PersistedQueryNotFound,
    /// See [`Error::PersistedQueryNotSupported`].
    PersistedQueryNotSupported,
    /// See [`Error::DocumentNotTrusted`].
    DocumentNotTrusted,
}

impl ErrorCode {
    /// Every code, each at the index its discriminant gives
    /// (`code as usize`).
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::BadUserInput,
        ErrorCode::Conflict,
        ErrorCode::Internal,
        ErrorCode::BadRequest,
        ErrorCode::LimitExceeded,
        ErrorCode::RateLimited,
        ErrorCode::Timeout,
        ErrorCode::PersistedQueryNotFound,
        ErrorCode::PersistedQueryNotSupported,
        ErrorCode::DocumentNotTrusted,
    ];

    /// The code whose string is `text`, if it is one of these.
    pub fn named(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == text)
    }

    /// The string clients see in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::LimitExceeded => "LIMIT_EXCEEDED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ErrorCode::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            ErrorCode::DocumentNotTrusted => "DOCUMENT_NOT_TRUSTED",
        }
    }
}

fn describe_fields(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// The client-facing code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::InvalidInput(_) => ErrorCode::BadUserInput,
            Error::Conflict { .. } => ErrorCode::Conflict,
            Error::Database(_) | Error::Internal(_) => ErrorCode::Internal,
            Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::LimitExceeded { .. } => ErrorCode::LimitExceeded,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::Timeout(_) => ErrorCode::Timeout,
            Error::PersistedQueryNotFound => ErrorCode::PersistedQueryNotFound,
            Error::PersistedQueryNotSupported => ErrorCode::PersistedQueryNotSupported,
            Error::DocumentNotTrusted => ErrorCode::DocumentNotTrusted,
        }
    }

    /// A validation error about a single field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Error::InvalidInput(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        Error::Database(Arc::new(err))
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(err: sea_orm::TransactionError<Error>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner,
        }
    }
}

impl From<Error> for async_graphql::Error {
    fn from(err: Error) -> Self {
        let code = err.code();
        let message = match code {
            ErrorCode::Internal => {
                tracing::error!(error = %err, "internal error while serving a request");
                "internal error".to_owned()
            }
            _ => err.to_string(),
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Error::InvalidInput(fields) = &err {
                let list: Vec<async_graphql::Value> = fields
                    .iter()
                    .map(|f| {
                        let mut obj = async_graphql::indexmap::IndexMap::new();
                        obj.insert(async_graphql::Name::new("field"), f.field.clone().into());
                        obj.insert(
                            async_graphql::Name::new("message"),
                            f.message.clone().into(),
                        );
                        async_graphql::Value::Object(obj)
                    })
                    .collect();
                ext.set("fields", list);
            }
            if let Error::Conflict { field, .. } = &err {
                ext.set("field", *field);
            }
            if let Error::LimitExceeded { limit, max, actual } = &err {
                ext.set("limit", *limit);
                ext.set("max", *max);
                ext.set("actual", *actual);
            }
            if let Error::RateLimited {
                cost,
                remaining,
                retry_after_secs,
            } = &err
            {
                ext.set("cost", *cost);
                ext.set("remaining", *remaining);
                ext.set("retryAfter", *retry_after_secs);
            }
        })
    }
}

impl Error {
    /// The GraphQL error for a request refused before it ran (a limit, a rate
    /// limit, a protocol rule): the code and extensions, and no source
    /// location, since no part of the document is at fault.
    pub fn into_request_error(self) -> async_graphql::ServerError {
        let mut error = async_graphql::Error::from(self).into_server_error(Default::default());
        error.locations.clear();
        error
    }
}

/// Gives errors that have no code (parse and validation errors) BAD_USER_INPUT,
/// and adds the request id, when there is one, to internal errors so they can
/// be found in the logs. Every transport labels the errors it answers so.
pub fn label_error(error: &mut async_graphql::ServerError, request_id: Option<&str>) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    let code = match extensions.get("code") {
        Some(async_graphql::Value::String(code)) => code.clone(),
        _ => {
            extensions.set("code", ErrorCode::BadUserInput.as_str());
            return;
        }
    };
    if let Some(request_id) = request_id
        && code == ErrorCode::Internal.as_str()
    {
        extensions.set("requestId", request_id);
    }
}

/// Builds a GraphQL error with a code, for errors raised in the GraphQL layer itself.
pub fn graphql_error(code: ErrorCode, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_listed_code_sits_at_its_own_index_and_is_named_by_its_own_string() {
        // A code added to the enum stops this match compiling until it is
        // added here; add it to `ErrorCode::ALL` too.
        let _reminder = |code: ErrorCode| match code {
            ErrorCode::Unauthenticated
            | ErrorCode::Forbidden
            | ErrorCode::NotFound
            | ErrorCode::BadUserInput
            | ErrorCode::Conflict
            | ErrorCode::Internal
            | ErrorCode::BadRequest
            | ErrorCode::LimitExceeded
            | ErrorCode::RateLimited
            | ErrorCode::Timeout
            | ErrorCode::PersistedQueryNotFound
            | ErrorCode::PersistedQueryNotSupported
            | ErrorCode::DocumentNotTrusted => (),
        };
        let strings: std::collections::HashSet<&str> =
            ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(
            strings.len(),
            ErrorCode::ALL.len(),
            "two codes share a string"
        );
        for (index, code) in ErrorCode::ALL.into_iter().enumerate() {
            assert_eq!(code as usize, index, "{code:?}");
            assert_eq!(ErrorCode::named(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::named("SOMETHING_ELSE"), None);
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err: async_graphql::Error = Error::Internal("password column missing".into()).into();
        assert_eq!(err.message, "internal error");
        let ext = err.extensions.expect("extensions");
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("INTERNAL"))
        );
    }

    #[test]
    fn invalid_input_lists_every_field() {
        let err = Error::InvalidInput(vec![
            FieldError {
                field: "email".into(),
                message: "is not an email address".into(),
            },
            FieldError {
                field: "username".into(),
                message: "must not be empty".into(),
            },
        ]);
        assert_eq!(err.code(), ErrorCode::BadUserInput);
        let gql: async_graphql::Error = err.into();
        assert!(gql.message.contains("email") && gql.message.contains("username"));
        let ext = gql.extensions.expect("extensions");
        match ext.get("fields") {
            Some(async_graphql::Value::List(fields)) => assert_eq!(fields.len(), 2),
            other => panic!("fields missing: {other:?}"),
        }
    }
}
