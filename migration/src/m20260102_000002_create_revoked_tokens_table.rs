//! Creates `revoked_tokens`.

use crate::columns::{reference, timestamp};
use crate::m20260101_000001_create_users_table::Users;
use sea_orm_migration::prelude::*;

/// Creates `revoked_tokens`: revocation ids of tokens that were logged out.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RevokedTokens::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(RevokedTokens::RevocationId)
                            .string_len(128)
                            .not_null()
                            .primary_key(),
                    )
                    .col(reference(RevokedTokens::UserId))
                    .col(timestamp(manager, RevokedTokens::RevokedAt).not_null())
                    .col(timestamp(manager, RevokedTokens::ExpiresAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(RevokedTokens::Table, RevokedTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_revoked_tokens_revoked_at")
                    .table(RevokedTokens::Table)
                    .col(RevokedTokens::RevokedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RevokedTokens::Table).to_owned())
            .await
    }
}

/// Names in `revoked_tokens`.
#[derive(DeriveIden)]
pub enum RevokedTokens {
    /// The table.
    Table,
    /// Hex revocation id of the token's last block.
    RevocationId,
    /// Whose token it was.
    UserId,
    /// When it was revoked.
    RevokedAt,
    /// When the token would have expired anyway; the row can go after that.
    ExpiresAt,
}
