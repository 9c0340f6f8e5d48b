//! The GraphiQL playground served on `GET /graphql` to browsers.

use axum::response::{Html, IntoResponse, Response};

/// The GraphiQL page, pointed at `/graphql` for queries and subscriptions.
pub fn page() -> Response {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .title("Conduit Gateway")
            .finish(),
    )
    .into_response()
}
