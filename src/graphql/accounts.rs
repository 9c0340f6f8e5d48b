//! Sessions and account administration: logout, ending sessions, narrowing
//! tokens, bans and roles.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::Utc;

use super::context::ContextExt;
use super::loaders::UserSet;
use super::users::User;
use crate::auth::attenuation::Attenuation;
use crate::auth::{Action, Role};
use crate::error::Error;
use crate::service::{accounts, articles};

/// What a user may do beyond their own data.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum UserRole {
    /// Acts on their own data only.
    User,
    /// May also unpublish or delete any article or comment.
    Moderator,
    /// May also ban users, end their sessions and grant roles.
    Admin,
}

impl From<UserRole> for Role {
    fn from(role: UserRole) -> Self {
        match role {
            UserRole::User => Role::User,
            UserRole::Moderator => Role::Moderator,
            UserRole::Admin => Role::Admin,
        }
    }
}

impl From<Role> for UserRole {
    fn from(role: Role) -> Self {
        match role {
            Role::User => UserRole::User,
            Role::Moderator => UserRole::Moderator,
            Role::Admin => UserRole::Admin,
        }
    }
}

/// Result of `logout`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// Always true: the presented token, and every token derived from it, no longer work.
    pub revoked: bool,
}

/// Input of `revokeToken`.
#[derive(InputObject)]
pub struct RevokeTokenInput {
    /// The token to revoke: one of your own, or anyone's for an admin.
    pub token: String,
}

/// Result of `revokeToken`.
#[derive(SimpleObject)]
pub struct RevokeTokenPayload {
    /// Always true: the token, and every token derived from it, no longer work.
    pub revoked: bool,
}

/// Input of `revokeAllSessions`.
#[derive(InputObject, Default)]
pub struct RevokeAllSessionsInput {
    /// Whose sessions to end; yourself when omitted. Others' need the admin role.
    pub username: Option<String>,
}

/// Result of `revokeAllSessions`.
#[derive(SimpleObject)]
pub struct RevokeAllSessionsPayload {
    /// The user whose every token stopped working.
    pub user: User,
}

/// Input naming one user.
#[derive(InputObject)]
pub struct UsernameInput {
    /// The user's handle.
    pub username: String,
}

/// Result of `banUser` and `unbanUser`.
#[derive(SimpleObject)]
pub struct BanPayload {
    /// The user's handle.
    pub username: String,
    /// Whether the user is now banned.
    pub banned: bool,
}

/// Input of `grantRole`.
#[derive(InputObject)]
pub struct GrantRoleInput {
    /// The user's handle.
    pub username: String,
    /// The role to give.
    pub role: UserRole,
}

/// Result of `grantRole`.
#[derive(SimpleObject)]
pub struct GrantRolePayload {
    /// The user with the new role.
    pub user: User,
}

/// Input of `attenuateToken`: every restriction given applies together.
#[derive(InputObject, Default)]
pub struct AttenuateTokenInput {
    /// Allow reads only.
    #[graphql(default)]
    pub read_only: bool,
    /// Allow only operations on these articles, at most 20.
    pub article_slugs: Option<Vec<String>>,
    /// Allow only these actions, e.g. `comment.create` (listed in docs/authorization.md).
    pub actions: Option<Vec<String>>,
    /// Stop working this many seconds from now.
    pub expires_in: Option<i32>,
}

/// Result of `attenuateToken`.
#[derive(SimpleObject)]
pub struct AttenuateTokenPayload {
    /// The narrowed token. It can do no more than the presented one.
    pub token: String,
}

/// Mutations about sessions and accounts.
#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Revokes the presented token and every token derived from it. Always
    /// allowed to the holder, even through a read-only token.
    async fn logout(&self, ctx: &Context<'_>) -> Result<LogoutPayload> {
        accounts::logout(ctx.state()?, ctx.viewer()?).await?;
        Ok(LogoutPayload { revoked: true })
    }

    /// Revokes a given token and every token derived from it: one of your own
    /// sessions, or (for an admin) anyone's.
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which session to end.")] input: RevokeTokenInput,
    ) -> Result<RevokeTokenPayload> {
        accounts::revoke_token(ctx.state()?, ctx.viewer()?, &input.token).await?;
        Ok(RevokeTokenPayload { revoked: true })
    }

    /// Ends every session of the viewer (or, for an admin, of another user): all
    /// their tokens stop working on every instance within a second.
    async fn revoke_all_sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Whose sessions to end; the caller's own when left out."
        )]
        input: RevokeAllSessionsInput,
    ) -> Result<RevokeAllSessionsPayload> {
        let user =
            accounts::revoke_all_sessions(ctx.state()?, ctx.viewer()?, input.username.as_deref())
                .await?;
        Ok(RevokeAllSessionsPayload {
            user: UserSet::object(user),
        })
    }

    /// Bans a user: their tokens stop working and their articles, comments and
    /// profile disappear. Admins only.
    async fn ban_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who to ban.")] input: UsernameInput,
    ) -> Result<BanPayload> {
        let user = accounts::ban(ctx.state()?, ctx.viewer()?, &input.username).await?;
        Ok(BanPayload {
            username: user.username,
            banned: true,
        })
    }

    /// Lifts a ban. Admins only.
    async fn unban_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who to unban.")] input: UsernameInput,
    ) -> Result<BanPayload> {
        let user = accounts::unban(ctx.state()?, ctx.viewer()?, &input.username).await?;
        Ok(BanPayload {
            username: user.username,
            banned: false,
        })
    }

    /// Gives a user a role, effective at once. Admins only.
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who gets which role.")] input: GrantRoleInput,
    ) -> Result<GrantRolePayload> {
        let user = accounts::grant_role(
            ctx.state()?,
            ctx.viewer()?,
            &input.username,
            input.role.into(),
        )
        .await?;
        Ok(GrantRolePayload {
            user: UserSet::object(user),
        })
    }

    /// Derives a narrower token from the presented one, as a holder could do
    /// offline with any biscuit library.
    async fn attenuate_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How to narrow the caller's token.")] input: AttenuateTokenInput,
    ) -> Result<AttenuateTokenPayload> {
        let (state, viewer) = (ctx.state()?, ctx.viewer()?);
        viewer.authorize_own(Action::TokenAttenuate)?;
        let session = viewer
            .session()
            .ok_or_else(|| Error::Unauthenticated("sign in to do this".into()))?;
        let slugs = input.article_slugs.unwrap_or_default();
        let articles_allowed = articles::ids_for_attenuation(&state.db, viewer, &slugs).await?;
        let expires_at = match input.expires_in {
            Some(seconds) if seconds <= 0 => {
                return Err(Error::invalid_field(
                    "expiresIn",
                    "must be a positive number of seconds",
                )
                .into());
            }
            Some(seconds) => Some(Utc::now() + chrono::Duration::seconds(i64::from(seconds))),
            None => None,
        };
        let attenuation = Attenuation {
            read_only: input.read_only,
            articles: articles_allowed,
            actions: input.actions.unwrap_or_default(),
            expires_at,
        };
        let token = session.append(attenuation.block()?)?;
        Ok(AttenuateTokenPayload { token })
    }
}
