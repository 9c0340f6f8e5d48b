//! DataLoaders: every relation a list of objects needs is fetched in one batched
//! statement per field, whatever the page size.
//!
//! [`Loaders`] serve every request alike and are built once; [`ViewerLoaders`]
//! answer for one viewer and are built per request.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{article, user};
use sea_orm::DatabaseConnection;

use crate::error::{Error, Result};
use crate::service::{articles, comments, profiles, tags, users};

/// Declares a loader keyed by id whose values come from one service call.
macro_rules! id_loader {
    ($(#[$doc:meta])* $name:ident, $value:ty, $fetch:path) => {
        $(#[$doc])*
        pub struct $name(DatabaseConnection);

        impl Loader<i64> for $name {
            type Value = $value;
            type Error = Error;

            async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, $value>> {
                $fetch(&self.0, keys).await
            }
        }
    };
}

id_loader!(
    /// Users by id.
    UserLoader, user::Model, users::by_ids);
id_loader!(
    /// Articles by id (visibility is checked by the caller).
    ArticleLoader, article::Model, articles::by_ids);
id_loader!(
    /// Tag names by article id.
    ArticleTagsLoader, Vec<String>, tags::for_articles);
id_loader!(
    /// Favorite counts by article id.
    FavoriteCountLoader, i64, articles::favorite_counts);
id_loader!(
    /// Comment counts by article id.
    CommentCountLoader, i64, comments::counts);
id_loader!(
    /// Follower counts by user id.
    FollowerCountLoader, i64, profiles::follower_counts);
id_loader!(
    /// Following counts by user id.
    FollowingCountLoader, i64, profiles::following_counts);

/// Whether the viewer favorited each article.
pub struct ViewerFavoritedLoader {
    db: DatabaseConnection,
    viewer_id: i64,
}

impl Loader<i64> for ViewerFavoritedLoader {
    type Value = bool;
    type Error = Error;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, bool>> {
        let set = articles::favorited_among(&self.db, self.viewer_id, keys).await?;
        Ok(keys.iter().map(|k| (*k, set.contains(k))).collect())
    }
}

/// Whether the viewer follows each user.
pub struct ViewerFollowingLoader {
    db: DatabaseConnection,
    viewer_id: i64,
}

impl Loader<i64> for ViewerFollowingLoader {
    type Value = bool;
    type Error = Error;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, bool>> {
        let set = profiles::followed_among(&self.db, self.viewer_id, keys).await?;
        Ok(keys.iter().map(|k| (*k, set.contains(k))).collect())
    }
}

/// Loaders that answer the same for every viewer.
pub struct Loaders {
    /// Users by id.
    pub users: DataLoader<UserLoader>,
    /// Articles by id.
    pub articles: DataLoader<ArticleLoader>,
    /// Tags by article id.
    pub article_tags: DataLoader<ArticleTagsLoader>,
    /// Favorite counts by article id.
    pub favorite_counts: DataLoader<FavoriteCountLoader>,
    /// Comment counts by article id.
    pub comment_counts: DataLoader<CommentCountLoader>,
    /// Follower counts by user id.
    pub follower_counts: DataLoader<FollowerCountLoader>,
    /// Following counts by user id.
    pub following_counts: DataLoader<FollowingCountLoader>,
}

impl Loaders {
    /// Builds every loader over one connection pool.
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            users: DataLoader::new(UserLoader(db.clone()), tokio::spawn),
            articles: DataLoader::new(ArticleLoader(db.clone()), tokio::spawn),
            article_tags: DataLoader::new(ArticleTagsLoader(db.clone()), tokio::spawn),
            favorite_counts: DataLoader::new(FavoriteCountLoader(db.clone()), tokio::spawn),
            comment_counts: DataLoader::new(CommentCountLoader(db.clone()), tokio::spawn),
            follower_counts: DataLoader::new(FollowerCountLoader(db.clone()), tokio::spawn),
            following_counts: DataLoader::new(FollowingCountLoader(db.clone()), tokio::spawn),
        }
    }
}

/// Loaders for one signed-in viewer's own state.
pub struct ViewerLoaders {
    /// Whether the viewer favorited an article.
    pub favorited: DataLoader<ViewerFavoritedLoader>,
    /// Whether the viewer follows a user.
    pub following: DataLoader<ViewerFollowingLoader>,
}

impl ViewerLoaders {
    /// Loaders for `viewer_id`.
    pub fn new(db: &DatabaseConnection, viewer_id: i64) -> Self {
        Self {
            favorited: DataLoader::new(
                ViewerFavoritedLoader {
                    db: db.clone(),
                    viewer_id,
                },
                tokio::spawn,
            ),
            following: DataLoader::new(
                ViewerFollowingLoader {
                    db: db.clone(),
                    viewer_id,
                },
                tokio::spawn,
            ),
        }
    }
}
