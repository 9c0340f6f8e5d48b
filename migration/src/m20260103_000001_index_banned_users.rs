//! Indexes `users.banned_at`.

use crate::m20260101_000001_create_users_table::Users;
use crate::m20260102_000001_add_account_controls_to_users::AccountControls;
use sea_orm_migration::prelude::*;

/// Indexes `users.banned_at`: every public list leaves out banned authors with
/// `author_id NOT IN (SELECT id FROM users WHERE banned_at IS NOT NULL)`, which
/// without it scans the whole users table on every read.
#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_users_banned_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Users::Table)
                    .col(AccountControls::BannedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Users::Table).to_owned())
            .await
    }
}
