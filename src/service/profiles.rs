//! Follows between users and the counts that come from them.

use entity::{follow, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};

use super::{IdMap, IdSet, is_unique_violation, now, users};
use crate::auth::capability::ResourceKind;
use crate::auth::{Action, Capability, Viewer};
use crate::error::{Error, Result};

/// Makes the viewer follow `username`; following twice is the same as once.
pub async fn follow(
    db: &DatabaseConnection,
    viewer: &Viewer,
    username: &str,
) -> Result<user::Model> {
    let me = viewer.require_user()?;
    let target = users::find_profile(db, username)
        .await?
        .ok_or(Error::NotFound("user"))?;
    viewer.authorize(&Capability::new(
        Action::UserFollow,
        ResourceKind::User,
        target.id,
        me,
    ))?;
    if target.id == me {
        return Err(Error::invalid_field(
            "username",
            "you cannot follow yourself",
        ));
    }
    let row = follow::ActiveModel {
        follower_id: Set(me),
        followee_id: Set(target.id),
        created_at: Set(now()),
    };
    match follow::Entity::insert(row).exec_without_returning(db).await {
        Ok(_) => Ok(target),
        Err(err) if is_unique_violation(&err) => Ok(target),
        Err(err) => Err(err.into()),
    }
}

/// Makes the viewer stop following `username`; a no-op when not following.
pub async fn unfollow(
    db: &DatabaseConnection,
    viewer: &Viewer,
    username: &str,
) -> Result<user::Model> {
    let me = viewer.require_user()?;
    let target = users::find_profile(db, username)
        .await?
        .ok_or(Error::NotFound("user"))?;
    viewer.authorize(&Capability::new(
        Action::UserFollow,
        ResourceKind::User,
        target.id,
        me,
    ))?;
    follow::Entity::delete_many()
        .filter(follow::Column::FollowerId.eq(me))
        .filter(follow::Column::FolloweeId.eq(target.id))
        .exec(db)
        .await?;
    Ok(target)
}

/// Which of `ids` the user `follower` follows. One statement.
pub async fn followed_among(db: &DatabaseConnection, follower: i64, ids: &[i64]) -> Result<IdSet> {
    let rows: Vec<i64> = follow::Entity::find()
        .select_only()
        .column(follow::Column::FolloweeId)
        .filter(follow::Column::FollowerId.eq(follower))
        .filter(follow::Column::FolloweeId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// How many followers each of `ids` has. One statement.
pub async fn follower_counts(db: &DatabaseConnection, ids: &[i64]) -> Result<IdMap<i64>> {
    count_by(db, follow::Column::FolloweeId, ids).await
}

/// How many users each of `ids` follows. One statement.
pub async fn following_counts(db: &DatabaseConnection, ids: &[i64]) -> Result<IdMap<i64>> {
    count_by(db, follow::Column::FollowerId, ids).await
}

async fn count_by(db: &DatabaseConnection, key: follow::Column, ids: &[i64]) -> Result<IdMap<i64>> {
    let rows: Vec<(i64, i64)> = follow::Entity::find()
        .select_only()
        .column(key)
        .column_as(key.count(), "n")
        .filter(key.is_in(ids.iter().copied()))
        .group_by(key)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
