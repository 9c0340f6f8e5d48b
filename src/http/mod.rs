//! HTTP routes: GraphQL over HTTP and WebSocket on `/graphql`, GraphiQL, and
//! health probes.
//!
//! Each request's token is verified once here into a [`Viewer`], which the
//! resolvers read from the GraphQL context.

pub mod websocket;

use async_graphql::http::GraphiQLSource;
use async_graphql::{Data, ServerError};
use async_graphql_axum::GraphQLResponse;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::auth::Viewer;
use crate::error::{Error, ErrorCode};
use crate::graphql::ConduitSchema;
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct HttpState {
    /// The application state.
    pub app: AppState,
    /// The executable schema.
    pub schema: ConduitSchema,
    /// The open WebSocket connections, counted per client address.
    pub websockets: websocket::Registry,
}

/// Every route, with request ids and request tracing.
pub fn router(app: AppState, schema: ConduitSchema) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(HttpState {
            app,
            schema,
            websockets: websocket::Registry::default(),
        })
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
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The request data a viewer brings.
fn viewer_data(viewer: Viewer) -> Data {
    let mut data = Data::default();
    data.insert(viewer);
    data
}

fn error_body(code: ErrorCode, message: &str) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] })
}

/// POST /graphql: one GraphQL request as JSON.
async fn graphql_post(
    State(state): State<HttpState>,
    headers: HeaderMap,
    request_id: Option<axum::Extension<RequestId>>,
    body: Bytes,
) -> Response {
    let request_id = request_id
        .and_then(|id| id.header_value().to_str().ok().map(str::to_owned))
        .unwrap_or_default();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let viewer =
        match Viewer::from_authorization(&state.app.tokens, &state.app.access, authorization) {
            Ok(viewer) => viewer,
            Err(err) => {
                return (
                    StatusCode::OK,
                    Json(error_body(err.code(), &err.to_string())),
                )
                    .into_response();
            }
        };
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            let message = format!("the body is not a GraphQL request in JSON: {err}");
            return (
                StatusCode::BAD_REQUEST,
                Json(error_body(ErrorCode::BadUserInput, &message)),
            )
                .into_response();
        }
    };
    let mut request = request;
    request.data = viewer_data(viewer);
    let mut response = state.schema.execute(request).await;
    for error in &mut response.errors {
        label_error(error, &request_id);
    }
    GraphQLResponse::from(response).into_response()
}

/// Gives errors that have no code (parse and validation errors) BAD_USER_INPUT,
/// and adds the request id to internal errors so they can be found in the logs.
fn label_error(error: &mut ServerError, request_id: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    let code = match extensions.get("code") {
        Some(async_graphql::Value::String(code)) => code.clone(),
        _ => {
            extensions.set("code", ErrorCode::BadUserInput.as_str());
            return;
        }
    };
    if code == ErrorCode::Internal.as_str() {
        extensions.set("requestId", request_id);
    }
}

/// GET /graphql: a WebSocket upgrade for subscriptions, or GraphiQL for browsers.
async fn graphql_get(
    State(state): State<HttpState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    if !request.headers().contains_key(header::UPGRADE) {
        if !state.app.config.graphiql_enabled() {
            let message = "GraphiQL is switched off; send GraphQL requests with POST";
            return (StatusCode::NOT_FOUND, message).into_response();
        }
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql")
                .title("Conduit Gateway")
                .finish(),
        )
        .into_response();
    }
    websocket::upgrade(state, request, client.ip()).await
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
