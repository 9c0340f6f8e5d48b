//! Short names for every entity, for `use entity::prelude::*`.

pub use super::article::Entity as Article;
pub use super::article_tag::Entity as ArticleTag;
pub use super::comment::Entity as Comment;
pub use super::counter::Entity as Counter;
pub use super::favorite::Entity as Favorite;
pub use super::follow::Entity as Follow;
pub use super::revoked_token::Entity as RevokedToken;
pub use super::tag::Entity as Tag;
pub use super::user::Entity as User;
