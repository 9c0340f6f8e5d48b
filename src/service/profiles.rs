//! Follows between users and the counts that come from them.

use entity::{follow, user};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};

use super::{IdMap, IdSet, counts, is_unique_violation, now, users};
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
    let followee = target.id;
    let added = db
        .transaction::<_, (), Error>(|txn| {
            Box::pin(async move {
                follow::Entity::insert(row)
                    .exec_without_returning(txn)
                    .await?;
                counts::follows_changed(txn, me, followee, 1).await
            })
        })
        .await
        .map_err(Error::from);
    match added {
        Ok(()) => Ok(target),
        // Followed already: twice is the same as once.
        Err(Error::Database(err)) if is_unique_violation(&err) => Ok(target),
        Err(err) => Err(err),
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
    let followee = target.id;
    db.transaction::<_, (), Error>(|txn| {
        Box::pin(async move {
            let removed = follow::Entity::delete_many()
                .filter(follow::Column::FollowerId.eq(me))
                .filter(follow::Column::FolloweeId.eq(followee))
                .exec(txn)
                .await?
                .rows_affected;
            if removed > 0 {
                counts::follows_changed(txn, me, followee, -(removed as i64)).await?;
            }
            Ok(())
        })
    })
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

/// How many followers each of `ids` has, from the maintained counts. One
/// statement.
pub async fn follower_counts(db: &DatabaseConnection, ids: &[i64]) -> Result<IdMap<i64>> {
    counts_of(db, user::Column::FollowersCount, ids).await
}

/// How many users each of `ids` follows, from the maintained counts. One
/// statement.
pub async fn following_counts(db: &DatabaseConnection, ids: &[i64]) -> Result<IdMap<i64>> {
    counts_of(db, user::Column::FollowingCount, ids).await
}

async fn counts_of(
    db: &DatabaseConnection,
    count: user::Column,
    ids: &[i64],
) -> Result<IdMap<i64>> {
    let rows: Vec<(i64, i64)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(count)
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
