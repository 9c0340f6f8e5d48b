//! Accounts: sign-up, sign-in, profile and credential changes, lookups.

use std::collections::HashMap;

use entity::user;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, Set,
};

use super::fields::{self, Email, Password, Username, Validator};
use super::{is_unique_violation, now};
use crate::auth::{Action, Capability, Claims, Role, Viewer};
use crate::cache::Generation;
use crate::db::profile_rows;
use crate::error::{Error, Result};
use crate::state::AppState;

/// What `register` asks for.
#[derive(Clone, Debug)]
pub struct Registration {
    /// Wanted handle.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Password in clear; hashed before it is stored.
    pub password: String,
}

/// The changes `updateViewer` may carry; `None` leaves a field alone.
#[derive(Clone, Debug, Default)]
pub struct ProfileChanges {
    /// New handle.
    pub username: Option<String>,
    /// New email address.
    pub email: Option<String>,
    /// New password.
    pub password: Option<String>,
    /// The password now, needed to change the email or the password.
    pub current_password: Option<String>,
    /// New biography.
    pub bio: Option<String>,
    /// New avatar URL; an empty string removes it.
    pub image: Option<String>,
}

/// An account after `updateViewer`.
#[derive(Clone, Debug)]
pub struct ProfileUpdated {
    /// The account.
    pub user: user::Model,
    /// When the email or password changed, every session of the account
    /// ended, the caller's too: a token for the caller to go on with.
    pub token: Option<String>,
}

/// A user who has just signed up or in, with their new token.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The account.
    pub user: user::Model,
    /// A bearer token for it.
    pub token: String,
}

/// Creates an account and signs it in.
pub async fn register(state: &AppState, input: Registration) -> Result<SignedIn> {
    let mut v = Validator::default();
    let username = v.field("username", Username::parse(&input.username));
    let email = v.field("email", Email::parse(&input.email));
    let password = v.field("password", Password::parse(&input.password));
    let (Some(username), Some(email), Some(password)) = (username, email, password) else {
        return Err(v.into_error());
    };
    // Hashed before anything is looked up: a taken address then costs the
    // same time as a sign-up, so timing does not tell that it exists.
    let hash = state.passwords.hash(password.into_inner()).await?;
    ensure_unique(&state.db, None, Some(&username), Some(&email)).await?;
    let at = now();
    let row = user::ActiveModel {
        username: Set(username.as_str().to_owned()),
        username_key: Set(username.key()),
        email: Set(email.as_str().to_owned()),
        email_key: Set(email.key()),
        password_hash: Set(hash),
        bio: Set(String::new()),
        image: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    };
    let user = match row.insert(&state.db).await {
        Ok(user) => user,
        Err(err) if is_unique_violation(&err) => {
            // Lost a race with another sign-up: report which value is taken.
            ensure_unique(&state.db, None, Some(&username), Some(&email)).await?;
            return Err(err.into());
        }
        Err(err) => return Err(err.into()),
    };
    state
        .cache
        .invalidate(&[Generation::profile(&user.username)])
        .await;
    tracing::info!(user_id = user.id, "user registered");
    let token = mint_for(state, &user)?;
    Ok(SignedIn { user, token })
}

/// A token for `user` with their current role and session epoch.
pub fn mint_for(state: &AppState, user: &user::Model) -> Result<String> {
    state.tokens.mint(Claims {
        user_id: user.id,
        role: Role::parse(&user.role).unwrap_or_default(),
        session_epoch: user.session_epoch,
    })
}

/// Signs in by email and password. An unknown email, a wrong password and a
/// banned account take the same time and give the same answer.
pub async fn login(state: &AppState, email: &str, password: &str) -> Result<SignedIn> {
    let key = fields::email_key(email);
    let user = user::Entity::find()
        .filter(user::Column::EmailKey.eq(key))
        .one(&state.db)
        .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matches = state.passwords.verify(password.to_owned(), stored).await?;
    // A banned account answers as a wrong password does, whether the
    // password was right or not: neither tells that the address exists.
    match user {
        Some(user) if matches && user.banned_at.is_none() => {
            let token = mint_for(state, &user)?;
            Ok(SignedIn { user, token })
        }
        _ => Err(Error::Unauthenticated(
            "email or password is incorrect".into(),
        )),
    }
}

/// Changes the viewer's own profile and credentials. Changing the email or
/// the password needs the current password, and ends every session of the
/// account: whoever held a token of it (a stolen one too) must sign in
/// again, and the caller gets a fresh token.
pub async fn update_profile(
    state: &AppState,
    viewer: &Viewer,
    changes: ProfileChanges,
) -> Result<ProfileUpdated> {
    let me = viewer.authorize_own(Action::UserUpdate)?;
    let credentials_change = changes.email.is_some() || changes.password.is_some();
    let mut v = Validator::default();
    let username = v.optional("username", changes.username.as_deref(), Username::parse);
    let email = v.optional("email", changes.email.as_deref(), Email::parse);
    let password = v.optional("password", changes.password.as_deref(), Password::parse);
    let bio = v.optional("bio", changes.bio.as_deref(), fields::bio);
    let image = v.optional("image", changes.image.as_deref(), fields::image);
    let (Some(username), Some(email), Some(password), Some(bio), Some(image)) =
        (username, email, password, bio, image)
    else {
        return Err(v.into_error());
    };
    let current = find(&state.db, me).await?;
    // The password first: whether an address is taken is no answer for a
    // caller who cannot show it.
    if credentials_change {
        confirm_password(state, &current, changes.current_password).await?;
    }
    ensure_unique(&state.db, Some(me), username.as_ref(), email.as_ref()).await?;
    let old_username = current.username.clone();
    let epoch = current.session_epoch + 1;
    let mut row: user::ActiveModel = current.into();
    if credentials_change {
        row.session_epoch = Set(epoch);
        row.access_changed_at = Set(Some(now()));
    }
    if let Some(username) = &username {
        row.username = Set(username.as_str().to_owned());
        row.username_key = Set(username.key());
    }
    if let Some(email) = &email {
        row.email = Set(email.as_str().to_owned());
        row.email_key = Set(email.key());
    }
    if let Some(password) = password {
        row.password_hash = Set(state.passwords.hash(password.into_inner()).await?);
    }
    if let Some(bio) = bio {
        row.bio = Set(bio);
    }
    if let Some(image) = image {
        row.image = Set(image);
    }
    row.updated_at = Set(now());
    match row.update(&state.db).await {
        Ok(user) => {
            let generations = [
                Generation::profile(&old_username),
                Generation::profile(&user.username),
            ];
            state.cache.invalidate(&generations).await;
            let token = if credentials_change {
                super::accounts::announce_access_change(state, &user);
                tracing::info!(
                    user_id = user.id,
                    "credentials changed; every session ended"
                );
                Some(mint_for(state, &user)?)
            } else {
                None
            };
            Ok(ProfileUpdated { user, token })
        }
        Err(err) if is_unique_violation(&err) => {
            ensure_unique(&state.db, Some(me), username.as_ref(), email.as_ref()).await?;
            Err(err.into())
        }
        Err(err) => Err(err.into()),
    }
}

/// Checks `given` against the account's password: BAD_USER_INPUT on
/// `currentPassword` when it is missing or wrong.
async fn confirm_password(
    state: &AppState,
    account: &user::Model,
    given: Option<String>,
) -> Result<()> {
    let Some(given) = given else {
        return Err(Error::invalid_field(
            "currentPassword",
            "is needed to change the email or password",
        ));
    };
    let stored = Some(account.password_hash.clone());
    if state.passwords.verify(given, stored).await? {
        Ok(())
    } else {
        Err(Error::invalid_field("currentPassword", "is incorrect"))
    }
}

/// Fails with CONFLICT when another account holds `username` or `email`.
async fn ensure_unique(
    db: &DatabaseConnection,
    except: Option<i64>,
    username: Option<&Username>,
    email: Option<&Email>,
) -> Result<()> {
    if username.is_none() && email.is_none() {
        return Ok(());
    }
    let mut either = Condition::any();
    if let Some(username) = username {
        either = either.add(user::Column::UsernameKey.eq(username.key()));
    }
    if let Some(email) = email {
        either = either.add(user::Column::EmailKey.eq(email.key()));
    }
    let mut query = user::Entity::find().filter(either);
    if let Some(me) = except {
        query = query.filter(user::Column::Id.ne(me));
    }
    let taken = query.all(db).await?;
    if let Some(username) = username
        && taken.iter().any(|u| u.username_key == username.key())
    {
        return Err(Error::Conflict {
            field: "username",
            message: "username is already taken".into(),
        });
    }
    if let Some(email) = email
        && taken.iter().any(|u| u.email_key == email.key())
    {
        return Err(Error::Conflict {
            field: "email",
            message: "email is already registered".into(),
        });
    }
    Ok(())
}

/// The user with this id, or NOT_FOUND.
pub async fn find(db: &DatabaseConnection, id: i64) -> Result<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("user"))
}

/// The user with this username, in any case, if any.
pub async fn find_by_username(
    db: &DatabaseConnection,
    username: &str,
) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::UsernameKey.eq(username_key(username)))
        .one(db)
        .await?)
}

/// The key a username in any case is looked up by: usernames are unique
/// ignoring case, and only ASCII letters have cases in them.
pub fn username_key(username: &str) -> String {
    username.trim().to_ascii_lowercase()
}

/// Users by id, as profiles (without their password hash), for the user
/// loader. One statement.
pub async fn by_ids(db: &DatabaseConnection, ids: &[i64]) -> Result<HashMap<i64, user::Model>> {
    profile_rows::profiles_by_ids(db, ids).await
}

/// Whether the viewer may read `user`'s private fields (email).
pub fn authorize_private_read(viewer: &Viewer, user: &user::Model) -> Result<()> {
    viewer
        .authorize(&Capability::on_user(Action::UserReadPrivate, user.id))
        .map(|_| ())
}

/// The public profile with this username, read through the cache. The cached
/// row carries no password hash.
pub async fn find_profile_cached(state: &AppState, username: &str) -> Result<Option<user::Model>> {
    let username = username_key(username);
    if username.is_empty() || username.len() > 64 {
        return Ok(None);
    }
    let db = state.db.clone();
    let lookup = username.clone();
    state
        .cache
        .get_or_load(
            &format!("profile:{username}"),
            &[Generation::profile(&username)],
            move || async move {
                let row = find_profile(&db, &lookup).await?;
                Ok(row.map(|u| user::Model {
                    password_hash: String::new(),
                    ..u
                }))
            },
        )
        .await
}

/// The public profile with this username: none for unknown or banned users.
pub async fn find_profile(db: &DatabaseConnection, username: &str) -> Result<Option<user::Model>> {
    Ok(find_by_username(db, username)
        .await?
        .filter(|u| u.banned_at.is_none()))
}
