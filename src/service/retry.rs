//! Writes that meet another write: transactions that lose a deadlock or a
//! lock to a concurrent one run again, and rows that vanish under a write
//! are reported as gone, not as failures.

use std::future::Future;
use std::time::Duration;

use sea_orm::{DbErr, RuntimeErr, SqlErr};

use crate::error::{Error, Result};

/// How many times a transaction runs before its failure is reported.
const ATTEMPTS: u32 = 4;

/// Runs `transaction` again when it fails only because a concurrent write
/// chose it as a deadlock's victim or held a lock past the wait (the
/// database has rolled it back, so nothing of it stayed), up to
/// [`ATTEMPTS`] times with a short, growing pause.
pub async fn retry_transient<T, F, Fut>(mut transaction: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match transaction().await {
            Err(Error::Database(err)) if attempt < ATTEMPTS && is_transient(&err) => {
                tracing::info!(error = %err, attempt, "a write lost to a concurrent one; again");
                tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Whether `err` says only that the transaction lost to a concurrent one:
/// a deadlock or serialization failure (SQLSTATE 40P01, 40001), MySQL's
/// lock wait timeout (1205), or SQLite's busy database (5, 517).
pub fn is_transient(err: &DbErr) -> bool {
    let runtime = match err {
        DbErr::Exec(runtime) | DbErr::Query(runtime) | DbErr::Conn(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return false;
    };
    let Some(database) = sqlx.as_database_error() else {
        return false;
    };
    let code = database.code().unwrap_or_default();
    matches!(
        code.as_ref(),
        "40P01" | "40001" | "HY000" | "5" | "517" | "1205" | "1213"
    ) && (code != "HY000" || database.message().contains("Lock wait timeout"))
}

/// `err`, or NOT_FOUND for `what` when it says that a row the write
/// referred to (or was changing) is gone: deleted by a concurrent write.
pub fn gone_as_not_found(err: Error, what: &'static str) -> Error {
    match &err {
        Error::Database(db) => match db.as_ref() {
            DbErr::RecordNotUpdated | DbErr::RecordNotFound(_) => Error::NotFound(what),
            _ if matches!(db.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
                Error::NotFound(what)
            }
            _ => err,
        },
        _ => err,
    }
}
