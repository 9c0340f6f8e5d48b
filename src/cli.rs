//! The `conduit` command line.

use clap::{Parser, Subcommand};

/// Conduit Gateway: the GraphQL API of the Conduit publishing app.
#[derive(Debug, Parser)]
#[command(name = "conduit", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API over HTTP (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        /// The migration step.
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL); needs no database.
    Schema,
    /// Manage the token signing keys.
    Keys {
        /// What to do.
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Administer accounts.
    Admin {
        /// What to do.
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Narrow or read tokens offline.
    Token {
        /// What to do.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Fill the database with realistic demo data.
    Seed {
        /// How many users to create.
        #[arg(long, default_value_t = 100)]
        users: u64,
        /// How many articles to create, spread over the users.
        #[arg(long, default_value_t = 1000)]
        articles: u64,
        /// Comments per article, on average.
        #[arg(long, default_value_t = 5)]
        comments_per_article: u64,
        /// Password every seeded user gets.
        #[arg(long, default_value = "password123")]
        password: String,
    },
}

/// Key ring commands.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysAction {
    /// Print a new random private key, for `TOKEN_PRIVATE_KEY`.
    Generate,
    /// Add a key to the ring and sign with it from the next start; older keys keep verifying.
    Rotate,
    /// Remove a key from the ring: tokens it signed stop working.
    Retire {
        /// The key id, as `keys list` shows it.
        id: u32,
    },
    /// List the keys in the ring.
    List,
}

/// Admin commands.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminAction {
    /// Create the first admin, or make an existing user an admin.
    Create {
        /// Username.
        #[arg(long)]
        username: String,
        /// Email, for a new account.
        #[arg(long)]
        email: String,
        /// Password, for a new account.
        #[arg(long, env = "CONDUIT_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

/// Token commands that work offline, without the server's keys.
#[derive(Debug, Clone, Subcommand)]
pub enum TokenAction {
    /// Append a block that narrows a token.
    Attenuate {
        /// The token to narrow.
        #[arg(long, env = "CONDUIT_TOKEN", hide_env_values = true)]
        token: String,
        /// Allow reads only.
        #[arg(long)]
        read_only: bool,
        /// Allow only operations on this article id (repeatable).
        #[arg(long = "article")]
        articles: Vec<i64>,
        /// Allow only this action, e.g. comment.create (repeatable).
        #[arg(long = "action")]
        actions: Vec<String>,
        /// Stop working this many seconds from now.
        #[arg(long)]
        expires_in: Option<i64>,
    },
    /// Print a token's blocks.
    Inspect {
        /// The token to read.
        #[arg(long, env = "CONDUIT_TOKEN", hide_env_values = true)]
        token: String,
    },
}

/// Migration steps.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the latest migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
    /// Roll back every migration (dropping the tables) and apply them all again.
    Fresh,
}
