//! The `conduit` binary: parse the command line and the configuration, then run.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use conduit::app::{Application, StartError, connect};
use conduit::cli::{Cli, Command, MigrateAction};
use conduit::commands::CommandError;
use conduit::config::Config;
use conduit::counters::StatementCounter;
use conduit::seed::{self, SeedPlan};
use migration::{Migrator, MigratorTrait};

/// mimalloc instead of the system allocator: the server allocates many small,
/// short-lived objects per request from many threads, where glibc's malloc
/// spends much of the CPU and keeps freed memory (argon2's 19 MiB blocks)
/// in per-thread arenas instead of returning it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code for configuration that cannot be used.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    keep_memory_in_small_pages();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    // These need neither configuration nor a database.
    match &command {
        Command::Schema => {
            print!("{}", conduit::graphql::sdl());
            return ExitCode::SUCCESS;
        }
        Command::Token { action } => {
            return match conduit::commands::token(action) {
                Ok(out) => {
                    println!("{out}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("conduit: {err}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    let config = match Config::load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("conduit: {err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    conduit::telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("conduit: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let config_error = err
                .downcast_ref::<StartError>()
                .is_some_and(|e| matches!(e, StartError::Config(_)))
                || err
                    .downcast_ref::<CommandError>()
                    .is_some_and(|e| matches!(e, CommandError::Config(_)));
            eprintln!("conduit: {err:#}");
            if config_error {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Keeps this process out of transparent huge pages, on kernels set to use
/// them everywhere (`always`). mimalloc is built not to ask for them (its
/// `no_thp` feature), which covers kernels set to `madvise`. In huge pages each
/// 2 MiB region the heap touches is resident whole, however little of it is in
/// use, and the kernel collapses small pages into huge ones in the background,
/// so the resident size jumps by megabytes while the server is idle: the heap
/// measured 29–37 MiB in them and 11 MiB without, after the same requests.
#[cfg(target_os = "linux")]
fn keep_memory_in_small_pages() {
    if let Err(err) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("conduit: cannot turn transparent huge pages off: {err}");
    }
}

/// Transparent huge pages are a Linux setting; elsewhere there is nothing to do.
#[cfg(not(target_os = "linux"))]
fn keep_memory_in_small_pages() {}

/// How often [`return_freed_memory`] looks for freed memory to hand back:
/// mimalloc's purge delay, so pages wait about as long as they would anyway.
const FREED_MEMORY_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// Hands memory the allocator has freed back to the kernel, every
/// [`FREED_MEMORY_CHECK`], for as long as the server runs. mimalloc returns
/// freed pages a while after they are freed (its purge delay, 1 s), but only
/// when it is next called: a server that goes quiet after a burst, or after
/// start-up's 19 MiB password hash, would otherwise keep that memory resident
/// until the next request.
async fn return_freed_memory() {
    let mut ticks = tokio::time::interval(FREED_MEMORY_CHECK);
    loop {
        ticks.tick().await;
        collect_freed_memory();
    }
}

/// Purges the pages whose purge delay has passed, and the calling thread's
/// empty pages. Cheap when there is nothing to purge.
#[allow(unsafe_code)]
fn collect_freed_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread
    // at any time; it touches only the allocator's own bookkeeping.
    unsafe { libmimalloc_sys::mi_collect(false) }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            tokio::spawn(return_freed_memory());
            let app = Application::build(config).await?;
            app.run_until_stopped().await.context("server failed")?;
        }
        // Handled before the configuration is read.
        Command::Schema | Command::Token { .. } => {}
        Command::Migrate { action } => {
            let db = connect(&config, StatementCounter::default()).await?;
            match action {
                MigrateAction::Up => Migrator::up(&db, None).await?,
                MigrateAction::Down => Migrator::down(&db, Some(1)).await?,
                MigrateAction::Fresh => {
                    Migrator::down(&db, None).await?;
                    Migrator::up(&db, None).await?;
                }
                MigrateAction::Status => {
                    for migration in Migrator::get_migration_with_status(&db).await? {
                        println!(
                            "{:<10} {}",
                            format!("{:?}", migration.status()),
                            migration.name()
                        );
                    }
                }
            }
        }
        Command::Keys { action } => println!("{}", conduit::commands::keys(&config, &action)?),
        Command::Admin { action } => {
            println!("{}", conduit::commands::admin(config, action).await?)
        }
        Command::Seed {
            users,
            articles,
            comments_per_article,
            password,
        } => {
            let db = connect(&config, StatementCounter::default()).await?;
            if config.run_migrations {
                Migrator::up(&db, None).await?;
            }
            let plan = SeedPlan {
                users,
                articles,
                comments_per_article,
                password,
            };
            seed::run(&db, &plan).await?;
        }
    }
    Ok(())
}
