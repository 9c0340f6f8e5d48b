//! The caller of one request.

use super::capability::{Action, Capability};
use super::token::Session;
use crate::error::{Error, Result};

/// Who is calling: nobody in particular, or the holder of a verified token.
#[derive(Clone, Debug, Default)]
pub enum Viewer {
    /// No `Authorization` header: public data only.
    #[default]
    Anonymous,
    /// A verified token.
    Signed(Session),
}

impl Viewer {
    /// The signed-in user's id, if any.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Viewer::Anonymous => None,
            Viewer::Signed(session) => Some(session.user_id),
        }
    }

    /// The signed-in user's id, or UNAUTHENTICATED.
    pub fn require_user(&self) -> Result<i64> {
        self.user_id()
            .ok_or_else(|| Error::Unauthenticated("sign in to do this".into()))
    }

    /// Authorizes `capability`: UNAUTHENTICATED when anonymous, FORBIDDEN when the
    /// token does not allow it. Returns the signed-in user's id.
    pub fn authorize(&self, capability: &Capability) -> Result<i64> {
        match self {
            Viewer::Anonymous => Err(Error::Unauthenticated("sign in to do this".into())),
            Viewer::Signed(session) => session.authorize(capability).map(|()| session.user_id),
        }
    }

    /// Authorizes `action` on the viewer's own account (creating an article,
    /// changing the profile, reading the feed). Returns the viewer's id.
    pub fn authorize_own(&self, action: Action) -> Result<i64> {
        let me = self.require_user()?;
        self.authorize(&Capability::on_user(action, me))
    }

    /// The verified session, if signed in.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Viewer::Anonymous => None,
            Viewer::Signed(session) => Some(session),
        }
    }

    /// Checks a read of public data: anonymous callers need no token, while a
    /// token must allow it, so a narrowed token is honoured.
    pub fn permits(&self, capability: &Capability) -> Result<()> {
        match self {
            Viewer::Anonymous => Ok(()),
            Viewer::Signed(session) => session.authorize(capability),
        }
    }

    /// Whether `capability` would be allowed, without an error. For filtering.
    pub fn may(&self, capability: &Capability) -> bool {
        self.authorize(capability).is_ok()
    }
}

impl Viewer {
    /// The viewer an `Authorization` header value names: none is anonymous; a
    /// `Bearer` token must verify, or the request is UNAUTHENTICATED.
    pub fn from_authorization(
        keys: &super::TokenKeys,
        access: &super::AccessList,
        header: Option<&str>,
    ) -> Result<Self> {
        match bearer_token(header)? {
            None => Ok(Viewer::Anonymous),
            Some(token) => access.admit(keys.verify(token)?).map(Viewer::Signed),
        }
    }
}

/// The token of an `Authorization` header value: `None` when there is none,
/// UNAUTHENTICATED when the value is not `Bearer <token>`.
pub fn bearer_token(header: Option<&str>) -> Result<Option<&str>> {
    let Some(value) = header.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
        _ => Err(Error::Unauthenticated(
            "the Authorization header must be 'Bearer <token>'".into(),
        )),
    }
}
