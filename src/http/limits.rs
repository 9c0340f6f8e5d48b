//! Limits on the HTTP request itself (the number and size of its headers), and
//! the CORS credentials rule.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

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

/// Refuses a request with more headers, or more header bytes, than allowed
/// (431), before anything else looks at it.
pub async fn limit_headers(
    State(limits): State<HeaderLimits>,
    request: Request,
    next: Next,
) -> Response {
    let count = request.headers().len();
    let bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let over = if count > limits.max_headers {
        Some(("headers", limits.max_headers, count))
    } else if bytes > limits.max_header_bytes {
        Some(("headerBytes", limits.max_header_bytes, bytes))
    } else {
        None
    };
    let Some((limit, max, actual)) = over else {
        return next.run(request).await;
    };
    let error = Error::LimitExceeded {
        limit,
        max: max as u64,
        actual: actual as u64,
    };
    let server_error = error.into_request_error();
    let body = serde_json::json!({ "errors": [server_error] });
    (
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        axum::Json(body),
    )
        .into_response()
}

/// Drops `Access-Control-Allow-Credentials` from responses to origins that are
/// not allowed, so credentials are offered to listed origins only.
pub async fn credentials_for_allowed_origins_only(mut response: Response) -> Response {
    if !response
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        response
            .headers_mut()
            .remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
    }
    response
}
