//! The account side of every token check: revoked tokens, ended sessions, bans
//! and role changes, kept in memory so that a request needs no database round
//! trip to learn them.
//!
//! Writes on this instance update the list at once; a background task reads
//! what other instances wrote every half second, so a revocation anywhere takes
//! effect everywhere within a second.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{revoked_token, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::role::Role;
use super::token::Session;
use crate::error::{Error, Result};

/// How far back each sync looks past the previous one, to catch writes that
/// committed late or were stamped by a clock slightly behind ours.
const SYNC_OVERLAP: chrono::Duration = chrono::Duration::seconds(2);

/// What the server knows about an account whose access has ever changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountAccess {
    /// The current role.
    pub role: Role,
    /// The current session epoch; tokens with an older one are refused.
    pub session_epoch: i64,
    /// Whether the account is banned.
    pub banned: bool,
    /// When any of these last changed; tokens older than this get the role above.
    pub changed_at: DateTime<Utc>,
}

impl AccountAccess {
    /// The access recorded in a user row, if it ever changed.
    pub fn of(row: &user::Model) -> Option<Self> {
        Some(Self {
            role: Role::parse(&row.role).unwrap_or_default(),
            session_epoch: row.session_epoch,
            banned: row.banned_at.is_some(),
            changed_at: row.access_changed_at?,
        })
    }
}

#[derive(Default)]
struct AccessState {
    /// Revoked revocation ids, with when their tokens expire anyway.
    revoked: HashMap<String, DateTime<Utc>>,
    accounts: HashMap<i64, AccountAccess>,
    synced_at: Option<DateTime<Utc>>,
}

/// Revocations and account changes, shared by every request of this instance.
#[derive(Clone, Default)]
pub struct AccessList {
    state: Arc<RwLock<AccessState>>,
}

impl AccessList {
    /// Loads the current revocations and account changes.
    pub async fn load(db: &DatabaseConnection) -> Result<Self> {
        let list = Self::default();
        list.sync(db).await?;
        Ok(list)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, AccessState> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, AccessState> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads what changed since the previous sync (all of it the first time).
    pub async fn sync(&self, db: &DatabaseConnection) -> Result<()> {
        let started = Utc::now();
        let since = self.read().synced_at.map(|at| at - SYNC_OVERLAP);
        let mut accounts = user::Entity::find().filter(user::Column::AccessChangedAt.is_not_null());
        let mut revoked =
            revoked_token::Entity::find().filter(revoked_token::Column::ExpiresAt.gt(started));
        if let Some(since) = since {
            accounts = accounts.filter(user::Column::AccessChangedAt.gte(since));
            revoked = revoked.filter(revoked_token::Column::RevokedAt.gte(since));
        }
        let (accounts, revoked) = (accounts.all(db).await?, revoked.all(db).await?);
        let mut state = self.write();
        for row in accounts {
            if let Some(access) = AccountAccess::of(&row) {
                state.accounts.insert(row.id, access);
            }
        }
        for row in revoked {
            state.revoked.insert(row.revocation_id, row.expires_at);
        }
        state.revoked.retain(|_, expires_at| *expires_at > started);
        state.synced_at = Some(started);
        Ok(())
    }

    /// Syncs every `every` until the process ends. A failing database is logged
    /// once when it starts failing and once when it recovers.
    pub fn spawn_sync(
        &self,
        db: DatabaseConnection,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let list = self.clone();
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                tokio::time::sleep(every).await;
                match list.sync(&db).await {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!("access list sync recovered");
                    }
                    Ok(()) => {}
                    Err(err) if !failing => {
                        failing = true;
                        tracing::error!(error = %err, "access list sync failed; revocations from other instances are delayed");
                    }
                    Err(_) => {}
                }
            }
        })
    }

    /// Syncs whenever another instance announces a change on `pubsub`.
    pub fn sync_on_announcements(
        &self,
        db: DatabaseConnection,
        pubsub: &dyn crate::pubsub::PubSub,
    ) {
        let list = self.clone();
        let mut events = pubsub.subscribe();
        tokio::spawn(async move {
            use futures_util::StreamExt;
            while let Some(event) = events.next().await {
                if event == crate::pubsub::Event::AccessChanged
                    && let Err(err) = list.sync(&db).await
                {
                    tracing::warn!(error = %err, "access list sync after an announcement failed");
                }
            }
        });
    }

    /// Records an account change made by this instance.
    pub fn record_account(&self, user_id: i64, access: AccountAccess) {
        self.write().accounts.insert(user_id, access);
    }

    /// Records a revocation made by this instance.
    pub fn record_revocation(&self, revocation_id: String, expires_at: DateTime<Utc>) {
        self.write().revoked.insert(revocation_id, expires_at);
    }

    /// Refuses revoked tokens, ended sessions and banned accounts, and grants the
    /// account's current role to tokens minted before it changed.
    pub fn admit(&self, mut session: Session) -> Result<Session> {
        let state = self.read();
        if session
            .revocation_ids
            .iter()
            .any(|id| state.revoked.contains_key(id))
        {
            return Err(Error::Unauthenticated("the token has been revoked".into()));
        }
        if let Some(access) = state.accounts.get(&session.user_id) {
            if access.banned {
                return Err(Error::Unauthenticated("the account is banned".into()));
            }
            if session.session_epoch < access.session_epoch {
                return Err(Error::Unauthenticated("the session has been ended".into()));
            }
            if access.changed_at >= session.issued_at {
                session.granted_role = access.role;
            }
        }
        Ok(session)
    }
}
