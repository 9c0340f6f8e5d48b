//! Creates `article_tags`.

use crate::columns::reference;
use crate::m20260101_000003_create_articles_table::Articles;
use crate::m20260101_000004_create_tags_table::Tags;
use sea_orm_migration::prelude::*;

/// Creates `article_tags`, keyed by (article, tag) with an index for "articles tagged X".
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ArticleTags::Table)
                    .if_not_exists()
                    .col(reference(ArticleTags::ArticleId))
                    .col(reference(ArticleTags::TagId))
                    .primary_key(
                        Index::create()
                            .col(ArticleTags::ArticleId)
                            .col(ArticleTags::TagId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ArticleTags::Table, ArticleTags::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ArticleTags::Table, ArticleTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_tags_tag")
                    .table(ArticleTags::Table)
                    .col(ArticleTags::TagId)
                    .col(ArticleTags::ArticleId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ArticleTags::Table).to_owned())
            .await
    }
}

/// Names in `article_tags`.
#[derive(DeriveIden)]
pub enum ArticleTags {
    /// The table.
    Table,
    /// The article.
    ArticleId,
    /// The tag.
    TagId,
}
