//! Creates `comments`.

use crate::columns::{id, reference, timestamp};
use crate::m20260101_000001_create_users_table::Users;
use crate::m20260101_000003_create_articles_table::Articles;
use sea_orm_migration::prelude::*;

/// Creates `comments` with an index for an article's comments in time order.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .if_not_exists()
                    .col(id(Comments::Id))
                    .col(reference(Comments::ArticleId))
                    .col(reference(Comments::AuthorId))
                    .col(ColumnDef::new(Comments::Body).text().not_null())
                    .col(timestamp(manager, Comments::CreatedAt).not_null())
                    .col(timestamp(manager, Comments::UpdatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Comments::Table, Comments::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Comments::Table, Comments::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_comments_article_created")
                    .table(Comments::Table)
                    .col(Comments::ArticleId)
                    .col(Comments::CreatedAt)
                    .col(Comments::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_comments_author")
                    .table(Comments::Table)
                    .col(Comments::AuthorId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Comments::Table).to_owned())
            .await
    }
}

/// Names in `comments`.
#[derive(DeriveIden)]
pub enum Comments {
    /// The table.
    Table,
    /// Key.
    Id,
    /// The article.
    ArticleId,
    /// The commenter.
    AuthorId,
    /// Text.
    Body,
    /// Written at.
    CreatedAt,
    /// Changed at.
    UpdatedAt,
}
