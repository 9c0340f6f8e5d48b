//! Each tag link carries its article's creation time and whether it is
//! published, so that a tag's list reads its newest published articles from
//! the front of one index instead of walking every article.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::columns;
use crate::counts::LISTING_COPIES;

/// Adds `article_tags.article_created_at` and `article_tags.article_published`
/// with the index a tag's list is read through, and fills them in.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ArticleTags {
    Table,
    TagId,
    ArticleId,
    ArticleCreatedAt,
    ArticlePublished,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Null until filled in below: SQLite adds no NOT NULL column
        // without a default, and every link written from here on has one.
        manager
            .alter_table(
                Table::alter()
                    .table(ArticleTags::Table)
                    .add_column(columns::timestamp(manager, ArticleTags::ArticleCreatedAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ArticleTags::Table)
                    .add_column(
                        ColumnDef::new(ArticleTags::ArticlePublished)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(LISTING_COPIES)
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_tags_listing")
                    .table(ArticleTags::Table)
                    .col(ArticleTags::TagId)
                    .col(ArticleTags::ArticlePublished)
                    .col(ArticleTags::ArticleCreatedAt)
                    .col(ArticleTags::ArticleId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_article_tags_listing")
                    .table(ArticleTags::Table)
                    .to_owned(),
            )
            .await?;
        for column in [ArticleTags::ArticlePublished, ArticleTags::ArticleCreatedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ArticleTags::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
