//! Follows between users and the counts that come from them.

use entity::{follow, user};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};

use super::retry::retry_transient;
use super::{IdSet, counts, is_unique_violation, now, users};
use crate::auth::capability::ResourceKind;
use crate::auth::{Action, Capability, Viewer};
use crate::cache::Generation;
use crate::error::{Error, Result};
use crate::state::AppState;
use futures_util::TryFutureExt;

/// Makes the viewer follow `username`; following twice is the same as once.
/// The followed user as it is after the change.
pub async fn follow(state: &AppState, viewer: &Viewer, username: &str) -> Result<user::Model> {
    let db = &state.db;
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
    let added = retry_transient(|| {
        let row = row.clone();
        db.transaction::<_, (), Error>(|txn| {
            Box::pin(async move {
                follow::Entity::insert(row)
                    .exec_without_returning(txn)
                    .await?;
                counts::follows_changed(txn, me, followee, 1).await
            })
        })
        .map_err(Error::from)
    })
    .await;
    match added {
        // Followed already: twice is the same as once.
        Err(Error::Database(err)) if is_unique_violation(&err) => {}
        other => other?,
    }
    after_change(state, me, target).await
}

/// Makes the viewer stop following `username`; a no-op when not following.
/// The user as it is after the change.
pub async fn unfollow(state: &AppState, viewer: &Viewer, username: &str) -> Result<user::Model> {
    let db = &state.db;
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
    retry_transient(|| {
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
        .map_err(Error::from)
    })
    .await?;
    after_change(state, me, target).await
}

/// After `follower` started or stopped following `target`: both profiles'
/// counts changed, so their cached rows go; `target` as it is now. One
/// statement.
async fn after_change(state: &AppState, follower: i64, target: user::Model) -> Result<user::Model> {
    let mut rows = users::by_ids(&state.db, &[follower, target.id]).await?;
    let generations: Vec<Generation> = rows
        .values()
        .map(|row| Generation::profile(&row.username))
        .collect();
    state.cache.invalidate(&generations).await;
    Ok(rows.remove(&target.id).unwrap_or(target))
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
