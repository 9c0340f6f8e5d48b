//! The database layer below the domain services: statements that read lists
//! and the plumbing they run on. Pages by keyset cursor, for one parent or
//! many in one statement ([`pagination`]); rows read by column position
//! ([`columns`]); the connections list pages are read on ([`list_reads`]);
//! tag names read once per process ([`tag_names`]); users read as profiles
//! ([`profile_rows`]); and what an article shows beside its own columns, for
//! a whole list in one statement ([`article_relations`]). Nothing here
//! authorizes: the services decide what may be read.

use std::collections::{HashMap, HashSet};

pub mod article_relations;
pub mod columns;
pub mod list_reads;
pub mod pagination;
pub mod profile_rows;
pub mod tag_names;

/// Values by database id. A map holds the ids of one list, at most a page
/// long, so they are hashed with a fast hash rather than one built to resist
/// keys chosen against it.
pub type IdMap<V> = HashMap<i64, V, rustc_hash::FxBuildHasher>;

/// A set of database ids; see [`IdMap`].
pub type IdSet = HashSet<i64, rustc_hash::FxBuildHasher>;
