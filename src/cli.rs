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
