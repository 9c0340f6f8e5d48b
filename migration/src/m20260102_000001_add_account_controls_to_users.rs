//! Adds roles, session epochs and bans to `users`.

use crate::columns::timestamp;
use crate::m20260101_000001_create_users_table::Users;
use sea_orm_migration::prelude::*;

/// Adds `role`, `session_epoch`, `banned_at` and `access_changed_at` to `users`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds a single column per ALTER TABLE.
        let columns = [
            ColumnDef::new(AccountControls::Role)
                .string_len(16)
                .not_null()
                .default("user")
                .to_owned(),
            ColumnDef::new(AccountControls::SessionEpoch)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            timestamp(manager, AccountControls::BannedAt)
                .null()
                .to_owned(),
            timestamp(manager, AccountControls::AccessChangedAt)
                .null()
                .to_owned(),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_users_access_changed")
                    .table(Users::Table)
                    .col(AccountControls::AccessChangedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_users_access_changed")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            AccountControls::AccessChangedAt,
            AccountControls::BannedAt,
            AccountControls::SessionEpoch,
            AccountControls::Role,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// The new columns of `users`.
#[derive(DeriveIden)]
pub enum AccountControls {
    /// `user`, `moderator` or `admin`.
    Role,
    /// Bumped to end every session of the user at once.
    SessionEpoch,
    /// When the user was banned; null when not.
    BannedAt,
    /// When the role, epoch or ban last changed; tokens older than this are re-checked.
    AccessChangedAt,
}
