//! Who is calling and what they may do.
//!
//! - [`password`]: argon2id hashing and verification, off the async workers.
//! - [`token`]: minting and verifying biscuit capability tokens.
//! - [`capability`]: the one authorization mechanism: every private read and every
//!   write asks a biscuit authorizer, fed with facts about the operation.
//! - [`viewer`]: the caller of one request, anonymous or holding a verified token.

pub mod capability;
pub mod password;
pub mod token;
pub mod viewer;

pub use capability::{Action, Capability, Operation};
pub use password::Passwords;
pub use token::{Session, TokenKeys};
pub use viewer::Viewer;
