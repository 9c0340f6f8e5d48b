//! The one authorization mechanism: a [`Capability`] names what an operation
//! does, and [`Session::authorize`] asks a biscuit authorizer whether the token
//! allows it.
//!
//! # Fact vocabulary
//!
//! For every decision the server adds these facts to the authorizer:
//!
//! | fact | meaning |
//! |---|---|
//! | `time($now)` | the current time |
//! | `operation($op)` | `"read"` or `"write"` |
//! | `action($name)` | what is done, e.g. `"article.update"`; the full list is [`Action`] |
//! | `resource($kind, $id)` | the object acted on: `"user"`, `"article"` or `"comment"` and its database id |
//! | `owner($user_id)` | the user whose data is read or written (an article's author, a comment's author, the follower of a follow); absent for bans and role grants |
//! | `granted_role($role)` | the role the server grants the holder now: `"user"`, `"moderator"` or `"admin"` |
//! | `visibility("public")` | present when the object is readable by anyone (a published article) |
//!
//! and these policies:
//!
//! ```text
//! allow if user($u), owner($u);
//! allow if operation("read"), visibility("public");
//! allow if granted_role($r), ["moderator", "admin"].contains($r),
//!          action($a), ["article.unpublish", "article.delete", "comment.delete"].contains($a);
//! allow if granted_role("admin"),
//!          action($a), ["user.ban", "user.grant_role", "session.revoke"].contains($a);
//! ```
//!
//! so a token lets its holder act on their own data, moderators remove anyone's
//! content and admins manage accounts, while every check in every block of the
//! token must also pass. A holder narrows a token by
//! appending checks over the same facts, for example
//! `check if operation("read")` or `check if resource("article", 12)`.

use biscuit_auth::builder::{Fact, Term};
use biscuit_auth::{AuthorizerBuilder, error};

use super::role::Role;
use super::token::Session;
use crate::error::{Error, Result};

/// The server-side policies every decision runs, in order.
pub const POLICIES: [&str; 4] = [
    "allow if user($u), owner($u)",
    r#"allow if operation("read"), visibility("public")"#,
    r#"allow if granted_role($r), ["moderator", "admin"].contains($r), action($a), ["article.unpublish", "article.delete", "comment.delete"].contains($a)"#,
    r#"allow if granted_role("admin"), action($a), ["user.ban", "user.grant_role", "session.revoke"].contains($a)"#,
];

/// Whether an action reads or changes data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Reads private data.
    Read,
    /// Changes data.
    Write,
}

impl Operation {
    /// The value of the `operation` fact.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Write => "write",
        }
    }
}

/// Every action that needs authorization, with the name the `action` fact carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `user.read_private`: read a user's private fields (email).
    UserReadPrivate,
    /// `user.update`: change a user's profile, email or password.
    UserUpdate,
    /// `feed.read`: read the feed built from whom a user follows.
    FeedRead,
    /// `user.follow`: follow or unfollow someone (resource: the followed user).
    UserFollow,
    /// `article.read_draft`: read an unpublished article.
    ArticleReadDraft,
    /// `article.create`: write a new article (resource: the author).
    ArticleCreate,
    /// `article.update`: change an article's text or tags.
    ArticleUpdate,
    /// `article.publish`: publish a draft.
    ArticlePublish,
    /// `article.unpublish`: turn a published article back into a draft.
    ArticleUnpublish,
    /// `article.delete`: delete an article with its comments and favorites.
    ArticleDelete,
    /// `article.favorite`: favorite or unfavorite an article.
    ArticleFavorite,
    /// `comment.create`: comment on an article (resource: the article).
    CommentCreate,
    /// `comment.delete`: delete a comment.
    CommentDelete,
    /// `session.revoke`: end a token or every session of a user (resource: the user).
    SessionRevoke,
    /// `user.ban`: ban or unban a user.
    UserBan,
    /// `user.grant_role`: change a user's role.
    UserGrantRole,
    /// `token.attenuate`: derive a narrower token from the presented one.
    TokenAttenuate,
    /// `article.subscribe`: receive an article as it is published.
    ArticleSubscribe,
    /// `comment.subscribe`: receive comments on an article as they are added.
    CommentSubscribe,
}

impl Action {
    /// The value of the `action` fact.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::UserReadPrivate => "user.read_private",
            Action::UserUpdate => "user.update",
            Action::FeedRead => "feed.read",
            Action::UserFollow => "user.follow",
            Action::ArticleReadDraft => "article.read_draft",
            Action::ArticleCreate => "article.create",
            Action::ArticleUpdate => "article.update",
            Action::ArticlePublish => "article.publish",
            Action::ArticleUnpublish => "article.unpublish",
            Action::ArticleDelete => "article.delete",
            Action::ArticleFavorite => "article.favorite",
            Action::CommentCreate => "comment.create",
            Action::CommentDelete => "comment.delete",
            Action::SessionRevoke => "session.revoke",
            Action::UserBan => "user.ban",
            Action::UserGrantRole => "user.grant_role",
            Action::TokenAttenuate => "token.attenuate",
            Action::ArticleSubscribe => "article.subscribe",
            Action::CommentSubscribe => "comment.subscribe",
        }
    }

    /// Every action, for documentation and validation.
    pub const ALL: [Action; 19] = [
        Action::UserReadPrivate,
        Action::UserUpdate,
        Action::FeedRead,
        Action::UserFollow,
        Action::ArticleReadDraft,
        Action::ArticleCreate,
        Action::ArticleUpdate,
        Action::ArticlePublish,
        Action::ArticleUnpublish,
        Action::ArticleDelete,
        Action::ArticleFavorite,
        Action::CommentCreate,
        Action::CommentDelete,
        Action::SessionRevoke,
        Action::UserBan,
        Action::UserGrantRole,
        Action::TokenAttenuate,
        Action::ArticleSubscribe,
        Action::CommentSubscribe,
    ];

    /// The action with this `action` fact value.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Whether the action reads or writes.
    pub fn operation(self) -> Operation {
        match self {
            Action::UserReadPrivate
            | Action::FeedRead
            | Action::ArticleReadDraft
            | Action::TokenAttenuate
            | Action::ArticleSubscribe
            | Action::CommentSubscribe => Operation::Read,
            Action::UserUpdate
            | Action::UserFollow
            | Action::ArticleCreate
            | Action::ArticleUpdate
            | Action::ArticlePublish
            | Action::ArticleUnpublish
            | Action::ArticleDelete
            | Action::ArticleFavorite
            | Action::CommentCreate
            | Action::CommentDelete
            | Action::SessionRevoke
            | Action::UserBan
            | Action::UserGrantRole => Operation::Write,
        }
    }
}

/// Kinds of object a capability is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceKind {
    /// A user account.
    User,
    /// An article or draft.
    Article,
    /// A comment.
    Comment,
}

impl ResourceKind {
    /// The first value of the `resource` fact.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::User => "user",
            ResourceKind::Article => "article",
            ResourceKind::Comment => "comment",
        }
    }
}

/// One operation to authorize: what is done, to what, and whose data it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    /// What is done.
    pub action: Action,
    /// Kind of the object acted on.
    pub kind: ResourceKind,
    /// Database id of the object acted on.
    pub id: i64,
    /// The user whose data is read or written; `None` for actions on accounts
    /// that nobody owns in this sense (bans, role grants).
    pub owner: Option<i64>,
    /// Whether the object is readable by anyone.
    pub public: bool,
}

impl Capability {
    /// `action` on the object `kind`/`id`, whose data belongs to `owner`.
    pub fn new(action: Action, kind: ResourceKind, id: i64, owner: i64) -> Self {
        Self {
            action,
            kind,
            id,
            owner: Some(owner),
            public: false,
        }
    }

    /// Reading an article (published or not), for subscriptions: a published
    /// article is public, a draft its author's.
    pub fn read_article(action: Action, article_id: i64, author: i64, published: bool) -> Self {
        Self {
            public: published,
            ..Self::new(action, ResourceKind::Article, article_id, author)
        }
    }

    /// `action` on the account `user_id` as an object of administration: no
    /// owner, so only a role's policy can allow it.
    pub fn administer(action: Action, user_id: i64) -> Self {
        Self {
            action,
            kind: ResourceKind::User,
            id: user_id,
            owner: None,
            public: false,
        }
    }

    /// `action` on the account of `user_id` itself.
    pub fn on_user(action: Action, user_id: i64) -> Self {
        Self::new(action, ResourceKind::User, user_id, user_id)
    }

    fn facts(&self, granted_role: Role) -> Vec<Fact> {
        let mut facts = vec![
            Fact::new(
                "operation".into(),
                vec![Term::Str(self.action.operation().as_str().into())],
            ),
            Fact::new(
                "action".into(),
                vec![Term::Str(self.action.as_str().into())],
            ),
            Fact::new(
                "resource".into(),
                vec![Term::Str(self.kind.as_str().into()), Term::Integer(self.id)],
            ),
            Fact::new(
                "granted_role".into(),
                vec![Term::Str(granted_role.as_str().into())],
            ),
        ];
        if let Some(owner) = self.owner {
            facts.push(Fact::new("owner".into(), vec![Term::Integer(owner)]));
        }
        if self.public {
            facts.push(Fact::new(
                "visibility".into(),
                vec![Term::Str("public".into())],
            ));
        }
        facts
    }
}

impl Session {
    /// Runs the authorizer for `capability` against this token: every check of
    /// every block must pass and the owner policy must match.
    pub fn authorize(&self, capability: &Capability) -> Result<()> {
        if self.unchecked {
            return Ok(());
        }
        let mut builder = AuthorizerBuilder::new()
            .set_limits(self.limits.clone())
            .time();
        for fact in capability.facts(self.granted_role) {
            builder = builder.fact(fact).map_err(internal)?;
        }
        for policy in POLICIES {
            builder = builder.policy(policy).map_err(internal)?;
        }
        let mut authorizer = builder.build(&self.token).map_err(internal)?;
        match authorizer.authorize() {
            Ok(_) => Ok(()),
            Err(error::Token::RunLimit(limit)) => {
                tracing::warn!(%limit, action = capability.action.as_str(), "token exceeded the authorizer limits");
                Err(Error::Forbidden(
                    "the token is too expensive to evaluate".into(),
                ))
            }
            Err(_) => Err(Error::Forbidden(format!(
                "the token does not allow {} on this {}",
                capability.action.as_str(),
                capability.kind.as_str()
            ))),
        }
    }
}

fn internal(err: error::Token) -> Error {
    Error::Internal(format!("building the authorizer failed: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenKeys;
    use biscuit_auth::{AuthorizerLimits, Biscuit, BlockBuilder};
    use std::time::Duration;

    fn session_for(user: i64, attenuation: Option<&str>) -> Session {
        let keys = TokenKeys::generate(Duration::from_secs(60), AuthorizerLimits::default());
        let claims = crate::auth::Claims {
            user_id: user,
            role: Role::User,
            session_epoch: 0,
        };
        let mut token = keys.mint(claims).expect("mint");
        if let Some(code) = attenuation {
            let parsed = Biscuit::from_base64(&token, keys_public(&keys)).expect("parse");
            let block = BlockBuilder::new().code(code).expect("block");
            token = parsed
                .append(block)
                .expect("append")
                .to_base64()
                .expect("encode");
        }
        keys.verify(&token).expect("verify")
    }

    fn keys_public(keys: &TokenKeys) -> biscuit_auth::PublicKey {
        biscuit_auth::PrivateKey::from_bytes_hex(
            &keys.private_key_hex(),
            biscuit_auth::Algorithm::Ed25519,
        )
        .expect("key")
        .public()
    }

    #[test]
    fn owners_may_act_on_their_own_data_only() {
        let session = session_for(1, None);
        let own = Capability::new(Action::ArticleUpdate, ResourceKind::Article, 10, 1);
        let other = Capability::new(Action::ArticleUpdate, ResourceKind::Article, 11, 2);
        assert!(session.authorize(&own).is_ok());
        assert!(matches!(
            session.authorize(&other),
            Err(Error::Forbidden(_))
        ));
    }

    #[test]
    fn a_read_only_attenuation_forbids_writes() {
        let session = session_for(1, Some(r#"check if operation("read");"#));
        let read = Capability::on_user(Action::UserReadPrivate, 1);
        let write = Capability::on_user(Action::UserUpdate, 1);
        assert!(session.authorize(&read).is_ok());
        assert!(matches!(
            session.authorize(&write),
            Err(Error::Forbidden(_))
        ));
    }

    #[test]
    fn an_attenuation_to_one_article_forbids_others() {
        let session = session_for(1, Some(r#"check if resource("article", 10);"#));
        let ten = Capability::new(Action::ArticleUpdate, ResourceKind::Article, 10, 1);
        let eleven = Capability::new(Action::ArticleUpdate, ResourceKind::Article, 11, 1);
        assert!(session.authorize(&ten).is_ok());
        assert!(session.authorize(&eleven).is_err());
    }

    #[test]
    fn moderators_remove_content_but_cannot_edit_it() {
        let mut session = session_for(1, None);
        session.granted_role = Role::Moderator;
        let delete = Capability::new(Action::ArticleDelete, ResourceKind::Article, 5, 2);
        let update = Capability::new(Action::ArticleUpdate, ResourceKind::Article, 5, 2);
        let ban = Capability::administer(Action::UserBan, 2);
        assert!(session.authorize(&delete).is_ok());
        assert!(session.authorize(&update).is_err());
        assert!(session.authorize(&ban).is_err());
        session.granted_role = Role::Admin;
        assert!(session.authorize(&ban).is_ok());
    }

    #[test]
    fn a_role_claimed_in_an_appended_block_grants_nothing() {
        let session = session_for(1, Some(r#"granted_role("admin"); role("admin");"#));
        let ban = Capability::administer(Action::UserBan, 2);
        assert!(session.authorize(&ban).is_err());
    }

    #[test]
    fn an_attenuation_cannot_grant_another_identity() {
        let session = session_for(1, Some("user(2);"));
        let theirs = Capability::new(Action::ArticleDelete, ResourceKind::Article, 5, 2);
        assert!(session.authorize(&theirs).is_err());
    }
}
