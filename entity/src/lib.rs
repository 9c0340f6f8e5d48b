//! sea-orm entities: one module per table of the Conduit Gateway database.
//!
//! These are storage rows, not API types. The GraphQL layer never exposes them
//! directly (the user row carries the password hash); the service layer turns
//! them into read models first.

pub mod article;
pub mod article_tag;
pub mod comment;
pub mod counter;
pub mod favorite;
pub mod follow;
pub mod prelude;
pub mod revoked_token;
pub mod tag;
pub mod user;
