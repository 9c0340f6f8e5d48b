//! Counts kept beside the rows they count: favorites and comments per
//! article, follows and published articles per user, published articles per
//! tag, and all published articles.
//!
//! The writes that change a count change it in their own transaction, so a
//! read takes the number from one row instead of counting rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::counts::{PUBLISHED_ARTICLES, RECOUNT};

/// Adds the count columns and the `counters` table, then fills them in.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns added: table, column.
const COUNT_COLUMNS: [(&str, &str); 6] = [
    ("articles", "favorites_count"),
    ("articles", "comments_count"),
    ("users", "followers_count"),
    ("users", "following_count"),
    ("users", "articles_count"),
    ("tags", "article_count"),
];

/// Counts of the whole database, one row per count.
#[derive(DeriveIden)]
enum Counters {
    /// The table.
    Table,
    /// What is counted.
    Name,
    /// The count.
    Value,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Name,
    ArticleCount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for (table, column) in COUNT_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(
                            ColumnDef::new(Alias::new(column))
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .to_owned(),
                )
                .await?;
        }
        // The popular tags, most used first, read from the front of an index.
        manager
            .create_index(
                Index::create()
                    .name("idx_tags_article_count")
                    .table(Tags::Table)
                    .col(Tags::ArticleCount)
                    .col(Tags::Name)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Counters::Table)
                    .col(
                        ColumnDef::new(Counters::Name)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Counters::Value)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(Counters::Table)
            .columns([Counters::Name, Counters::Value])
            .values_panic([PUBLISHED_ARTICLES.into(), 0.into()])
            .to_owned();
        let db = manager.get_connection();
        db.execute(&insert).await?;
        for statement in RECOUNT {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Counters::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tags_article_count")
                    .table(Tags::Table)
                    .to_owned(),
            )
            .await?;
        for (table, column) in COUNT_COLUMNS.into_iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
