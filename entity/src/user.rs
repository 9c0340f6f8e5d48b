//! `users`: accounts, with their public profile and their credentials.

use sea_orm::entity::prelude::*;

/// One account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Public handle, as the user typed it.
    #[sea_orm(unique)]
    pub username: String,
    /// Email address as the user typed it.
    pub email: String,
    /// Lower-cased email: the unique key that makes emails unique ignoring case.
    #[sea_orm(unique)]
    pub email_key: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Free-text biography, empty when unset.
    pub bio: String,
    /// URL of the avatar image, if any.
    pub image: Option<String>,
    /// When the account was created.
    pub created_at: DateTimeUtc,
    /// When the account was last changed.
    pub updated_at: DateTimeUtc,
    /// `user`, `moderator` or `admin`.
    pub role: String,
    /// Tokens minted with an older epoch are revoked.
    pub session_epoch: i64,
    /// When the user was banned; `None` when not.
    pub banned_at: Option<DateTimeUtc>,
    /// When the role, epoch or ban last changed.
    pub access_changed_at: Option<DateTimeUtc>,
    /// Lower-cased username: the unique key that makes usernames unique
    /// ignoring case.
    #[sea_orm(unique)]
    pub username_key: String,
    /// How many users follow this user; kept by the writes that change it.
    pub followers_count: i64,
    /// How many users this user follows; kept by the writes that change it.
    pub following_count: i64,
    /// How many of this user's articles are published; kept by the writes
    /// that change it.
    pub articles_count: i64,
}

/// Relations of a user.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Articles the user wrote.
    #[sea_orm(has_many = "super::article::Entity")]
    Article,
    /// Comments the user wrote.
    #[sea_orm(has_many = "super::comment::Entity")]
    Comment,
}

impl Related<super::article::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Article.def()
    }
}

impl Related<super::comment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Comment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
