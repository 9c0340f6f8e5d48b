//! `GET /metrics`: counters in the Prometheus text format, for dashboards and
//! for the benchmark harness (SQL statements per request). Served on a
//! listener of its own (`METRICS_BIND`), never on the public port.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::cache::watch::WatchStats;
use crate::error::ErrorCode;
use crate::state::AppState;

/// The counters, as Prometheus text.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        render(&app),
    )
}

/// The router of the metrics listener (`METRICS_BIND`): `/metrics` alone.
pub fn router(app: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .with_state(app)
}

/// A count of the cache's watch, or 0 without one.
fn watched(app: &AppState, count: impl Fn(&WatchStats) -> u64) -> u64 {
    app.cache.watch().map_or(0, |watch| count(&watch.stats))
}

/// Every counter with its help line and type.
fn render(app: &AppState) -> String {
    let cache = &app.cache.stats;
    let counters = [
        (
            "conduit_sql_statements_total",
            "SQL statements run for requests (the pool and the list reads)",
            app.statements.get(),
        ),
        (
            "conduit_cache_hits_total",
            "Cached reads answered from the cache (the store, or this instance's copy of a response)",
            cache.hits.load(Ordering::Relaxed),
        ),
        (
            "conduit_cache_near_hits_total",
            "Anonymous responses answered from this instance's copy after reading only the generations",
            app.near_responses
                .as_ref()
                .map_or(0, |near| near.hits.load(Ordering::Relaxed)),
        ),
        (
            "conduit_cache_freshness_reads_total",
            "Reads of the generations before serving copies; requests that arrive together share one",
            app.near_responses
                .as_ref()
                .map_or(0, |near| near.freshness_reads()),
        ),
        (
            "conduit_cache_watch_announcements_total",
            "Invalidations of the responses' generation this instance announced to every instance over Redis",
            watched(app, |stats| stats.announced.load(Ordering::Relaxed)),
        ),
        (
            "conduit_cache_watch_unconfirmed_total",
            "Announced invalidations that some instance did not confirm within a lease; the write waited the lease out",
            watched(app, |stats| stats.unconfirmed.load(Ordering::Relaxed)),
        ),
        (
            "conduit_cache_misses_total",
            "Cached reads that went to the database",
            cache.misses.load(Ordering::Relaxed),
        ),
        (
            "conduit_cache_store_failures_total",
            "Cache store operations that failed or timed out",
            cache.failures.load(Ordering::Relaxed),
        ),
        (
            "conduit_rate_limit_store_failures_total",
            "Rate-limit charges the shared store failed",
            app.rate_limits.store_failures(),
        ),
        (
            "conduit_rate_limit_charge_rounds_total",
            "Round trips that took points from budgets in the shared store; charges that arrive together share one, and charges paid from a lease need none",
            app.rate_limits.charge_rounds().unwrap_or(0),
        ),
        (
            "conduit_graphql_responses_total",
            "GraphQL responses sent over HTTP, each response of a batch counted alone",
            app.responses.responses(),
        ),
        (
            "conduit_graphql_error_responses_total",
            "GraphQL responses sent over HTTP that carried at least one error",
            app.responses.with_errors(),
        ),
        (
            "conduit_graphql_lists_direct_total",
            "Lists of objects answered straight from the values their items hold",
            app.lists.direct.load(Ordering::Relaxed),
        ),
        (
            "conduit_graphql_lists_resolved_total",
            "Lists of objects answered through field resolvers, as a field of an item could be neither answered nor loaded for the whole list, or the transport writes its own JSON",
            app.lists.resolved.load(Ordering::Relaxed),
        ),
    ];
    let mut text = String::new();
    for (name, help, value) in counters {
        let _ = writeln!(
            text,
            "# HELP {name} {help}.\n# TYPE {name} counter\n{name} {value}"
        );
    }
    let name = "conduit_graphql_errors_total";
    let _ = writeln!(
        text,
        "# HELP {name} Errors in GraphQL responses sent over HTTP, by extensions.code.\n# TYPE {name} counter"
    );
    for code in ErrorCode::ALL {
        let value = app.responses.errors(code);
        let _ = writeln!(text, "{name}{{code=\"{}\"}} {value}", code.as_str());
    }
    text
}
