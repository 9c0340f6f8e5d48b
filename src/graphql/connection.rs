//! Relay connections: a page of a list with its edges, cursors, page info and
//! total count.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::articles::Article;
use super::comments::Comment;
use super::context::ContextExt;
use crate::auth::Viewer;
use crate::service::articles::{self, ArticleFilter};
use crate::service::comments;
use crate::service::pagination::Page;

/// Where the page came from, to count the whole list on demand.
pub enum ListSource {
    /// The articles a filter selects for a viewer.
    Articles {
        /// Who lists them.
        viewer: Viewer,
        /// What is listed.
        filter: ArticleFilter,
    },
    /// The comments of an article.
    Comments {
        /// The article.
        article_id: i64,
    },
}

/// Where a page sits in its list.
#[derive(SimpleObject, Clone)]
pub struct PageInfo {
    /// Whether more items follow this page (when paging forward).
    pub has_next_page: bool,
    /// Whether items precede this page (when paging backward, or after a cursor).
    pub has_previous_page: bool,
    /// Cursor of the first item of the page; null when the page is empty.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of the page; null when the page is empty.
    pub end_cursor: Option<String>,
}

/// Builds the page info of a page whose edges carry these cursors.
fn page_info<R>(page: &Page<R>, cursors: &[String]) -> PageInfo {
    PageInfo {
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        start_cursor: cursors.first().cloned(),
        end_cursor: cursors.last().cloned(),
    }
}

/// Counts every item of the list a connection pages through.
async fn total_count(ctx: &Context<'_>, source: &ListSource) -> Result<u64> {
    let state = ctx.state()?;
    Ok(match source {
        ListSource::Articles { viewer, filter } => articles::count(state, viewer, filter).await?,
        ListSource::Comments { article_id } => comments::count(state, *article_id).await?,
    })
}

/// Declares a connection type and its edge type for one node type.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("One ", $what, " of a page, with its cursor.")]
        #[derive(SimpleObject, Clone)]
        pub struct $edge {
            /// Opaque position of this item; pass it as `after` or `before` to page from here.
            pub cursor: String,
            #[doc = concat!("The ", $what, ".")]
            pub node: $node,
        }

        #[doc = concat!("A page of ", $what, "s, in the Relay connection shape.")]
        pub struct $connection {
            edges: Vec<$edge>,
            page_info: PageInfo,
            source: ListSource,
        }

        impl $connection {
            /// A connection over `page`; `cursor` names each row's position and
            /// `objects` turns the rows into API objects sharing one loader set.
            pub fn new<R>(
                page: Page<R>,
                source: ListSource,
                cursor: impl Fn(&R) -> String,
                objects: impl FnOnce(Vec<R>) -> Vec<$node>,
            ) -> Self {
                let cursors: Vec<String> = page.items.iter().map(&cursor).collect();
                let page_info = page_info(&page, &cursors);
                let edges = cursors
                    .into_iter()
                    .zip(objects(page.items))
                    .map(|(cursor, node)| $edge { cursor, node })
                    .collect();
                Self {
                    edges,
                    page_info,
                    source,
                }
            }
        }

        #[doc = concat!("A page of ", $what, "s, in the Relay connection shape.")]
        #[Object]
        impl $connection {
            /// The items of this page with their cursors.
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }

            /// The items of this page, without cursors.
            async fn nodes(&self) -> Vec<$node> {
                self.edges.iter().map(|e| e.node.clone()).collect()
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
