//! `articles`: published articles and drafts.

use sea_orm::entity::prelude::*;

/// One article. A draft has no `published_at`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// URL-safe unique name derived from the title.
    #[sea_orm(unique)]
    pub slug: String,
    /// Headline.
    pub title: String,
    /// One-line summary.
    pub description: String,
    /// Markdown body.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// The author's user id.
    pub author_id: i64,
    /// When the article was published; `None` while it is a draft.
    pub published_at: Option<DateTimeUtc>,
    /// When the article was created.
    pub created_at: DateTimeUtc,
    /// When the article was last changed.
    pub updated_at: DateTimeUtc,
    /// How many users favorited the article; kept by the writes that change it.
    pub favorites_count: i64,
    /// How many comments it has, leaving out those of banned users; kept by
    /// the writes that change it.
    pub comments_count: i64,
}

impl Model {
    /// Whether readers other than the author may see it.
    pub fn is_published(&self) -> bool {
        self.published_at.is_some()
    }
}

/// Relations of an article.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The author.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::AuthorId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    Author,
    /// Its comments.
    #[sea_orm(has_many = "super::comment::Entity")]
    Comment,
    /// Its tag links.
    #[sea_orm(has_many = "super::article_tag::Entity")]
    ArticleTag,
    /// Its favorites.
    #[sea_orm(has_many = "super::favorite::Entity")]
    Favorite,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Author.def()
    }
}

impl Related<super::comment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Comment.def()
    }
}

impl Related<super::article_tag::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ArticleTag.def()
    }
}

impl Related<super::favorite::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Favorite.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
