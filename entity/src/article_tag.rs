//! `article_tags`: which article carries which tag.

use sea_orm::entity::prelude::*;

/// Article `article_id` is tagged `tag_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_tags")]
pub struct Model {
    /// The article.
    #[sea_orm(primary_key, auto_increment = false)]
    pub article_id: i64,
    /// The tag.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag_id: i64,
    /// The article's creation time, copied: a tag's list is ordered by it.
    pub article_created_at: DateTimeUtc,
    /// Whether the article is published, copied: a tag's list shows only
    /// published articles.
    pub article_published: bool,
}

/// Relations of a tag link.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The article.
    #[sea_orm(
        belongs_to = "super::article::Entity",
        from = "Column::ArticleId",
        to = "super::article::Column::Id",
        on_delete = "Cascade"
    )]
    Article,
    /// The tag.
    #[sea_orm(
        belongs_to = "super::tag::Entity",
        from = "Column::TagId",
        to = "super::tag::Column::Id",
        on_delete = "Cascade"
    )]
    Tag,
}

impl Related<super::article::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Article.def()
    }
}

impl Related<super::tag::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tag.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
