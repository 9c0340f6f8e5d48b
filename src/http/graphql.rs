//! GraphQL over HTTP (<https://graphql.github.io/graphql-over-http/>): POST with
//! a JSON body, GET with a query string (queries only), content negotiation,
//! CSRF prevention, body limits, batching and the request timeout.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_graphql::parser::types::OperationType;
use async_graphql::{Executor, ServerError};
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use serde_json::value::RawValue;

use super::HttpState;
use super::authentication::authenticate;
use super::csrf;
use super::negotiation::{ContentTypeError, ResponseType, check_json_content_type, negotiate};
use super::params::{GraphQLParams, parse_json_body};
use crate::auth::Viewer;
use crate::cache::near_responses::{self, NearResponse};
use crate::cache::{Lookup, Miss};
use crate::counters::ResponseStats;
use crate::documents::{DocumentResolver, ResolvedDocument, requested_hash};
use crate::error::{Error, ErrorCode, label_error};
use crate::graphql::admission::passed_validation;
use crate::graphql::json;
use crate::graphql::rate_limit::{Budgets, Prepaid, RateLimitTicket, charge_cost};
use crate::graphql::ready::JsonTextLists;
use crate::graphql::response_cache::{self, CachedResponse, ResponseScope};
use crate::ratelimit::Charge;

/// How a response is written: its media type, the request id for errors, and
/// where the responses sent and their errors are counted.
#[derive(Clone)]
struct Reply {
    response_type: ResponseType,
    request_id: String,
    client: IpAddr,
    stats: Arc<ResponseStats>,
}

impl Reply {
    /// An error response outside GraphQL execution.
    fn error(&self, status: StatusCode, error: Error) -> Response {
        self.json(status, &self.error_json(error))
    }

    /// The body of a response that carries only `error`, counted.
    fn error_json(&self, error: Error) -> Value {
        self.stats.record([error.code().as_str()]);
        error_json(error, &self.request_id)
    }

    /// Counts a response answered from the cache (only successes are cached).
    fn count_cached(&self) {
        self.stats.record([]);
    }

    /// The JSON text of an executed response, counted with its errors' codes,
    /// and whether it failed as a whole before execution.
    fn response_text(&self, mut response: async_graphql::Response) -> (String, bool) {
        for error in &mut response.errors {
            label_error(error, Some(&self.request_id));
        }
        self.stats.record(response.errors.iter().map(code_of));
        response_text(&self.request_id, response)
    }

    /// A refused token: 401 with a `WWW-Authenticate` challenge.
    fn unauthorized(&self, error: Error) -> Response {
        let mut response = self.error(StatusCode::UNAUTHORIZED, error);
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        response
    }

    fn json(&self, status: StatusCode, body: &Value) -> Response {
        self.body(status, body.to_string())
    }

    /// A response with a JSON body already written. Its header map is made
    /// with room for every header it leaves with, so it is not grown on the way.
    fn body(&self, status: StatusCode, body: impl Into<Body>) -> Response {
        let mut headers = HeaderMap::with_capacity(RESPONSE_HEADERS);
        headers.insert(header::CONTENT_TYPE, self.response_type.content_type());
        let mut response = Response::new(body.into());
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
    }
}

/// The most headers a GraphQL response is sent with: its type, the four
/// rate-limit headers, `Retry-After`, the request id, `Vary` and three CORS
/// headers.
const RESPONSE_HEADERS: usize = 12;

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// POST /graphql: one request, or a batch when batching is on, as JSON.
pub async fn graphql_post(
    State(state): State<HttpState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let request_id = request_id(headers);
    let Some(response_type) = negotiate(headers) else {
        return not_acceptable(&state, request_id);
    };
    let reply = Reply {
        response_type,
        request_id,
        client: client.ip(),
        stats: state.app.responses.clone(),
    };
    if let Err(err) = check_json_content_type(headers) {
        let message = match err {
            ContentTypeError::Missing => "a POST needs Content-Type: application/json".to_owned(),
            ContentTypeError::Unsupported(given) => {
                format!("Content-Type {given} is not supported; send application/json")
            }
        };
        return reply.error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::BadRequest(message),
        );
    }
    let limits = &state.app.config.protection;
    let body = match to_bytes(body, limits.max_body_bytes).await {
        Ok(body) => body,
        Err(_) => {
            let error = Error::LimitExceeded {
                limit: "bodyBytes",
                max: limits.max_body_bytes as u64,
                actual: limits.max_body_bytes as u64 + 1,
            };
            return reply.error(StatusCode::PAYLOAD_TOO_LARGE, error);
        }
    };
    let json = match parse_json_body(&body) {
        Ok(json) => json,
        Err(err) => {
            return reply.error(StatusCode::BAD_REQUEST, Error::invalid_field("body", err.0));
        }
    };
    let viewer = match authenticate_request(&state, headers, &reply).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    match json {
        Value::Array(items) => run_batch(&state, viewer, items, &reply).await,
        single => match GraphQLParams::from_json(single) {
            Ok(params) => run_one(&state, viewer, params, Method::POST, &reply).await,
            Err(err) => reply.error(StatusCode::BAD_REQUEST, Error::invalid_field("body", err.0)),
        },
    }
}

/// GET /graphql: a WebSocket upgrade, a query in the query string, or GraphiQL.
pub async fn graphql_get(
    State(state): State<HttpState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    if request.headers().contains_key(header::UPGRADE) {
        return super::websocket::upgrade(state, request, client.ip()).await;
    }
    let (parts, _) = request.into_parts();
    let headers = &parts.headers;
    let query_string = parts.uri.query().unwrap_or_default();
    let carries_request = serde_urlencoded::from_str::<Vec<(String, String)>>(query_string)
        .map(|pairs| {
            pairs
                .iter()
                .any(|(name, _)| name == "query" || name == "extensions")
        })
        .unwrap_or(true);
    if !carries_request && state.app.config.graphiql_enabled() && accepts_html(headers) {
        return super::graphiql::page();
    }
    let request_id = request_id(headers);
    let Some(response_type) = negotiate(headers) else {
        return not_acceptable(&state, request_id);
    };
    let reply = Reply {
        response_type,
        request_id,
        client: client.ip(),
        stats: state.app.responses.clone(),
    };
    if !carries_request {
        let message = if state.app.config.graphiql_enabled() {
            "a GET needs a `query` parameter (browsers asking for HTML get GraphiQL)"
        } else {
            "a GET needs a `query` parameter; GraphiQL is switched off"
        };
        return reply.error(StatusCode::BAD_REQUEST, Error::BadRequest(message.into()));
    }
    if state.app.config.protection.csrf_prevention && !csrf::is_preflighted(headers) {
        return reply.error(
            StatusCode::BAD_REQUEST,
            Error::BadRequest(csrf::REFUSAL.into()),
        );
    }
    let params = match GraphQLParams::from_query_string(query_string) {
        Ok(params) => params,
        Err(err) => {
            return reply.error(
                StatusCode::BAD_REQUEST,
                Error::invalid_field("query string", err.0),
            );
        }
    };
    let viewer = match authenticate_request(&state, headers, &reply).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    run_one(&state, viewer, params, Method::GET, &reply).await
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn not_acceptable(state: &HttpState, request_id: String) -> Response {
    let reply = Reply {
        response_type: ResponseType::Json,
        request_id,
        client: IpAddr::from([0, 0, 0, 0]),
        stats: state.app.responses.clone(),
    };
    let message =
        "the Accept header allows neither application/graphql-response+json nor application/json";
    reply.error(
        StatusCode::NOT_ACCEPTABLE,
        Error::BadRequest(message.into()),
    )
}

/// The request's viewer, or the response refusing it: 401 for a bad token,
/// 429 when its sender cannot pay for verifying a new one.
async fn authenticate_request(
    state: &HttpState,
    headers: &HeaderMap,
    reply: &Reply,
) -> Result<Viewer, Response> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    authenticate(&state.app, authorization, reply.client)
        .await
        .map_err(|err| match err {
            Error::RateLimited {
                retry_after_secs, ..
            } => {
                let mut response = reply.error(StatusCode::TOO_MANY_REQUESTS, err);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
            err => reply.unauthorized(err),
        })
}

/// Runs one request and writes its response, with the status its outcome calls for.
async fn run_one(
    state: &HttpState,
    viewer: Viewer,
    params: GraphQLParams,
    method: Method,
    reply: &Reply,
) -> Response {
    let ticket = rate_limit_ticket(state, &viewer, reply.client);
    let shared = shares_responses(state, &viewer);
    let outcome = execute(state, viewer, params, &method, ticket.clone(), shared).await;
    let mut http = match outcome {
        Ok(Executed::Ran {
            response,
            store: None,
        }) => graphql_response(reply, response),
        Ok(Executed::Ran {
            response,
            store: Some(store),
        }) => share_response(state, reply, response, store, ticket.as_ref()).await,
        Ok(Executed::Cached(body)) => {
            reply.count_cached();
            reply.body(StatusCode::OK, body)
        }
        Err(Refusal { status, error }) => {
            let mut response = reply.error(status, error);
            if status == StatusCode::METHOD_NOT_ALLOWED {
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            return response;
        }
    };
    if let Some(charge) = ticket.and_then(|t| t.charge()) {
        add_rate_limit_headers(&mut http, &charge);
    }
    http
}

/// Whether a caller's responses may be shared through the cache: anonymous
/// callers see only public data, so theirs may.
fn shares_responses(state: &HttpState, viewer: &Viewer) -> bool {
    state.app.config.cache_enabled && matches!(viewer, Viewer::Anonymous)
}

/// Writes a response that may be shared, and stores it for the next anonymous
/// caller when it succeeded and no resolver marked it private.
async fn share_response(
    state: &HttpState,
    reply: &Reply,
    response: async_graphql::Response,
    store: PendingStore,
    ticket: Option<&RateLimitTicket>,
) -> Response {
    let shareable = response.errors.is_empty() && store.scope.is_public();
    if !shareable {
        return graphql_response(reply, response);
    }
    let (text, _) = reply.response_text(response);
    let stored = RawValue::from_string(text.clone());
    let body = Bytes::from(text);
    let cost = ticket.and_then(|t| t.charge()).map_or(0, |c| c.cost);
    if let Some(near) = &state.app.near_responses {
        let copy = NearResponse {
            tags: store.miss.tags(),
            cost,
            body: body.clone(),
        };
        near.insert(store.key, copy);
    }
    if let Ok(raw) = stored {
        let cached = CachedResponse { cost, body: raw };
        state.app.cache.fill(store.miss, &cached).await;
    }
    reply.body(StatusCode::OK, body)
}

/// Who the request is charged to, when rate limiting is on.
fn rate_limit_ticket(
    state: &HttpState,
    viewer: &Viewer,
    client: IpAddr,
) -> Option<RateLimitTicket> {
    let enabled = state.app.config.protection.rate_limit_enabled;
    RateLimitTicket::for_caller(enabled, viewer, client)
}

/// `x-ratelimit-limit`, `-remaining`, `-used` and `-reset` (Unix seconds), as GitHub sends them.
fn add_rate_limit_headers(response: &mut Response, charge: &Charge) {
    let reset = u64::try_from(charge.reset_at.timestamp()).unwrap_or_default();
    let values = decimal_header_values([charge.limit, charge.remaining(), charge.used, reset]);
    let headers = response.headers_mut();
    for (name, value) in super::RATE_LIMIT_HEADERS.into_iter().zip(values) {
        headers.insert(name, value);
    }
}

/// Header values holding `numbers` in decimal, written into one buffer they
/// share rather than one allocation each.
fn decimal_header_values<const N: usize>(numbers: [u64; N]) -> [HeaderValue; N] {
    let mut text = Vec::with_capacity(N * 20);
    let ends = numbers.map(|number| {
        text.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
        text.len()
    });
    let text = Bytes::from(text);
    let mut start = 0;
    ends.map(|end| {
        let digits = text.slice(start..end);
        start = end;
        // Decimal digits are always a valid header value.
        HeaderValue::from_maybe_shared(digits).unwrap_or(HeaderValue::from_static("0"))
    })
}

/// What became of a request that was not refused.
#[expect(
    clippy::large_enum_variant,
    reason = "made once per request and moved once; boxing would only add an allocation"
)]
enum Executed {
    /// It ran; `store` says where to keep its response when it may be shared.
    Ran {
        response: async_graphql::Response,
        store: Option<PendingStore>,
    },
    /// An anonymous caller's answer came from the cache: its body.
    Cached(Bytes),
}

/// Where a response that may be shared goes once it is known.
struct PendingStore {
    key: String,
    miss: Miss,
    scope: Arc<ResponseScope>,
}

/// What the cache had for an anonymous query.
#[expect(
    clippy::large_enum_variant,
    reason = "made once per request and matched at once, like `Executed`"
)]
enum CacheCheck {
    /// The answer, without running the query: the cached body, or the refusal
    /// of a budget that cannot pay for it.
    Answer(Executed),
    /// The query runs; its response is stored when the store can take it.
    /// `prepaid` when the caller was charged already.
    Run {
        store: Option<PendingStore>,
        prepaid: bool,
    },
}

/// A request refused before execution, with its HTTP status.
struct Refusal {
    status: StatusCode,
    error: Error,
}

async fn execute(
    state: &HttpState,
    viewer: Viewer,
    mut params: GraphQLParams,
    method: &Method,
    ticket: Option<RateLimitTicket>,
    shared: bool,
) -> Result<Executed, Refusal> {
    let resolved = resolve_document(state, &mut params)
        .await
        .map_err(|error| Refusal {
            // Apollo's clients expect the persisted-query answers with 200.
            status: match error {
                Error::PersistedQueryNotFound | Error::PersistedQueryNotSupported => StatusCode::OK,
                _ => StatusCode::BAD_REQUEST,
            },
            error,
        })?;
    let mut query = resolved.text;
    // A document to persist is kept only once it ran, or was answered from
    // the cache, with its sender charged.
    let persist = resolved.persist_as.map(|hash| (hash, query.clone()));
    if *method == Method::GET
        && state
            .schema
            .operation_type(&mut query, params.operation_name.as_deref())
            .await
            == Some(OperationType::Mutation)
    {
        return Err(Refusal {
            status: StatusCode::METHOD_NOT_ALLOWED,
            error: Error::BadRequest("mutations must be sent with POST".into()),
        });
    }
    let (mut store, mut prepaid) = (None, false);
    if shared {
        let key =
            response_cache::cache_key(&query, params.operation_name.as_deref(), &params.variables);
        match cached_answer(state, key, ticket.as_ref()).await {
            CacheCheck::Answer(answer) => {
                if let (Executed::Cached(_), Some((hash, text))) = (&answer, &persist) {
                    document_resolver(state).persist(hash, text).await;
                }
                return Ok(answer);
            }
            CacheCheck::Run {
                store: pending,
                prepaid: charged,
            } => (store, prepaid) = (pending, charged),
        }
    }
    let mut request = params.into_request(query);
    request.data.insert(viewer);
    // Every response of this transport is written by `json::response_json`.
    request.data.insert(JsonTextLists);
    if prepaid {
        request.data.insert(Prepaid);
    }
    if let Some(ticket) = ticket {
        request.data.insert(ticket);
    }
    if let Some(store) = &store {
        request.data.insert(store.scope.clone());
    }
    let limit = state.app.config.protection.request_timeout();
    // Boxed: the executor's future is large, and unboxed it would make every
    // request's future as large, answered from the cache or not.
    let execution = Box::pin(state.schema.execute(request));
    match tokio::time::timeout(limit, execution).await {
        Ok(response) => {
            if let Some((hash, text)) = &persist
                && passed_validation(&response)
            {
                document_resolver(state).persist(hash, text).await;
            }
            Ok(Executed::Ran { response, store })
        }
        Err(_) => Err(Refusal {
            status: StatusCode::GATEWAY_TIMEOUT,
            error: Error::Timeout(limit.as_millis() as u64),
        }),
    }
}

/// The cached answer to an anonymous query under `key`, charged to the caller,
/// when a current one is cached. This instance's own copy is checked first:
/// reading the generations and charging the caller go out together, and the
/// body is not read from the store. Otherwise the shared store is read whole.
async fn cached_answer(
    state: &HttpState,
    key: String,
    ticket: Option<&RateLimitTicket>,
) -> CacheCheck {
    let cache = &state.app.cache;
    let generations = near_responses::generations();
    let near = state.app.near_responses.as_deref();
    let mut prepaid = false;
    if let Some((near, copy)) = near.and_then(|near| Some((near, near.get(&key)?))) {
        let (tags, charged) =
            tokio::join!(near.current_tags(cache), charge(state, ticket, copy.cost));
        let current = tags.as_ref() == Some(&copy.tags);
        if current {
            near.hits.fetch_add(1, Ordering::Relaxed);
            cache.stats.hits.fetch_add(1, Ordering::Relaxed);
        }
        match charged {
            Err(refused) => return CacheCheck::Answer(refusal(refused)),
            Ok(()) if current => return CacheCheck::Answer(Executed::Cached(copy.body.clone())),
            Ok(()) => near.remove(&key),
        }
        prepaid = ticket.is_some();
    }
    match cache.lookup::<CachedResponse>(&key, &generations).await {
        Lookup::Hit(cached, tags) => {
            if !prepaid && let Err(refused) = charge(state, ticket, cached.cost).await {
                return CacheCheck::Answer(refusal(refused));
            }
            let body = Bytes::from(String::from(Box::<str>::from(cached.body)));
            if let Some(near) = near {
                let copy = NearResponse {
                    tags,
                    cost: cached.cost,
                    body: body.clone(),
                };
                near.insert(key, copy);
            }
            CacheCheck::Answer(Executed::Cached(body))
        }
        Lookup::Miss(miss) => CacheCheck::Run {
            store: miss.map(|miss| PendingStore {
                key,
                miss,
                scope: Arc::default(),
            }),
            prepaid,
        },
    }
}

/// Charges `cost` points to the caller, when rate limiting is on (`ticket`).
async fn charge(
    state: &HttpState,
    ticket: Option<&RateLimitTicket>,
    cost: u64,
) -> Result<(), ServerError> {
    let Some(ticket) = ticket else { return Ok(()) };
    let budgets = Budgets::from_protection(&state.app.config.protection);
    charge_cost(&state.app.rate_limits, budgets, ticket, cost).await
}

/// The response of a request its budget cannot pay for.
fn refusal(refused: ServerError) -> Executed {
    Executed::Ran {
        response: async_graphql::Response::from_errors(vec![refused]),
        store: None,
    }
}

/// The text of the document a request runs: its `query` (taken out of
/// `params`), or the persisted or trusted document its hash names.
async fn resolve_document(
    state: &HttpState,
    params: &mut GraphQLParams,
) -> Result<ResolvedDocument, Error> {
    let hash = requested_hash(params.document_id.as_deref(), &params.extensions)?;
    document_resolver(state)
        .resolve(params.query.take(), hash)
        .await
}

/// What turns hashes into documents, and keeps persisted ones.
fn document_resolver(state: &HttpState) -> DocumentResolver<'_> {
    DocumentResolver {
        trusted: &state.app.trusted_documents,
        cache: &state.app.cache,
        persisted_queries: state.app.config.protection.persisted_queries,
    }
}

/// Runs a batch, when batching is on and the batch is within its limit.
async fn run_batch(
    state: &HttpState,
    viewer: Viewer,
    items: Vec<Value>,
    reply: &Reply,
) -> Response {
    let max = state.app.config.protection.max_batch_size;
    if max == 0 {
        return reply.error(
            StatusCode::BAD_REQUEST,
            Error::BadRequest(
                "batched requests are switched off; send one request per POST".into(),
            ),
        );
    }
    if items.len() > max {
        let error = Error::LimitExceeded {
            limit: "batchSize",
            max: max as u64,
            actual: items.len() as u64,
        };
        return reply.error(StatusCode::BAD_REQUEST, error);
    }
    let mut bodies = Vec::with_capacity(items.len());
    for item in items {
        let body = match GraphQLParams::from_json(item) {
            Ok(params) => {
                let ticket = rate_limit_ticket(state, &viewer, reply.client);
                match execute(state, viewer.clone(), params, &Method::POST, ticket, false).await {
                    Ok(Executed::Ran { response, .. }) => reply.response_text(response).0,
                    Ok(Executed::Cached(body)) => {
                        reply.count_cached();
                        String::from_utf8_lossy(&body).into_owned()
                    }
                    Err(refusal) => reply.error_json(refusal.error).to_string(),
                }
            }
            Err(err) => reply
                .error_json(Error::invalid_field("body", err.0))
                .to_string(),
        };
        bodies.push(body);
    }
    reply.body(StatusCode::OK, format!("[{}]", bodies.join(",")))
}

/// The body of a response that carries only `error`.
fn error_json(error: Error, request_id: &str) -> Value {
    let mut server_error = error.into_request_error();
    label_error(&mut server_error, Some(request_id));
    serde_json::json!({ "errors": [server_error] })
}

/// Writes an executed request's response. Request errors (the document did not
/// parse or validate, variables did not coerce, a limit refused it) leave out
/// `data` and, in `application/graphql-response+json`, answer 400.
fn graphql_response(reply: &Reply, response: async_graphql::Response) -> Response {
    let rate_limited = response.errors.iter().find_map(rate_limit_retry_after);
    let (body, request_error) = reply.response_text(response);
    let status = if rate_limited.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else if request_error && reply.response_type == ResponseType::GraphQLResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut http = reply.body(status, body);
    if let Some(seconds) = rate_limited
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        http.headers_mut().insert(header::RETRY_AFTER, value);
    }
    http
}

fn rate_limit_retry_after(error: &ServerError) -> Option<u64> {
    let extensions = error.extensions.as_ref()?;
    match (extensions.get("code"), extensions.get("retryAfter")) {
        (Some(async_graphql::Value::String(code)), Some(async_graphql::Value::Number(n)))
            if code == ErrorCode::RateLimited.as_str() =>
        {
            n.as_u64()
        }
        _ => None,
    }
}

/// The JSON text of a response whose errors are labelled, written straight
/// from the executor's values, and whether it failed as a whole before
/// execution.
fn response_text(request_id: &str, response: async_graphql::Response) -> (String, bool) {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let text = if request_error {
        serde_json::to_string(&RequestErrors {
            errors: &response.errors,
            extensions: &response.extensions,
        })
        .ok()
    } else {
        json::response_json(&response)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
    };
    let text = text.unwrap_or_else(|| {
        error_json(
            Error::Internal("the response could not be serialised".into()),
            request_id,
        )
        .to_string()
    });
    (text, request_error)
}

/// The body of a request that failed before execution: no `data` at all.
#[derive(serde::Serialize)]
struct RequestErrors<'a> {
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, async_graphql::Value>,
}

/// The `extensions.code` of a labelled error (empty if it has none).
fn code_of(error: &ServerError) -> &str {
    match error.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(async_graphql::Value::String(code)) => code,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_header_values_hold_each_number_alone() {
        let values = decimal_header_values([0, 7, 1_000_000_000_000, u64::MAX]);
        let texts: Vec<&str> = values
            .iter()
            .map(|value| value.to_str().expect("text"))
            .collect();
        assert_eq!(texts, ["0", "7", "1000000000000", "18446744073709551615"]);
    }
}
