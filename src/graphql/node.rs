//! Relay object identification: opaque global ids, the `Node` interface and
//! the `node`/`nodes` queries.

use async_graphql::{Context, ID, Interface, Object, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::articles::Article;
use super::comments::Comment;
use super::context::ContextExt;
use super::loaders::{ArticleSet, UserSet};
use super::users::User;
use crate::service::{articles, comments, users};

/// The kinds of object a global id can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A user.
    User,
    /// An article.
    Article,
    /// A comment.
    Comment,
}

impl NodeKind {
    fn as_str(self) -> &'static str {
        match self {
            NodeKind::User => "User",
            NodeKind::Article => "Article",
            NodeKind::Comment => "Comment",
        }
    }
}

/// The global id of an object: opaque to clients, stable for the object's life.
pub fn global_id(kind: NodeKind, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.as_str())))
}

/// Reads a global id; `None` for anything this API did not produce.
pub fn parse_global_id(id: &str) -> Option<(NodeKind, i64)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
    let (kind, raw) = text.split_once(':')?;
    let kind = match kind {
        "User" => NodeKind::User,
        "Article" => NodeKind::Article,
        "Comment" => NodeKind::Comment,
        _ => return None,
    };
    Some((kind, raw.parse().ok()?))
}

/// Reads a global id of the expected kind; `None` otherwise.
pub fn parse_id_of(kind: NodeKind, id: &str) -> Option<i64> {
    parse_global_id(id).and_then(|(k, raw)| (k == kind).then_some(raw))
}

/// An object with a global id, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's opaque global id."))]
pub enum Node {
    /// A user.
    User(User),
    /// An article.
    Article(Article),
    /// A comment.
    Comment(Comment),
}

/// Root fields for Relay object identification.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this global id, or null when it does not exist or the
    /// viewer may not see it (someone else's draft, or a comment on one).
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id from any object's `id` field.")] id: ID,
    ) -> Result<Option<Node>> {
        resolve(ctx, &id).await
    }

    /// The objects with these global ids, in the same order; null for each that
    /// does not exist or is hidden from the viewer. At most 100 ids.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, at most 100.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(
                crate::error::Error::invalid_field("ids", "at most 100 ids at once").into(),
            );
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(resolve(ctx, id).await?);
        }
        Ok(out)
    }
}

async fn resolve(ctx: &Context<'_>, id: &ID) -> Result<Option<Node>> {
    let Some((kind, raw)) = parse_global_id(id) else {
        return Ok(None);
    };
    let viewer = ctx.viewer()?;
    let db = &ctx.state()?.db;
    Ok(match kind {
        NodeKind::User => users::by_ids(db, &[raw])
            .await?
            .remove(&raw)
            .filter(|u| u.banned_at.is_none())
            .map(|u| Node::User(UserSet::object(u))),
        NodeKind::Article => articles::find_by_id_cached(ctx.state()?, viewer, raw)
            .await?
            .map(|(a, counts)| Node::Article(ArticleSet::read(a, counts))),
        NodeKind::Comment => comments::find_visible(db, viewer, raw)
            .await?
            .map(|(c, _)| Node::Comment(Comment::object(c))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_reject_foreign_strings() {
        let id = global_id(NodeKind::Article, 12);
        assert_eq!(parse_global_id(&id), Some((NodeKind::Article, 12)));
        assert_eq!(parse_id_of(NodeKind::Comment, &id), None);
        assert_eq!(parse_global_id("12"), None);
        assert_eq!(parse_global_id(&URL_SAFE_NO_PAD.encode("Tag:1")), None);
    }
}
