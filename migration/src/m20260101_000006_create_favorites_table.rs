//! Creates `favorites`.

use crate::columns::{reference, timestamp};
use crate::m20260101_000001_create_users_table::Users;
use crate::m20260101_000003_create_articles_table::Articles;
use sea_orm_migration::prelude::*;

/// Creates `favorites`, keyed by (user, article) with an index for an article's favorites.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Favorites::Table)
                    .if_not_exists()
                    .col(reference(Favorites::UserId))
                    .col(reference(Favorites::ArticleId))
                    .col(timestamp(manager, Favorites::CreatedAt).not_null())
                    .primary_key(
                        Index::create()
                            .col(Favorites::UserId)
                            .col(Favorites::ArticleId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Favorites::Table, Favorites::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Favorites::Table, Favorites::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_favorites_article")
                    .table(Favorites::Table)
                    .col(Favorites::ArticleId)
                    .col(Favorites::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Favorites::Table).to_owned())
            .await
    }
}

/// Names in `favorites`.
#[derive(DeriveIden)]
pub enum Favorites {
    /// The table.
    Table,
    /// Who favorited.
    UserId,
    /// What was favorited.
    ArticleId,
    /// When.
    CreatedAt,
}
