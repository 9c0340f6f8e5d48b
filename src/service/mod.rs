//! Domain services: the only code that touches the database, runs transactions
//! and publishes events. Nothing here knows about GraphQL or HTTP.
//!
//! Writes take the request's [`crate::auth::Viewer`] and authorize through it
//! before they change anything; reads that may reveal drafts take the viewer too.

pub mod accounts;
pub mod article_relations;
pub mod articles;
pub mod columns;
pub mod comments;
pub mod counts;
pub mod fields;
pub mod invalidation;
pub mod list_reads;
pub mod pagination;
pub mod profile_rows;
pub mod profiles;
pub mod retry;
pub mod tag_names;
pub mod tags;
pub mod users;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use entity::user;
use sea_orm::sea_query::{Query, SimpleExpr};
use sea_orm::{ColumnTrait, DbErr, SqlErr};

/// Values by database id. A map holds the ids of one list, at most a page
/// long, so they are hashed with a fast hash rather than one built to resist
/// keys chosen against it.
pub type IdMap<V> = HashMap<i64, V, rustc_hash::FxBuildHasher>;

/// A set of database ids; see [`IdMap`].
pub type IdSet = HashSet<i64, rustc_hash::FxBuildHasher>;

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
