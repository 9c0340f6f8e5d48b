//! Logging and tracing set-up, and blocking work that keeps its span.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt;

use crate::config::LogFormat;

/// Installs the global tracing subscriber. `RUST_LOG` picks what is logged
/// (default: `info` for the gateway, `warn` for the SQL driver). Pretty lines
/// are coloured only on a terminal: a file or a log collector gets plain text.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let colour = colours(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colour);
    // A second initialisation (tests start several servers in one process) is harmless.
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Whether log lines carry colour codes: only when they go to a terminal, and
/// not when `NO_COLOR` is set to anything but the empty string
/// (<https://no-color.org>).
fn colours(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

/// Runs CPU-heavy work (password hashing) on tokio's blocking pool, inside the
/// caller's span so its logs stay attached to the request.
pub async fn spawn_blocking_in_span<F, R>(work: F) -> Result<R, tokio::task::JoinError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work)).await
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::colours;

    #[test]
    fn colour_goes_only_to_a_terminal_without_no_color() {
        assert!(colours(true, None));
        assert!(colours(true, Some(OsStr::new(""))));
        assert!(!colours(true, Some(OsStr::new("1"))));
        assert!(!colours(false, None));
        assert!(!colours(false, Some(OsStr::new(""))));
    }
}
