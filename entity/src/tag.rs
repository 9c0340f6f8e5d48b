//! `tags`: the distinct tag names.

use sea_orm::entity::prelude::*;

/// One tag name.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tags")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tag as shown, unique.
    #[sea_orm(unique)]
    pub name: String,
    /// How many published articles by authors who are not banned carry the
    /// tag; kept by the writes that change it.
    pub article_count: i64,
}

/// Relations of a tag.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Links to the articles carrying it.
    #[sea_orm(has_many = "super::article_tag::Entity")]
    ArticleTag,
}

impl Related<super::article_tag::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ArticleTag.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
