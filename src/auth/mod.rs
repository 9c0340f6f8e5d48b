//! Who is calling and what they may do.
//!
//! - [`password`]: argon2id hashing and verification, off the async workers.
//! - [`token`]: minting and verifying biscuit capability tokens; [`keys`]: the
//!   key ring that signs them; [`role`]: user, moderator, admin.
//! - [`access`]: revocations, ended sessions, bans and role changes, checked on
//!   every request from memory.
//! - [`capability`]: the one authorization mechanism: every private read and every
//!   write asks a biscuit authorizer, fed with facts about the operation.
//! - [`attenuation`]: the checks a narrowed token carries;
//!   [`appended_blocks`]: the bounds on what a holder may append.
//! - [`viewer`]: the caller of one request, anonymous or holding a verified token.

pub mod access;
pub mod appended_blocks;
pub mod attenuation;
pub mod capability;
pub mod keys;
pub mod password;
pub mod role;
pub mod token;
pub mod viewer;

pub use access::AccessList;
pub use capability::{Action, Capability, Operation};
pub use password::Passwords;
pub use role::Role;
pub use token::{Claims, Session, TokenKeys};
pub use viewer::Viewer;
