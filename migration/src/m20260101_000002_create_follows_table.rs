//! Creates `follows`.

use crate::columns::{reference, timestamp};
use crate::m20260101_000001_create_users_table::Users;
use sea_orm_migration::prelude::*;

/// Creates `follows`, keyed by (follower, followee) with an index for "who follows X".
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Follows::Table)
                    .if_not_exists()
                    .col(reference(Follows::FollowerId))
                    .col(reference(Follows::FolloweeId))
                    .col(timestamp(manager, Follows::CreatedAt).not_null())
                    .primary_key(
                        Index::create()
                            .col(Follows::FollowerId)
                            .col(Follows::FolloweeId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Follows::Table, Follows::FollowerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Follows::Table, Follows::FolloweeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_follows_followee")
                    .table(Follows::Table)
                    .col(Follows::FolloweeId)
                    .col(Follows::FollowerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Follows::Table).to_owned())
            .await
    }
}

/// Names in `follows`.
#[derive(DeriveIden)]
pub enum Follows {
    /// The table.
    Table,
    /// Who follows.
    FollowerId,
    /// Who is followed.
    FolloweeId,
    /// Since when.
    CreatedAt,
}
