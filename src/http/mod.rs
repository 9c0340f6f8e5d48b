//! HTTP routes: GraphQL over HTTP and WebSocket on `/graphql`, GraphiQL and its assets
//! and health probes, behind CORS, header limits, request ids and request tracing;
//! `/metrics` on a listener of its own ([`metrics::router`]).
//!
//! Each request's token is verified once here into a [`Viewer`](crate::auth::Viewer),
//! which the resolvers read from the GraphQL context.

pub mod authentication;
pub mod cors;
pub mod csrf;
pub mod graphiql;
pub mod graphql;
pub mod limits;
pub mod metrics;
pub mod negotiation;
pub mod params;
pub mod websocket;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::error::Error;
use crate::graphql::admission::GuardedSchema;
use crate::state::AppState;
use limits::{HeaderLimits, HeaderLimitsLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The rate-limit headers, named as GitHub names them: points per window,
/// points left, points used, and when the window resets (Unix seconds).
const RATE_LIMIT_HEADERS: [HeaderName; 4] = [
    HeaderName::from_static("x-ratelimit-limit"),
    HeaderName::from_static("x-ratelimit-remaining"),
    HeaderName::from_static("x-ratelimit-used"),
    HeaderName::from_static("x-ratelimit-reset"),
];

/// What the HTTP handlers share: one reference count to clone per request,
/// however much the state holds.
#[derive(Clone)]
pub struct HttpState(Arc<HttpShared>);

impl std::ops::Deref for HttpState {
    type Target = HttpShared;

    fn deref(&self) -> &HttpShared {
        &self.0
    }
}

/// The state behind [`HttpState`].
pub struct HttpShared {
    /// The application state.
    pub app: AppState,
    /// The executable schema, behind its admission checks.
    pub schema: GuardedSchema,
    /// The open WebSocket connections, counted per client address.
    pub websockets: websocket::Registry,
}

/// Every route, with CORS, header limits, request ids and request tracing.
///
/// The layers wrap the routes as one service rather than each route: a router
/// copies the route it calls for every request, and a layered route copies
/// each of its layers with it.
pub fn router(app: AppState, schema: GuardedSchema) -> Router {
    let cors = cors::CorsLayer::new(&app.config.protection);
    let header_limits = HeaderLimits::from(&*app.config);
    let state = HttpState(Arc::new(HttpShared {
        app,
        schema,
        websockets: websocket::Registry::default(),
    }));
    let routes = Router::new()
        .route(
            "/graphql",
            get(graphql::graphql_get).post(graphql::graphql_post),
        )
        .route(graphiql::ASSETS_ROUTE, get(graphiql::asset))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state);
    let layered = ServiceBuilder::new()
        .layer(HeaderLimitsLayer(header_limits))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
            }),
        )
        .layer(cors)
        .service(routes);
    Router::new().fallback_service(layered)
}

/// Gives a request that came without an `x-request-id` a random UUID (v4) as
/// its id, written straight into the header value.
#[derive(Clone, Copy, Debug)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
        let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(id).ok().map(RequestId::new)
    }
}

/// GET /healthz: the process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// GET /readyz: the database answers.
async fn readyz(State(state): State<HttpState>) -> Response {
    match state.app.db.ping().await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %Error::from(err), "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
