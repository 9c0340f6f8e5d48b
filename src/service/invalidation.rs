//! What each write makes stale: the generations to bump after it commits.

use std::collections::BTreeSet;

use entity::{article, comment};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::tags;
use crate::cache::Generation;
use crate::error::Result;
use crate::state::AppState;

/// An article as lists and lookups see it: its slug, author and tags.
#[derive(Clone, Debug, Default)]
pub struct ArticleFootprint {
    /// Slugs it is (or was) found under.
    pub slugs: BTreeSet<String>,
    /// Its id.
    pub id: i64,
    /// Its author.
    pub author_id: i64,
    /// Tags it carries (or carried).
    pub tags: BTreeSet<String>,
}

impl ArticleFootprint {
    /// The footprint of `article` with `tags`.
    pub fn of(article: &article::Model, tags: &[String]) -> Self {
        Self {
            slugs: BTreeSet::from([article.slug.clone()]),
            id: article.id,
            author_id: article.author_id,
            tags: tags.iter().cloned().collect(),
        }
    }

    /// Adds what another version of the same article touched.
    pub fn merge(mut self, other: Self) -> Self {
        self.slugs.extend(other.slugs);
        self.tags.extend(other.tags);
        self
    }

    /// The generations an article write makes stale: its lookups, every list it
    /// appears in, and the popular tags.
    pub fn generations(&self) -> Vec<Generation> {
        let mut out: Vec<Generation> = self.slugs.iter().map(|s| Generation::article(s)).collect();
        out.push(Generation::article_id(self.id));
        out.extend(self.tags.iter().map(|t| Generation::tag_lists(t)));
        out.push(Generation::author_lists(self.author_id));
        out.push(Generation::all_lists());
        out.push(Generation::tags());
        out
    }
}

/// The footprint of the article `id` as stored now. Two statements.
pub async fn footprint(state: &AppState, article: &article::Model) -> Result<ArticleFootprint> {
    let tags = tags::for_articles(&state.db, &[article.id]).await?;
    Ok(ArticleFootprint::of(
        article,
        tags.get(&article.id).map_or(&[][..], Vec::as_slice),
    ))
}

/// After a ban or unban: everything the user wrote appears or disappears.
pub async fn user_content(state: &AppState, user_id: i64, username: &str) -> Result<()> {
    let articles = article::Entity::find()
        .filter(article::Column::AuthorId.eq(user_id))
        .all(&state.db)
        .await?;
    let ids: Vec<i64> = articles.iter().map(|a| a.id).collect();
    let tags = tags::for_articles(&state.db, &ids).await?;
    let mut generations = vec![
        Generation::profile(username),
        Generation::tags(),
        Generation::all_lists(),
    ];
    generations.push(Generation::author_lists(user_id));
    for article in &articles {
        let footprint = ArticleFootprint::of(
            article,
            tags.get(&article.id).map_or(&[][..], Vec::as_slice),
        );
        generations.extend(footprint.generations());
    }
    let commented: Vec<i64> = comment::Entity::find()
        .select_only()
        .column(comment::Column::ArticleId)
        .distinct()
        .filter(comment::Column::AuthorId.eq(user_id))
        .into_tuple()
        .all(&state.db)
        .await?;
    generations.extend(commented.into_iter().map(Generation::comments));
    generations.sort();
    generations.dedup();
    state.cache.invalidate(&generations).await;
    Ok(())
}
