//! Makes usernames unique ignoring case.

use crate::m20260101_000001_create_users_table::Users;
use sea_orm_migration::prelude::*;

/// Adds `users.username_key`, the lower-cased username, filled in for every
/// existing account, and a unique index on it: `Jake` and `jake` are one
/// name. The index fails where two existing usernames differ only in case
/// (on PostgreSQL and SQLite; MySQL and MariaDB compare them ignoring case
/// already): rename one, and the step runs again from where it stopped,
/// since it adds the column only when it is missing.
#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_users_username_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // PostgreSQL runs a step in a transaction; the others may have added
        // the column before a failed index.
        if !manager.has_column("users", "username_key").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(
                            ColumnDef::new(UsernameKey::UsernameKey)
                                .string_len(64)
                                .not_null()
                                .default(""),
                        )
                        .to_owned(),
                )
                .await?;
        }
        let fill = Query::update()
            .table(Users::Table)
            .value(
                UsernameKey::UsernameKey,
                Func::lower(Expr::col(Users::Username)),
            )
            .to_owned();
        manager.exec_stmt(fill).await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Users::Table)
                    .col(UsernameKey::UsernameKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Users::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(UsernameKey::UsernameKey)
                    .to_owned(),
            )
            .await
    }
}

/// The column this step adds.
#[derive(DeriveIden)]
pub enum UsernameKey {
    /// The lower-cased username.
    UsernameKey,
}
