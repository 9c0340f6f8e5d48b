//! CORS for the configured origins, worked out only for requests that carry an
//! `Origin` header.
//!
//! Browsers send `Origin` with every cross-origin request and every preflight;
//! a request without one (a server, a CLI, a same-origin page's GET) gets no
//! CORS headers whatever the configuration, so it skips the CORS work and is
//! only sent the `Vary` header that tells caches the answer depends on
//! `Origin`.

use std::task::{Context, Poll};

use axum::http::{HeaderName, HeaderValue, Method, Request, Response, header};
use futures_util::TryFutureExt;
use futures_util::future::{Either, MapOk};
use tower::{Layer, Service};
use tower_http::cors::{self, AllowOrigin};

use crate::config::Protection;

use super::{RATE_LIMIT_HEADERS, REQUEST_ID};

/// The headers a browser script may read from a response: the request id, the
/// back-off after a refusal and the rate-limit headers.
fn exposed_headers() -> Vec<HeaderName> {
    [REQUEST_ID, header::RETRY_AFTER]
        .into_iter()
        .chain(RATE_LIMIT_HEADERS)
        .collect()
}

/// The CORS layer for `protection`'s origins: credentials (the Authorization
/// header) only for listed origins; `*` lets any origin in without credentials.
#[derive(Clone)]
pub struct CorsLayer {
    cors: cors::CorsLayer,
    /// Whether answers depend on `Origin`: unless every origin is let in (`*`).
    varies_with_origin: bool,
}

impl CorsLayer {
    /// The layer for `protection`'s origins.
    pub fn new(protection: &Protection) -> Self {
        let origins = protection.allowed_origins();
        let layer = cors::CorsLayer::new()
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                REQUEST_ID,
                HeaderName::from_static("apollo-require-preflight"),
                HeaderName::from_static("x-apollo-operation-name"),
            ])
            .expose_headers(exposed_headers())
            .max_age(std::time::Duration::from_secs(600));
        if origins.iter().any(|origin| origin == "*") {
            return Self {
                cors: layer.allow_origin(AllowOrigin::any()),
                varies_with_origin: false,
            };
        }
        let listed: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        Self {
            cors: layer
                .allow_origin(AllowOrigin::list(listed))
                .allow_credentials(true),
            varies_with_origin: true,
        }
    }
}

impl<S: Clone> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            cors: self.cors.layer(inner.clone()),
            inner,
            varies_with_origin: self.varies_with_origin,
        }
    }
}

/// The service of [`CorsLayer`]: requests with an `Origin` go through
/// tower-http's CORS, the others straight to `inner`.
#[derive(Clone)]
pub struct Cors<S> {
    cors: cors::Cors<S>,
    inner: S,
    varies_with_origin: bool,
}

/// What is done to a response on its way out.
type Finish<B> = fn(Response<B>) -> Response<B>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Cors<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Either<
        MapOk<cors::ResponseFuture<S::Future>, Finish<ResBody>>,
        MapOk<S::Future, Finish<ResBody>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.cors.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if request.headers().contains_key(header::ORIGIN) {
            let finish: Finish<ResBody> = credentials_for_allowed_origins_only;
            return Either::Left(self.cors.call(request).map_ok(finish));
        }
        let finish: Finish<ResBody> = if self.varies_with_origin {
            vary_origin
        } else {
            std::convert::identity
        };
        Either::Right(self.inner.call(request).map_ok(finish))
    }
}

/// Tells caches that the response depends on the request's `Origin`; the one
/// CORS header a request without an `Origin` is sent.
fn vary_origin<B>(mut response: Response<B>) -> Response<B> {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("origin"));
    response
}

/// Drops `Access-Control-Allow-Credentials` and `-Expose-Headers` from
/// responses to requests from an origin that is not allowed: so credentials
/// are offered to listed origins only, and the list of readable headers goes
/// only where a browser will use it.
fn credentials_for_allowed_origins_only<B>(mut response: Response<B>) -> Response<B> {
    let headers = response.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    response
}
