//! Users read as profiles: every column but the password hash, read back by
//! position ([`super::columns`]). Lists of authors and commenters need no
//! hash, and reading one for each would cost time and expose it for nothing.

use std::collections::HashMap;

use entity::user;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::columns::Columns;
use crate::error::Result;

/// The profile's columns, in the order [`profile_at`] reads them; the
/// password hash is selected as an empty string.
pub const PROFILE_COLUMNS: [user::Column; 17] = [
    user::Column::Id,
    user::Column::Username,
    user::Column::Email,
    user::Column::EmailKey,
    user::Column::PasswordHash,
    user::Column::Bio,
    user::Column::Image,
    user::Column::CreatedAt,
    user::Column::UpdatedAt,
    user::Column::Role,
    user::Column::SessionEpoch,
    user::Column::BannedAt,
    user::Column::AccessChangedAt,
    user::Column::UsernameKey,
    user::Column::FollowersCount,
    user::Column::FollowingCount,
    user::Column::ArticlesCount,
];

/// Adds [`PROFILE_COLUMNS`] of the `users` table to `query`, the password
/// hash as an empty string.
pub fn select_profile(query: &mut SelectStatement) {
    for column in PROFILE_COLUMNS {
        match column {
            user::Column::PasswordHash => {
                query.expr_as(Expr::cust("''"), Alias::new("password_hash"))
            }
            column => query.column((user::Entity, column)),
        };
    }
}

/// The user whose [`PROFILE_COLUMNS`] start at column `first` of `row`, with
/// an empty password hash.
pub fn profile_at(row: &Columns<'_>, first: usize) -> Result<user::Model, DbErr> {
    Ok(user::Model {
        id: row.get(first)?,
        username: row.get(first + 1)?,
        email: row.get(first + 2)?,
        email_key: row.get(first + 3)?,
        password_hash: row.get(first + 4)?,
        bio: row.get(first + 5)?,
        image: row.get(first + 6)?,
        created_at: row.get(first + 7)?,
        updated_at: row.get(first + 8)?,
        role: row.get(first + 9)?,
        session_epoch: row.get(first + 10)?,
        banned_at: row.get(first + 11)?,
        access_changed_at: row.get(first + 12)?,
        username_key: row.get(first + 13)?,
        followers_count: row.get(first + 14)?,
        following_count: row.get(first + 15)?,
        articles_count: row.get(first + 16)?,
    })
}

/// The profiles of the users with `ids`, by id. One statement.
pub async fn profiles_by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i64, user::Model>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = Query::select();
    select_profile(&mut query);
    query
        .from(user::Entity)
        .and_where(Expr::col((user::Entity, user::Column::Id)).is_in(ids.iter().copied()));
    let statement = db.get_database_backend().build(&query);
    let rows = db.query_all_raw(statement).await?;
    let mut profiles = HashMap::with_capacity(rows.len());
    for row in &rows {
        let profile = profile_at(&Columns::new(row), 0)?;
        profiles.insert(profile.id, profile);
    }
    Ok(profiles)
}
