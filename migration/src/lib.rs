//! Schema migrations for the Conduit Gateway database, one step per file.
//!
//! The same steps run on SQLite, PostgreSQL and MySQL/MariaDB; [`columns`]
//! holds the few column types that differ between them.

pub use sea_orm_migration::prelude::*;

mod columns;
pub mod counts;
mod m20260101_000001_create_users_table;
mod m20260101_000002_create_follows_table;
mod m20260101_000003_create_articles_table;
mod m20260101_000004_create_tags_table;
mod m20260101_000005_create_article_tags_table;
mod m20260101_000006_create_favorites_table;
mod m20260101_000007_create_comments_table;
mod m20260102_000001_add_account_controls_to_users;
mod m20260102_000002_create_revoked_tokens_table;
mod m20260103_000001_index_banned_users;
mod m20260104_000001_add_username_key_to_users;
mod m20260104_000002_normalize_email_keys;
mod m20261204_000001_maintain_counts;
mod m20261204_000002_order_tag_lists;

/// Every migration, in the order they apply.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_users_table::Migration),
            Box::new(m20260101_000002_create_follows_table::Migration),
            Box::new(m20260101_000003_create_articles_table::Migration),
            Box::new(m20260101_000004_create_tags_table::Migration),
            Box::new(m20260101_000005_create_article_tags_table::Migration),
            Box::new(m20260101_000006_create_favorites_table::Migration),
            Box::new(m20260101_000007_create_comments_table::Migration),
            Box::new(m20260102_000001_add_account_controls_to_users::Migration),
            Box::new(m20260102_000002_create_revoked_tokens_table::Migration),
            Box::new(m20260103_000001_index_banned_users::Migration),
            Box::new(m20260104_000001_add_username_key_to_users::Migration),
            Box::new(m20260104_000002_normalize_email_keys::Migration),
            Box::new(m20261204_000001_maintain_counts::Migration),
            Box::new(m20261204_000002_order_tag_lists::Migration),
        ]
    }
}
