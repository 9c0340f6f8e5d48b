//! Tag names by id, known to the process once read.
//!
//! A tag is never renamed and never deleted, and its id is never given to
//! another tag, so a name read once is right for good: lists of articles read
//! their tags' ids and name them here, and the database reads only the ids
//! it has not named yet. Joining `tags` for every card was a large part of
//! a home page's statement. This is not the cache: it holds no
//! data that a write can change, and it is the same with the cache off.

use std::sync::{Arc, PoisonError, RwLock};

use entity::tag;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::{IdMap, IdSet};
use crate::error::Result;

/// The most names kept; beyond it, names not yet known are read every time.
const MOST_NAMES: usize = 100_000;

/// Every tag name this process has read, by tag id.
#[derive(Default)]
pub struct TagNames {
    known: RwLock<IdMap<Arc<str>>>,
}

impl TagNames {
    /// The names of `lists` (lists of tag ids), each sorted alphabetically
    /// ([`sort_alphabetically`]). Ids not known yet are read in one
    /// statement; an id with no tag is left out.
    pub async fn name_all(
        &self,
        db: &DatabaseConnection,
        lists: Vec<Vec<i64>>,
    ) -> Result<Vec<Vec<String>>> {
        let missing: IdSet = {
            let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
            lists
                .iter()
                .flatten()
                .filter(|id| !known.contains_key(id))
                .copied()
                .collect()
        };
        let mut read = IdMap::default();
        if !missing.is_empty() {
            let rows: Vec<(i64, String)> = tag::Entity::find()
                .select_only()
                .column(tag::Column::Id)
                .column(tag::Column::Name)
                .filter(tag::Column::Id.is_in(missing))
                .into_tuple()
                .all(db)
                .await?;
            let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
            for (id, name) in rows {
                let name: Arc<str> = name.into();
                if known.len() < MOST_NAMES {
                    known.insert(id, name.clone());
                }
                read.insert(id, name);
            }
        }
        let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
        Ok(lists
            .into_iter()
            .map(|ids| {
                let mut names: Vec<String> = ids
                    .iter()
                    .filter_map(|id| known.get(id).or_else(|| read.get(id)))
                    .map(|name| String::from(&**name))
                    .collect();
                sort_alphabetically(&mut names);
                names
            })
            .collect())
    }
}

/// Sorts tag names alphabetically: by their lower-case letters, and names
/// that differ only in case by code point. The same on every backend,
/// whatever its collation.
pub fn sort_alphabetically(names: &mut [String]) {
    fn lower(name: &str) -> impl Iterator<Item = char> + '_ {
        name.chars().flat_map(char::to_lowercase)
    }
    names.sort_by(|a, b| lower(a).cmp(lower(b)).then_with(|| a.cmp(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_alphabetically_whatever_their_case() {
        let mut names: Vec<String> = ["web", "Rust", "async", "rust", "Élan", "go"]
            .map(String::from)
            .to_vec();
        sort_alphabetically(&mut names);
        assert_eq!(names, ["async", "go", "Rust", "rust", "web", "Élan"]);
    }
}
