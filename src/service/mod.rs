//! Domain services: the only code that runs transactions, decides what a
//! viewer may read or change, and publishes events. Nothing here knows about
//! GraphQL or HTTP; the statements that read lists are built in [`crate::db`].
//!
//! Writes take the request's [`crate::auth::Viewer`] and authorize through it
//! before they change anything; reads that may reveal drafts take the viewer too.

pub mod accounts;
pub mod articles;
pub mod comments;
pub mod counts;
pub mod fields;
pub mod invalidation;
pub mod profiles;
pub mod retry;
pub mod tags;
pub mod users;

use chrono::{DateTime, SubsecRound, Utc};
use entity::user;
use sea_orm::sea_query::{Query, SimpleExpr};
use sea_orm::{ColumnTrait, DbErr, SqlErr};

pub use crate::db::{IdMap, IdSet};

/// The current time at the microsecond precision every backend stores.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Rows whose author column `author` does not name a banned user: a ban hides
/// everything the user wrote.
pub fn by_unbanned_author(author: impl ColumnTrait) -> SimpleExpr {
    author.not_in_subquery(
        Query::select()
            .column(user::Column::Id)
            .from(user::Entity)
            .and_where(user::Column::BannedAt.is_not_null())
            .to_owned(),
    )
}
