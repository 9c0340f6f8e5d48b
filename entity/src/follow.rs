//! `follows`: who follows whom.

use sea_orm::entity::prelude::*;

/// `follower_id` follows `followee_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follows")]
pub struct Model {
    /// The user who follows.
    #[sea_orm(primary_key, auto_increment = false)]
    pub follower_id: i64,
    /// The user being followed.
    #[sea_orm(primary_key, auto_increment = false)]
    pub followee_id: i64,
    /// When the follow began.
    pub created_at: DateTimeUtc,
}

/// Relations of a follow.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The follower.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::FollowerId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    Follower,
    /// The followee.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::FolloweeId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    Followee,
}

impl ActiveModelBehavior for ActiveModel {}
