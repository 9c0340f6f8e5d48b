//! Relay connections: a page of a list with its edges, cursors, page info and
//! total count.

use std::sync::Arc;

use async_graphql::{Context, Object, Result, Value};

use super::articles::Article;
use super::comments::Comment;
use super::context::ContextExt;
use super::loaders::{ArticleSet, UserSet};
use super::ready::{Arguments, FieldLoad, Ready, ReadyList, ReadyObject};
use crate::auth::Viewer;
use crate::db::pagination::{Cursor, Page};
use crate::service::articles::{self, ArticleFilter, UserArticles};
use crate::state::AppState;

/// Where the page came from, to count the whole list on demand.
pub enum ListSource {
    /// The articles a filter selects for a viewer.
    Articles {
        /// Who lists them.
        viewer: Viewer,
        /// What is listed.
        filter: ArticleFilter,
    },
    /// The comments of an article, counted with its set's relations.
    Comments {
        /// The article.
        article_id: i64,
        /// The count, when the article's row holds it as it is now.
        count: Option<i64>,
        /// The set the article was read with.
        set: Arc<ArticleSet>,
    },
    /// One of a user's lists of articles, counted for the user's whole set.
    UserArticles {
        /// The user.
        user_id: i64,
        /// Which list.
        list: UserArticles,
        /// The set the user was read with.
        set: Arc<UserSet>,
    },
}

/// Where a page sits in its list.
#[derive(Clone)]
pub struct PageInfo {
    has_next_page: bool,
    has_previous_page: bool,
    start: Option<Cursor>,
    end: Option<Cursor>,
}

/// Where a page sits in its list.
#[Object]
impl PageInfo {
    /// Whether more items follow this page (when paging forward).
    async fn has_next_page(&self) -> bool {
        self.has_next_page
    }

    /// Whether items precede this page (when paging backward, or after a cursor).
    async fn has_previous_page(&self) -> bool {
        self.has_previous_page
    }

    /// Cursor of the first item of the page; null when the page is empty.
    async fn start_cursor(&self) -> Option<String> {
        self.start.as_ref().map(Cursor::encode)
    }

    /// Cursor of the last item of the page; null when the page is empty.
    async fn end_cursor(&self) -> Option<String> {
        self.end.as_ref().map(Cursor::encode)
    }
}

/// Where a page sits, from the values it holds.
impl ReadyObject for PageInfo {
    fn type_name(&self) -> &'static str {
        "PageInfo"
    }

    fn ready_field(&self, field: &str, _viewer: &Viewer) -> Ready<'_> {
        match field {
            "hasNextPage" => Ready::leaf(&self.has_next_page),
            "hasPreviousPage" => Ready::leaf(&self.has_previous_page),
            "startCursor" => Ready::leaf(&self.start.as_ref().map(Cursor::encode)),
            "endCursor" => Ready::leaf(&self.end.as_ref().map(Cursor::encode)),
            _ => Ready::Pending,
        }
    }
}

/// Whether the connection field at `ctx` shows anything of its page (its
/// edges, nodes or page info). One that shows only `totalCount` or
/// `__typename` reads no page.
pub fn shows_page(ctx: &Context<'_>) -> bool {
    let connection = ctx.look_ahead();
    ["edges", "nodes", "pageInfo"]
        .iter()
        .any(|field| connection.field(field).exists())
}

/// A page that was not read, for a connection that shows none of it.
pub fn unread<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        has_next_page: false,
        has_previous_page: false,
    }
}

/// Builds the page info of a page whose edges sit at these positions.
fn page_info<R>(page: &Page<R>, cursors: &[Cursor]) -> PageInfo {
    PageInfo {
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        start: cursors.first().copied(),
        end: cursors.last().copied(),
    }
}

/// Counts every item of the list a connection pages through.
async fn total_count(ctx: &Context<'_>, source: &ListSource) -> Result<u64> {
    let (state, viewer) = (ctx.state()?, ctx.viewer()?);
    if let ListSource::Articles { viewer, filter } = source {
        return Ok(articles::count(state, viewer, filter).await?);
    }
    if let Some(count) = loaded_total(source) {
        return Ok(count);
    }
    if let Some(load) = load_total(source, state, viewer) {
        load.load.await?;
    }
    Ok(loaded_total(source).unwrap_or(0))
}

/// The count of a nested list when its row or its set holds it already.
fn loaded_total(source: &ListSource) -> Option<u64> {
    let count = match source {
        ListSource::Articles { .. } => return None,
        ListSource::Comments {
            count: Some(count), ..
        } => *count,
        ListSource::Comments {
            article_id, set, ..
        } => set.relations.loaded(*article_id)?.map_or(0, |r| r.comments),
        ListSource::UserArticles { user_id, list, set } => {
            set.article_counts.loaded(*list, *user_id)?
        }
    };
    Some(u64::try_from(count).unwrap_or(0))
}

/// The load after which [`loaded_total`] knows the count of a nested list,
/// for every member of its set at once.
fn load_total<'s>(
    source: &ListSource,
    state: &'s AppState,
    viewer: &'s Viewer,
) -> Option<FieldLoad<'s>> {
    match source {
        ListSource::Articles { .. } => None,
        ListSource::Comments {
            article_id, set, ..
        } => {
            let (articles, member) = (set.clone(), *article_id);
            let load = async move {
                let fetch = || articles.load_relations(state);
                articles.relations.load(member, fetch).await.map(drop)
            };
            Some(FieldLoad::new(set, Box::pin(load)))
        }
        ListSource::UserArticles { user_id, list, set } => {
            let (users, member, list) = (set.clone(), *user_id, *list);
            let load = async move {
                let fetch = || articles::counts_per_user(&state.db, viewer, list, users.ids());
                users
                    .article_counts
                    .count(list, member, fetch)
                    .await
                    .map(drop)
            };
            Some(FieldLoad::new(set, Box::pin(load)))
        }
    }
}

/// Declares a connection type and its edge type for one node type.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("One ", $what, " of a page, with its cursor.")]
        #[derive(Clone)]
        pub struct $edge {
            /// Where the item sits; written out only when asked for.
            position: Cursor,
            node: $node,
        }

        #[doc = concat!("One ", $what, " of a page, with its cursor.")]
        #[Object]
        impl $edge {
            /// Opaque position of this item; pass it as `after` or `before` to page from here.
            async fn cursor(&self) -> String {
                self.position.encode()
            }

            #[doc = concat!("The ", $what, ".")]
            async fn node(&self) -> &$node {
                &self.node
            }
        }

        /// An edge's fields: its cursor and its node.
        impl ReadyObject for $edge {
            fn type_name(&self) -> &'static str {
                stringify!($edge)
            }

            fn ready_field(&self, field: &str, _viewer: &Viewer) -> Ready<'_> {
                match field {
                    "cursor" => Ready::Value(Value::String(self.position.encode())),
                    "node" => Ready::Object(&self.node),
                    _ => Ready::Pending,
                }
            }
        }

        #[doc = concat!("A page of ", $what, "s, in the Relay connection shape.")]
        pub struct $connection {
            edges: Vec<$edge>,
            page_info: PageInfo,
            source: ListSource,
        }

        impl $connection {
            /// A connection over `page`; `cursor` gives each row's position and
            /// `objects` turns the rows into API objects sharing one loader set.
            /// Cursors are written out only for the clients that ask for them.
            pub fn new<R>(
                page: Page<R>,
                source: ListSource,
                cursor: impl Fn(&R) -> Cursor,
                objects: impl FnOnce(Vec<R>) -> Vec<$node>,
            ) -> Self {
                let cursors: Vec<Cursor> = page.items.iter().map(&cursor).collect();
                let page_info = page_info(&page, &cursors);
                let edges = cursors
                    .into_iter()
                    .zip(objects(page.items))
                    .map(|(position, node)| $edge { position, node })
                    .collect();
                Self {
                    edges,
                    page_info,
                    source,
                }
            }

            /// A connection over `page`, whose items are API objects already;
            /// `cursor` gives each one's position.
            pub fn of_objects(
                page: Page<$node>,
                source: ListSource,
                cursor: impl Fn(&$node) -> Cursor,
            ) -> Self {
                Self::new(page, source, cursor, |nodes| nodes)
            }
        }

        /// A page's fields from its edges, and its count when at hand.
        impl ReadyObject for $connection {
            fn type_name(&self) -> &'static str {
                stringify!($connection)
            }

            fn ready_field(&self, field: &str, _viewer: &Viewer) -> Ready<'_> {
                match field {
                    "edges" => {
                        Ready::List(self.edges.iter().map(|e| e as &dyn ReadyObject).collect())
                    }
                    "nodes" => Ready::List(
                        self.edges
                            .iter()
                            .map(|e| &e.node as &dyn ReadyObject)
                            .collect(),
                    ),
                    "pageInfo" => Ready::Object(&self.page_info),
                    "totalCount" => {
                        loaded_total(&self.source).map_or(Ready::Pending, |n| Ready::leaf(&n))
                    }
                    _ => Ready::Pending,
                }
            }

            fn load_field<'s>(
                &self,
                field: &str,
                _arguments: Option<&Arguments>,
                state: &'s AppState,
                viewer: &'s Viewer,
            ) -> Option<FieldLoad<'s>> {
                match field {
                    "totalCount" => load_total(&self.source, state, viewer),
                    _ => None,
                }
            }
        }

        #[doc = concat!("A page of ", $what, "s, in the Relay connection shape.")]
        #[Object]
        impl $connection {
            /// The items of this page with their cursors.
            async fn edges(&self) -> ReadyList<'_, $edge> {
                ReadyList::new(&self.edges)
            }

            /// The items of this page, without cursors.
            async fn nodes(&self) -> ReadyList<'_, $node> {
                ReadyList::new(self.edges.iter().map(|e| &e.node))
            }

            /// Where this page sits in the list.
            async fn page_info(&self) -> &PageInfo {
                &self.page_info
            }

            /// How many items the whole list holds, across all pages.
            async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
                total_count(ctx, &self.source).await
            }
        }
    };
}

connection!(ArticleConnection, ArticleEdge, Article, "article");
connection!(CommentConnection, CommentEdge, Comment, "comment");
