//! Account administration: logout, ending every session, bans and roles.
//!
//! Each change bumps `access_changed_at`, records itself in this instance's
//! access list at once, and reaches the other instances through their sync.

use entity::{revoked_token, user};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};

use super::counts::{self, AccountLock};
use super::retry::retry_transient;
use super::{now, users};
use crate::auth::access::AccountAccess;
use crate::auth::token::verification_cost;
use crate::auth::{Action, Capability, Role, Viewer};
use crate::cache::Generation;
use crate::error::{Error, Result};
use crate::pubsub::Event;
use crate::ratelimit::Budget;
use crate::state::AppState;
use futures_util::TryFutureExt;

/// Revokes the presented token and every token derived from it. Needs no
/// capability: giving up a token only ever takes power away.
pub async fn logout(state: &AppState, viewer: &Viewer) -> Result<()> {
    let session = viewer
        .session()
        .ok_or_else(|| Error::Unauthenticated("sign in to do this".into()))?;
    store_revocation(state, session).await
}

/// Revokes `token` and every token derived from it: the holder of a token of
/// the same account may, and so may an admin for anyone's token.
pub async fn revoke_token(state: &AppState, viewer: &Viewer, token: &str) -> Result<()> {
    let me = viewer.require_user()?;
    charge_verification(state, me, token).await?;
    let target = state
        .tokens
        .verify(token)
        .map_err(|_| Error::invalid_field("token", "is not a valid token of this server"))?;
    viewer.authorize(&Capability::on_user(Action::SessionRevoke, target.user_id))?;
    store_revocation(state, &target).await
}

/// Charges the caller `me` for verifying `token`, when it is not remembered
/// and rate limits are on, as a token sent in a header is charged to its
/// sender: a document may name many tokens to revoke. RATE_LIMITED, and the
/// token is not verified, when the caller cannot pay.
async fn charge_verification(state: &AppState, me: i64, token: &str) -> Result<()> {
    let protection = &state.config.protection;
    if !protection.rate_limit_enabled || state.tokens.remembers(token) {
        return Ok(());
    }
    let budget = Budget {
        points: protection.rate_limit_points,
        window_secs: protection.rate_limit_window_secs,
    };
    let subject = format!("user:{me}");
    let charge = state
        .rate_limits
        .charge("api", &subject, verification_cost(token), budget)
        .await;
    if charge.allowed {
        return Ok(());
    }
    Err(Error::RateLimited {
        cost: charge.cost,
        remaining: charge.remaining(),
        retry_after_secs: charge.retry_after_secs(chrono::Utc::now()),
    })
}

/// Records the revocation of `session`'s last block, here and for every instance.
async fn store_revocation(state: &AppState, session: &crate::auth::Session) -> Result<()> {
    let id = session.own_revocation_id().to_owned();
    let row = revoked_token::ActiveModel {
        revocation_id: Set(id.clone()),
        user_id: Set(session.user_id),
        revoked_at: Set(now()),
        expires_at: Set(session.expires_at),
    };
    match revoked_token::Entity::insert(row)
        .exec_without_returning(&state.db)
        .await
    {
        Ok(_) => {}
        Err(err) if super::is_unique_violation(&err) => {}
        Err(err) => return Err(err.into()),
    }
    state.access.record_revocation(id, session.expires_at);
    state.pubsub.publish(Event::AccessChanged);
    tracing::info!(user_id = session.user_id, "token revoked");
    Ok(())
}

/// The account `username` names (the viewer's when none), once `capability`
/// for it allows the viewer: a caller who may not act on accounts is refused
/// alike whether the name exists or not, and learns nothing of it; NOT_FOUND
/// only for one who may. The lookup runs either way.
async fn authorized_target(
    db: &DatabaseConnection,
    viewer: &Viewer,
    username: Option<&str>,
    capability: impl Fn(i64) -> Capability,
) -> Result<(i64, user::Model)> {
    let found = match username {
        Some(name) => users::find_by_username(db, name).await?,
        None => Some(users::find(db, viewer.require_user()?).await?),
    };
    // No account has a negative id: a capability on one is about nobody.
    let id = found.as_ref().map_or(-1, |user| user.id);
    let me = viewer.authorize(&capability(id))?;
    Ok((me, found.ok_or(Error::NotFound("user"))?))
}

/// Writes `change` to the account `current` in one transaction that holds the
/// account: when it bans the account or lifts a ban, the counts that leave
/// out banned users' rows follow ([`counts::ban_changed`]).
async fn change_access(
    state: &AppState,
    current: user::Model,
    change: impl Fn(&mut user::ActiveModel) + Clone + Send + 'static,
) -> Result<user::Model> {
    let id = current.id;
    let updated = retry_transient(|| {
        let change = change.clone();
        state
            .db
            .transaction::<_, user::Model, Error>(|txn| {
                Box::pin(async move {
                    counts::lock_account(txn, id, AccountLock::Exclusive).await?;
                    let current = user::Entity::find_by_id(id)
                        .one(txn)
                        .await?
                        .ok_or(Error::NotFound("user"))?;
                    let banned_before = current.banned_at.is_some();
                    let mut row: user::ActiveModel = current.into();
                    change(&mut row);
                    row.access_changed_at = Set(Some(now()));
                    let updated = row.update(txn).await?;
                    match (banned_before, updated.banned_at.is_some()) {
                        (false, true) => counts::ban_changed(txn, id, -1).await?,
                        (true, false) => counts::ban_changed(txn, id, 1).await?,
                        _ => {}
                    }
                    Ok(updated)
                })
            })
            .map_err(Error::from)
    })
    .await?;
    announce_access_change(state, &updated);
    state
        .cache
        .invalidate(&[Generation::profile(&updated.username)])
        .await;
    Ok(updated)
}

/// Makes a change to `updated`'s access (role, session epoch, ban), already
/// written, take effect: in this instance's access list at once, and in
/// every other instance's as soon as it hears of it.
pub(super) fn announce_access_change(state: &AppState, updated: &user::Model) {
    if let Some(access) = AccountAccess::of(updated) {
        state.access.record_account(updated.id, access);
    }
    state.pubsub.publish(Event::AccessChanged);
}

/// Ends every session of the viewer, or (for an admin) of the named user.
pub async fn revoke_all_sessions(
    state: &AppState,
    viewer: &Viewer,
    username: Option<&str>,
) -> Result<user::Model> {
    let (_, user) = authorized_target(&state.db, viewer, username, |id| {
        Capability::on_user(Action::SessionRevoke, id)
    })
    .await?;
    let epoch = user.session_epoch + 1;
    let user = change_access(state, user, move |row| row.session_epoch = Set(epoch)).await?;
    tracing::info!(user_id = user.id, "every session ended");
    Ok(user)
}

/// Bans a user: their tokens stop working and their content disappears. Admins only.
pub async fn ban(state: &AppState, viewer: &Viewer, username: &str) -> Result<user::Model> {
    let (me, user) = authorized_target(&state.db, viewer, Some(username), |id| {
        Capability::administer(Action::UserBan, id)
    })
    .await?;
    if user.id == me {
        return Err(Error::invalid_field("username", "you cannot ban yourself"));
    }
    let (epoch, at) = (user.session_epoch + 1, now());
    let user = change_access(state, user, move |row| {
        row.banned_at = Set(Some(at));
        row.session_epoch = Set(epoch);
    })
    .await?;
    super::invalidation::user_content(state, user.id, &user.username).await?;
    tracing::info!(user_id = user.id, by = me, "user banned");
    Ok(user)
}

/// Lifts a ban. Admins only.
pub async fn unban(state: &AppState, viewer: &Viewer, username: &str) -> Result<user::Model> {
    let (me, user) = authorized_target(&state.db, viewer, Some(username), |id| {
        Capability::administer(Action::UserBan, id)
    })
    .await?;
    let user = change_access(state, user, |row| row.banned_at = Set(None)).await?;
    super::invalidation::user_content(state, user.id, &user.username).await?;
    tracing::info!(user_id = user.id, by = me, "ban lifted");
    Ok(user)
}

/// Gives a user a role; takes effect at once, even for tokens minted before. Admins only.
pub async fn grant_role(
    state: &AppState,
    viewer: &Viewer,
    username: &str,
    role: Role,
) -> Result<user::Model> {
    let (me, user) = authorized_target(&state.db, viewer, Some(username), |id| {
        Capability::administer(Action::UserGrantRole, id)
    })
    .await?;
    if user.id == me && role != Role::Admin {
        return Err(Error::invalid_field(
            "role",
            "an admin cannot demote themselves",
        ));
    }
    let user = change_access(state, user, move |row| {
        row.role = Set(role.as_str().to_owned())
    })
    .await?;
    tracing::info!(
        user_id = user.id,
        by = me,
        role = role.as_str(),
        "role granted"
    );
    Ok(user)
}

/// Creates an admin account, or makes an existing account an admin. For `conduit admin create`.
pub async fn bootstrap_admin(
    state: &AppState,
    username: &str,
    email: &str,
    password: &str,
) -> Result<user::Model> {
    let user = match users::find_by_username(&state.db, username).await? {
        Some(user) => user,
        None => {
            let registration = users::Registration {
                username: username.to_owned(),
                email: email.to_owned(),
                password: password.to_owned(),
            };
            users::register(state, registration).await?.user
        }
    };
    change_access(state, user, |row| {
        row.role = Set(Role::Admin.as_str().to_owned())
    })
    .await
}
