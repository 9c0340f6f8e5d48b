//! Limits on the HTTP request itself: the number and size of its headers.

use std::task::{Context, Poll};

use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryFutureExt;
use futures_util::future::{Either, MapOk, Ready, ready};
use tower::{Layer, Service};

use crate::config::Config;
use crate::error::Error;

/// How many headers, and how many header bytes, a request may carry.
#[derive(Clone, Copy, Debug)]
pub struct HeaderLimits {
    /// Most headers.
    pub max_headers: usize,
    /// Most bytes of header names and values together.
    pub max_header_bytes: usize,
}

impl From<&Config> for HeaderLimits {
    fn from(config: &Config) -> Self {
        Self {
            max_headers: config.protection.max_headers,
            max_header_bytes: config.protection.max_header_bytes,
        }
    }
}

impl HeaderLimits {
    /// The 431 response for `headers` when they pass a limit.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        let count = headers.len();
        let bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        let (limit, max, actual) = if count > self.max_headers {
            ("headers", self.max_headers, count)
        } else if bytes > self.max_header_bytes {
            ("headerBytes", self.max_header_bytes, bytes)
        } else {
            return None;
        };
        let error = Error::LimitExceeded {
            limit,
            max: max as u64,
            actual: actual as u64,
        };
        let server_error = error.into_request_error();
        let body = serde_json::json!({ "errors": [server_error] });
        let response = (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            axum::Json(body),
        );
        Some(response.into_response())
    }
}

/// The layer that answers 431 to a request whose headers pass the
/// [`HeaderLimits`], before any other layer sees it (or adds a header).
#[derive(Clone, Copy, Debug)]
pub struct HeaderLimitsLayer(pub HeaderLimits);

impl<S> Layer<S> for HeaderLimitsLayer {
    type Service = LimitHeaders<S>;

    fn layer(&self, inner: S) -> LimitHeaders<S> {
        LimitHeaders {
            inner,
            limits: self.0,
        }
    }
}

/// The service of [`HeaderLimitsLayer`]: calls `inner` unless the headers
/// pass a limit. It neither clones `inner` nor boxes its future.
#[derive(Clone, Debug)]
pub struct LimitHeaders<S> {
    inner: S,
    limits: HeaderLimits,
}

impl<S, B> Service<Request<B>> for LimitHeaders<S>
where
    S: Service<Request<B>>,
    S::Response: IntoResponse,
{
    type Response = Response;
    type Error = S::Error;
    type Future =
        Either<Ready<Result<Response, S::Error>>, MapOk<S::Future, fn(S::Response) -> Response>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match self.limits.refusal(request.headers()) {
            Some(refusal) => Either::Left(ready(Ok(refusal))),
            None => Either::Right(self.inner.call(request).map_ok(IntoResponse::into_response)),
        }
    }
}
