//! Creates `articles`.

use crate::columns::{id, reference, timestamp};
use crate::m20260101_000001_create_users_table::Users;
use sea_orm_migration::prelude::*;

/// Creates `articles` with indexes for slug lookups, an author's articles and
/// the newest-first listings.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Articles::Table)
                    .if_not_exists()
                    .col(id(Articles::Id))
                    .col(
                        ColumnDef::new(Articles::Slug)
                            .string_len(255)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Articles::Title).string_len(255).not_null())
                    .col(
                        ColumnDef::new(Articles::Description)
                            .string_len(1024)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Articles::Body).text().not_null())
                    .col(reference(Articles::AuthorId))
                    .col(timestamp(manager, Articles::PublishedAt).null())
                    .col(timestamp(manager, Articles::CreatedAt).not_null())
                    .col(timestamp(manager, Articles::UpdatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Articles::Table, Articles::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_created")
                    .table(Articles::Table)
                    .col((Articles::CreatedAt, IndexOrder::Desc))
                    .col((Articles::Id, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_author_created")
                    .table(Articles::Table)
                    .col(Articles::AuthorId)
                    .col((Articles::CreatedAt, IndexOrder::Desc))
                    .col((Articles::Id, IndexOrder::Desc))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Articles::Table).to_owned())
            .await
    }
}

/// Names in `articles`.
#[derive(DeriveIden)]
pub enum Articles {
    /// The table.
    Table,
    /// Key.
    Id,
    /// Unique URL name.
    Slug,
    /// Headline.
    Title,
    /// Summary.
    Description,
    /// Body.
    Body,
    /// Writer.
    AuthorId,
    /// Publication time, null for drafts.
    PublishedAt,
    /// Creation time.
    CreatedAt,
    /// Last change.
    UpdatedAt,
}
