//! Creates `users`.

use crate::columns::{id, timestamp};
use sea_orm_migration::prelude::*;

/// Creates `users`, unique on username and on lower-cased email.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(id(Users::Id))
                    .col(
                        ColumnDef::new(Users::Username)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Users::Email).string_len(254).not_null())
                    .col(
                        ColumnDef::new(Users::EmailKey)
                            .string_len(254)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Users::PasswordHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Users::Bio).text().not_null())
                    .col(ColumnDef::new(Users::Image).string_len(2048).null())
                    .col(timestamp(manager, Users::CreatedAt).not_null())
                    .col(timestamp(manager, Users::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

/// Names in `users`.
#[derive(DeriveIden)]
pub enum Users {
    /// The table.
    Table,
    /// Key.
    Id,
    /// Handle.
    Username,
    /// Email as typed.
    Email,
    /// Lower-cased email.
    EmailKey,
    /// argon2id hash.
    PasswordHash,
    /// Biography.
    Bio,
    /// Avatar URL.
    Image,
    /// Creation time.
    CreatedAt,
    /// Last change.
    UpdatedAt,
}
