//! `counters`: counts of the whole database, one row per count (see
//! `migration::counts`).

use sea_orm::entity::prelude::*;

/// One count.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "counters")]
pub struct Model {
    /// What is counted, such as `published_articles`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The count, kept by the writes that change it.
    pub value: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
