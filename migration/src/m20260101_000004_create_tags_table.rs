//! Creates `tags`.

use crate::columns::id;
use sea_orm_migration::prelude::*;

/// Creates `tags`, unique by name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .if_not_exists()
                    .col(id(Tags::Id))
                    .col(
                        ColumnDef::new(Tags::Name)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Tags::Table).to_owned())
            .await
    }
}

/// Names in `tags`.
#[derive(DeriveIden)]
pub enum Tags {
    /// The table.
    Table,
    /// Key.
    Id,
    /// The tag.
    Name,
}
