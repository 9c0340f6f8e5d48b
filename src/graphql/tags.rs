//! Tags: the popular-tags list.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::context::ContextExt;
use crate::error::Error;
use crate::service::tags;

/// A tag and how many published articles carry it.
#[derive(SimpleObject)]
pub struct Tag {
    /// The tag.
    pub name: String,
    /// How many published articles carry it.
    pub article_count: i64,
}

/// Root fields about tags.
#[derive(Default)]
pub struct TagQuery;

#[Object]
impl TagQuery {
    /// The most used tags on published articles, most used first.
    async fn tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many tags, 1 to 100.", default = 20)] first: i32,
    ) -> Result<Vec<Tag>> {
        let limit = u64::try_from(first)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                Error::invalid_field("first", format!("must be between 1 and 100, got {first}"))
            })?;
        let popular = tags::popular_cached(ctx.state()?, limit).await?;
        Ok(popular
            .into_iter()
            .map(|t| Tag {
                name: t.name,
                article_count: t.articles,
            })
            .collect())
    }
}
