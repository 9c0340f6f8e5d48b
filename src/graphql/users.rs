//! Users and profiles: the `User` type, `viewer`, `user`, sign-up, sign-in,
//! profile changes and follows.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use super::articles::{ArticleConnection, ArticleOrder, ArticleStatus, article_connection};
use super::context::ContextExt;
use super::node::{NodeKind, global_id};
use crate::service::articles::ArticleFilter;
use crate::service::{profiles, users};

/// A person with an account: a public profile, plus private fields only they may read.
#[derive(Clone)]
pub struct User(pub user::Model);

#[Object]
impl User {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::User, self.0.id)
    }

    /// Public handle, unique; used in profile URLs.
    async fn username(&self) -> &str {
        &self.0.username
    }

    /// Free-text biography; empty when unset.
    async fn bio(&self) -> &str {
        &self.0.bio
    }

    /// URL of the avatar image, or null.
    async fn image(&self) -> Option<&str> {
        self.0.image.as_deref()
    }

    /// Email address. Private: only the user may read it; anyone else gets FORBIDDEN.
    async fn email(&self, ctx: &Context<'_>) -> Result<&str> {
        users::authorize_private_read(ctx.viewer()?, &self.0)?;
        Ok(&self.0.email)
    }

    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// How many users follow this user.
    async fn followers_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(ctx
            .loaders()?
            .follower_counts
            .load_one(self.0.id)
            .await?
            .unwrap_or(0))
    }

    /// How many users this user follows.
    async fn following_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(ctx
            .loaders()?
            .following_counts
            .load_one(self.0.id)
            .await?
            .unwrap_or(0))
    }

    /// Whether the signed-in viewer follows this user; false when anonymous.
    async fn viewer_is_following(&self, ctx: &Context<'_>) -> Result<bool> {
        match ctx.viewer_loaders() {
            Some(loaders) => Ok(loaders
                .following
                .load_one(self.0.id)
                .await?
                .unwrap_or(false)),
            None => Ok(false),
        }
    }

    /// Whether this user is the signed-in viewer.
    async fn is_viewer(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(ctx.viewer()?.user_id() == Some(self.0.id))
    }

    /// Articles this user wrote, newest first by default. `status: DRAFT` lists
    /// drafts, which only the user themself can see.
    #[allow(clippy::too_many_arguments)]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n articles, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Return articles after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n articles, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Return articles before this cursor.")] before: Option<String>,
        #[graphql(
            desc = "Published articles (default) or drafts.",
            default_with = "ArticleStatus::Published"
        )]
        status: ArticleStatus,
        #[graphql(desc = "Ordering; newest first by default.", default)] order_by: ArticleOrder,
    ) -> Result<ArticleConnection> {
        let filter = ArticleFilter {
            author: Some(self.0.username.clone()),
            drafts: status == ArticleStatus::Draft,
            ..Default::default()
        };
        article_connection(ctx, filter, (first, after, last, before), order_by).await
    }

    /// Articles this user favorited, newest first by default.
    async fn favorite_articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n articles, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Return articles after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n articles, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Return articles before this cursor.")] before: Option<String>,
    ) -> Result<ArticleConnection> {
        let filter = ArticleFilter {
            favorited_by: Some(self.0.username.clone()),
            ..Default::default()
        };
        article_connection(
            ctx,
            filter,
            (first, after, last, before),
            ArticleOrder::default(),
        )
        .await
    }
}

/// Root fields about users.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user, with their private fields; null when anonymous.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match ctx.viewer()?.user_id() {
            Some(id) => Ok(ctx.loaders()?.users.load_one(id).await?.map(User)),
            None => Ok(None),
        }
    }

    /// The public profile of the user with this username, or null.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's handle.")] username: String,
    ) -> Result<Option<User>> {
        Ok(users::find_by_username(&ctx.state()?.db, &username)
            .await?
            .map(User))
    }
}

/// Input of `register`.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Wanted handle: 1 to 32 letters, digits, `_` or `-`; unique.
    pub username: String,
    /// Email address; unique ignoring case.
    pub email: String,
    /// Password: 8 to 128 characters.
    pub password: String,
}

/// Result of `register`.
#[derive(SimpleObject)]
pub struct RegisterPayload {
    /// Bearer token for the new account; send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// The new account.
    pub user: User,
}

/// Input of `login`.
#[derive(InputObject)]
pub struct LoginInput {
    /// Email address the account was registered with (any case).
    pub email: String,
    /// The account's password.
    pub password: String,
}

/// Result of `login`.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// Bearer token; send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// The signed-in account.
    pub user: User,
}

/// Input of `updateViewer`: only the fields given change.
#[derive(InputObject, Default)]
pub struct UpdateViewerInput {
    /// New handle.
    pub username: Option<String>,
    /// New email address.
    pub email: Option<String>,
    /// New password: 8 to 128 characters.
    pub password: Option<String>,
    /// New biography.
    pub bio: Option<String>,
    /// New avatar URL; an empty string removes the image.
    pub image: Option<String>,
}

/// Result of `updateViewer`.
#[derive(SimpleObject)]
pub struct UpdateViewerPayload {
    /// The account after the change.
    pub user: User,
}

/// Input of `followUser` and `unfollowUser`.
#[derive(InputObject)]
pub struct FollowUserInput {
    /// Handle of the user to follow or stop following.
    pub username: String,
}

/// Result of `followUser`.
#[derive(SimpleObject)]
pub struct FollowUserPayload {
    /// The followed user.
    pub user: User,
}

/// Result of `unfollowUser`.
#[derive(SimpleObject)]
pub struct UnfollowUserPayload {
    /// The user no longer followed.
    pub user: User,
}

/// Mutations about accounts and follows.
#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Creates an account and signs it in. CONFLICT when the username or email is taken.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<RegisterPayload> {
        let registration = users::Registration {
            username: input.username,
            email: input.email,
            password: input.password,
        };
        let signed_in = users::register(ctx.state()?, registration).await?;
        Ok(RegisterPayload {
            token: signed_in.token,
            user: User(signed_in.user),
        })
    }

    /// Signs in with email and password. UNAUTHENTICATED when either is wrong.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<LoginPayload> {
        let signed_in = users::login(ctx.state()?, &input.email, &input.password).await?;
        Ok(LoginPayload {
            token: signed_in.token,
            user: User(signed_in.user),
        })
    }

    /// Changes the signed-in user's profile, email or password.
    async fn update_viewer(
        &self,
        ctx: &Context<'_>,
        input: UpdateViewerInput,
    ) -> Result<UpdateViewerPayload> {
        let changes = users::ProfileChanges {
            username: input.username,
            email: input.email,
            password: input.password,
            bio: input.bio,
            image: input.image,
        };
        let user = users::update_profile(ctx.state()?, ctx.viewer()?, changes).await?;
        Ok(UpdateViewerPayload { user: User(user) })
    }

    /// Follows a user; following someone already followed changes nothing.
    async fn follow_user(
        &self,
        ctx: &Context<'_>,
        input: FollowUserInput,
    ) -> Result<FollowUserPayload> {
        let user = profiles::follow(&ctx.state()?.db, ctx.viewer()?, &input.username).await?;
        Ok(FollowUserPayload { user: User(user) })
    }

    /// Stops following a user; a no-op when not following.
    async fn unfollow_user(
        &self,
        ctx: &Context<'_>,
        input: FollowUserInput,
    ) -> Result<UnfollowUserPayload> {
        let user = profiles::unfollow(&ctx.state()?.db, ctx.viewer()?, &input.username).await?;
        Ok(UnfollowUserPayload { user: User(user) })
    }
}
