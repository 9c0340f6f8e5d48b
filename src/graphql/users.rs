//! Users and profiles: the `User` type, `viewer`, `user`, sign-up, sign-in,
//! profile changes and follows.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use super::accounts::UserRole;
use super::articles::{
    Article, ArticleOrder, ArticleStatus, PageArgs, list_reads, page_request, read_page_args,
};
use super::connection::{ArticleConnection, ListSource, shows_page, unread};
use super::context::ContextExt;
use super::loaders::{ArticleSet, UserSet, pages_of_objects};
use super::node::{NodeKind, global_id};
use super::ready::{Arguments, FieldArguments, FieldLoad, Ready, ReadyObject};
use crate::auth::{Role, Viewer};
use crate::db::pagination::PageRequest;
use crate::error::Error;
use crate::service::IdMap;
use crate::service::articles::{self, ArticleFilter, Bodies, Relations, UserArticles};
use crate::service::counts::RowCounts;
use crate::service::{profiles, users};
use crate::state::AppState;
use futures_util::future::BoxFuture;

/// A user row as the API shows it, with who reads it. Cheap to clone: the row
/// is shared, as every article of a list by the same author shows it.
#[derive(Clone)]
pub struct User {
    row: Arc<user::Model>,
    set: Arc<UserSet>,
    /// Who reads this object when it is not the request's viewer: the account
    /// that `register` or `login` has just signed in.
    signed_in: Option<Viewer>,
}

impl User {
    /// `row` as a member of `set`, read by the request's viewer.
    pub fn new(row: user::Model, set: Arc<UserSet>) -> Self {
        Self {
            row: Arc::new(row),
            set,
            signed_in: None,
        }
    }

    /// The user's database id.
    pub fn user_id(&self) -> i64 {
        self.row.id
    }

    /// The role as `role` answers it.
    fn api_role(&self) -> UserRole {
        Role::parse(&self.row.role).unwrap_or_default().into()
    }

    /// The user as seen by the session `register` or `login` just opened.
    fn signed_in(row: user::Model, token: &str, ctx: &Context<'_>) -> Result<Self> {
        let session = ctx.state()?.tokens.verify(token)?;
        let mut user = UserSet::object(row);
        user.signed_in = Some(Viewer::Signed(session));
        Ok(user)
    }
}

/// A person with an account: a public profile, plus private fields only they may read.
#[Object]
impl User {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::User, self.row.id)
    }

    /// Public handle, unique; used in profile URLs.
    async fn username(&self) -> &str {
        &self.row.username
    }

    /// Free-text biography; empty when unset.
    async fn bio(&self) -> &str {
        &self.row.bio
    }

    /// URL of the avatar image, or null.
    async fn image(&self) -> Option<&str> {
        self.row.image.as_deref()
    }

    /// Email address. Private: only the user may read it; for anyone else
    /// it is null, with a FORBIDDEN error (UNAUTHENTICATED without a token)
    /// at its path, and the rest of the user is answered.
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let viewer = match &self.signed_in {
            Some(viewer) => viewer,
            None => ctx.viewer()?,
        };
        users::authorize_private_read(viewer, &self.row)?;
        Ok(Some(&self.row.email))
    }

    /// What the user may do beyond their own data.
    async fn role(&self) -> UserRole {
        self.api_role()
    }

    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// How many users follow this user.
    async fn followers_count(&self) -> i64 {
        self.row.followers_count
    }

    /// How many users this user follows.
    async fn following_count(&self) -> i64 {
        self.row.following_count
    }

    /// Whether the signed-in viewer follows this user; false when anonymous.
    async fn viewer_is_following(&self, ctx: &Context<'_>) -> Result<bool> {
        let Some(me) = ctx.viewer()?.user_id() else {
            return Ok(false);
        };
        let (db, set) = (&ctx.state()?.db, &self.set);
        let fetch = || profiles::followed_among(db, me, set.ids());
        set.viewer_following
            .contains(self.row.id, set.ids(), fetch)
            .await
            .map_err(Into::into)
    }

    /// Whether this user is the signed-in viewer.
    async fn is_viewer(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(ctx.viewer()?.user_id() == Some(self.row.id))
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
        #[graphql(desc = "PUBLISHED (the default) or DRAFT.")] status: Option<ArticleStatus>,
        #[graphql(desc = "Ordering; newest first by default.")] order_by: Option<ArticleOrder>,
    ) -> Result<ArticleConnection> {
        let list = listed_by_status(status);
        // Boxed, so that every field of `User` does not carry this future's size.
        Box::pin(self.article_list(
            ctx,
            list,
            (first, after, last, before),
            order_by.unwrap_or_default(),
        ))
        .await
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
        // Boxed, so that every field of `User` does not carry this future's size.
        Box::pin(self.article_list(
            ctx,
            UserArticles::Favorites,
            (first, after, last, before),
            ArticleOrder::default(),
        ))
        .await
    }
}

/// The arguments of a user's `articles` or `favoriteArticles`, as their
/// resolvers read them, with what the selection shows of the page.
pub struct UserArticlesArguments {
    list: UserArticles,
    request: PageRequest,
    bodies: Bodies,
    relations: Relations,
    /// Whether the selection shows anything of the page (not only its count).
    shows_page: bool,
}

impl UserArticlesArguments {
    /// The arguments of the field at `ctx` listing `list`.
    fn new(
        ctx: &Context<'_>,
        list: UserArticles,
        args: &PageArgs,
        order: ArticleOrder,
    ) -> Result<Self, Error> {
        let (bodies, relations) = list_reads(ctx);
        Ok(Self {
            list,
            request: page_request(args, order.direction)?,
            bodies,
            relations,
            shows_page: shows_page(ctx),
        })
    }

    /// Reads the arguments of the user's field `field` at `ctx` as its
    /// resolver's parameters are read; `None` when they do not parse or are
    /// refused (the resolver tells why).
    fn read(field: &str, ctx: &Context<'_>) -> Option<Self> {
        let args = read_page_args(ctx).ok()?;
        let (list, order) = match field {
            "articles" => {
                let status: Option<ArticleStatus> = ctx.param_value("status", None).ok()?.1;
                let order: Option<ArticleOrder> = ctx.param_value("orderBy", None).ok()?.1;
                (listed_by_status(status), order.unwrap_or_default())
            }
            "favoriteArticles" => (UserArticles::Favorites, ArticleOrder::default()),
            _ => return None,
        };
        let arguments = Self::new(ctx, list, &args, order).ok()?;
        let viewer = ctx.data_opt::<Viewer>()?;
        arguments.authorize_unread(viewer).ok()?;
        Some(arguments)
    }

    /// The key of the set's pages for these arguments.
    fn key(&self) -> (UserArticles, PageRequest, Bodies) {
        (self.list, self.request, self.bodies)
    }

    /// Refuses a list of drafts that reads no page (a page is refused when
    /// it is read) to a viewer who may not see them.
    fn authorize_unread(&self, viewer: &Viewer) -> Result<(), Error> {
        if !self.shows_page && self.list == UserArticles::Drafts {
            let drafts = ArticleFilter {
                drafts: true,
                ..Default::default()
            };
            articles::authorize_filter(viewer, &drafts)?;
        }
        Ok(())
    }
}

/// The list of a user's articles that `articles(status:)` names.
fn listed_by_status(status: Option<ArticleStatus>) -> UserArticles {
    match status {
        Some(ArticleStatus::Draft) => UserArticles::Drafts,
        _ => UserArticles::Published,
    }
}

impl User {
    /// One page of the user's `list` as a connection, read with the pages of
    /// every member of its set, in one statement, the first time any of them
    /// asks ([`Self::load_article_pages`]).
    async fn article_list(
        &self,
        ctx: &Context<'_>,
        list: UserArticles,
        args: PageArgs,
        order: ArticleOrder,
    ) -> Result<ArticleConnection> {
        let arguments = UserArticlesArguments::new(ctx, list, &args, order)?;
        let (state, viewer) = (ctx.state()?, ctx.viewer()?);
        arguments.authorize_unread(viewer)?;
        if let Some(connection) = self.loaded_article_list(&arguments) {
            return Ok(connection);
        }
        self.load_article_pages(state, viewer, &arguments).await?;
        let connection = self.loaded_article_list(&arguments);
        connection.ok_or_else(|| Error::Internal("article pages did not load".into()).into())
    }

    /// The connection of the user's list when nothing is left to load: the
    /// set's pages for these arguments are in, or the selection shows no
    /// page.
    fn loaded_article_list(&self, arguments: &UserArticlesArguments) -> Option<ArticleConnection> {
        let source = ListSource::UserArticles {
            user_id: self.row.id,
            list: arguments.list,
            set: self.set.clone(),
        };
        let page = if arguments.shows_page {
            self.set
                .article_pages
                .loaded(&arguments.key(), self.row.id)?
        } else {
            unread()
        };
        Some(ArticleConnection::of_objects(page, source, Article::cursor))
    }

    /// Reads the pages of the list for every member of the set, unless they
    /// are read already. A set of one user reads its page as `articles` does
    /// with the matching filter (through the cache).
    fn load_article_pages<'s>(
        &self,
        state: &'s AppState,
        viewer: &'s Viewer,
        arguments: &UserArticlesArguments,
    ) -> BoxFuture<'s, crate::error::Result<()>> {
        let (set, member, username) = (self.set.clone(), self.row.id, self.row.username.clone());
        let (list, request, bodies, relations) = (
            arguments.list,
            arguments.request,
            arguments.bodies,
            arguments.relations,
        );
        Box::pin(async move {
            let fetch = || async {
                if let [only] = set.ids() {
                    let filter = ArticleFilter::of_user_list(list, username);
                    let listed =
                        articles::list(state, viewer, &filter, &request, bodies, relations).await?;
                    let (page, counts) = (listed.page, listed.counts);
                    let mut pages = IdMap::default();
                    pages.insert(*only, page);
                    return Ok(pages_of_objects(pages, |rows| {
                        ArticleSet::page_objects(rows, bodies, listed.relations, counts)
                    }));
                }
                let listed = articles::pages_per_user(
                    state,
                    viewer,
                    (list, set.ids()),
                    &request,
                    bodies,
                    relations,
                )
                .await?;
                Ok(pages_of_objects(listed.pages, |rows| {
                    ArticleSet::page_objects(rows, bodies, listed.relations, RowCounts::Current)
                }))
            };
            let key = (list, request, bodies);
            set.article_pages.load(key, member, fetch).await.map(drop)
        })
    }
}

/// A profile's fields straight from its row and what its set has loaded.
impl ReadyObject for User {
    fn type_name(&self) -> &'static str {
        "User"
    }

    fn ready_field(&self, field: &str, viewer: &Viewer) -> Ready<'_> {
        let (row, set) = (&self.row, &self.set);
        match field {
            "id" => Ready::leaf(&global_id(NodeKind::User, row.id)),
            "username" => Ready::Str(&row.username),
            "bio" => Ready::Str(&row.bio),
            "image" => Ready::leaf(&row.image),
            "role" => Ready::leaf(&self.api_role()),
            "createdAt" => Ready::Time(&row.created_at),
            "isViewer" => Ready::leaf(&(viewer.user_id() == Some(row.id))),
            "followersCount" => Ready::leaf(&row.followers_count),
            "followingCount" => Ready::leaf(&row.following_count),
            "viewerIsFollowing" => match viewer.user_id() {
                None => Ready::leaf(&false),
                Some(_) => Ready::loaded(set.viewer_following.loaded(row.id), false),
            },
            _ => Ready::Pending,
        }
    }

    fn field_arguments(&self, field: &str, ctx: &Context<'_>) -> FieldArguments {
        match field {
            "articles" | "favoriteArticles" => UserArticlesArguments::read(field, ctx)
                .map_or(FieldArguments::Unusable, |a| {
                    FieldArguments::Parsed(Box::new(a))
                }),
            _ => FieldArguments::None,
        }
    }

    fn ready_field_with(&self, field: &str, arguments: &Arguments, _viewer: &Viewer) -> Ready<'_> {
        match (field, arguments.downcast_ref::<UserArticlesArguments>()) {
            ("articles" | "favoriteArticles", Some(arguments)) => self
                .loaded_article_list(arguments)
                .map_or(Ready::Pending, |connection| {
                    Ready::Owned(Box::new(connection))
                }),
            _ => Ready::Pending,
        }
    }

    fn load_field<'s>(
        &self,
        field: &str,
        arguments: Option<&Arguments>,
        state: &'s AppState,
        viewer: &'s Viewer,
    ) -> Option<FieldLoad<'s>> {
        let load = match field {
            "viewerIsFollowing" => {
                let (me, id, set) = (viewer.user_id()?, self.row.id, self.set.clone());
                Box::pin(async move {
                    let fetch = || profiles::followed_among(&state.db, me, set.ids());
                    set.viewer_following
                        .contains(id, set.ids(), fetch)
                        .await
                        .map(drop)
                })
            }
            "articles" | "favoriteArticles" => {
                let arguments = arguments?.downcast_ref::<UserArticlesArguments>()?;
                self.load_article_pages(state, viewer, arguments)
            }
            _ => return None,
        };
        Some(FieldLoad::new(&self.set, load))
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
            Some(id) => Ok(users::by_ids(&ctx.state()?.db, &[id])
                .await?
                .remove(&id)
                .map(UserSet::object)),
            None => Ok(None),
        }
    }

    /// The public profile of the user with this username, or null.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's handle.")] username: String,
    ) -> Result<Option<User>> {
        Ok(users::find_profile_cached(ctx.state()?, &username)
            .await?
            .map(UserSet::object))
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
    /// The password now: needed to change the email or the password.
    pub current_password: Option<String>,
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
    /// When the email or password changed: every session of the account has
    /// ended, the one that sent this request too, and this token replaces it.
    /// Null when neither changed.
    pub token: Option<String>,
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
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account.")] input: RegisterInput,
    ) -> Result<RegisterPayload> {
        let registration = users::Registration {
            username: input.username,
            email: input.email,
            password: input.password,
        };
        let signed_in = users::register(ctx.state()?, registration).await?;
        Ok(RegisterPayload {
            user: User::signed_in(signed_in.user, &signed_in.token, ctx)?,
            token: signed_in.token,
        })
    }

    /// Signs in with email and password. UNAUTHENTICATED when either is wrong.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The credentials.")] input: LoginInput,
    ) -> Result<LoginPayload> {
        let signed_in = users::login(ctx.state()?, &input.email, &input.password).await?;
        Ok(LoginPayload {
            user: User::signed_in(signed_in.user, &signed_in.token, ctx)?,
            token: signed_in.token,
        })
    }

    /// Changes the signed-in user's profile, email or password. The email and
    /// password need `currentPassword`, and changing either ends every session
    /// of the account; the payload's `token` replaces the caller's.
    async fn update_viewer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile and settings fields to change.")] input: UpdateViewerInput,
    ) -> Result<UpdateViewerPayload> {
        let changes = users::ProfileChanges {
            username: input.username,
            email: input.email,
            password: input.password,
            current_password: input.current_password,
            bio: input.bio,
            image: input.image,
        };
        let updated = users::update_profile(ctx.state()?, ctx.viewer()?, changes).await?;
        Ok(UpdateViewerPayload {
            user: UserSet::object(updated.user),
            token: updated.token,
        })
    }

    /// Follows a user; following someone already followed changes nothing.
    async fn follow_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who to follow.")] input: FollowUserInput,
    ) -> Result<FollowUserPayload> {
        let user = profiles::follow(ctx.state()?, ctx.viewer()?, &input.username).await?;
        Ok(FollowUserPayload {
            user: UserSet::object(user),
        })
    }

    /// Stops following a user; a no-op when not following.
    async fn unfollow_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who to stop following.")] input: FollowUserInput,
    ) -> Result<UnfollowUserPayload> {
        let user = profiles::unfollow(ctx.state()?, ctx.viewer()?, &input.username).await?;
        Ok(UnfollowUserPayload {
            user: UserSet::object(user),
        })
    }
}
