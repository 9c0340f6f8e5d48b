//! `revoked_tokens`: tokens ended by logout before they expire.

use sea_orm::entity::prelude::*;

/// One revoked token, by the revocation id of its last block.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revoked_tokens")]
pub struct Model {
    /// Hex-encoded revocation id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub revocation_id: String,
    /// Whose token it was.
    pub user_id: i64,
    /// When it was revoked.
    pub revoked_at: DateTimeUtc,
    /// When the token would have expired anyway.
    pub expires_at: DateTimeUtc,
}

/// Relations of a revoked token.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The token's user.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl ActiveModelBehavior for ActiveModel {}
