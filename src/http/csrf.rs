//! CSRF prevention, as Apollo Router does it: a request is served only if a
//! browser would have sent a CORS preflight for it first.
//!
//! Browsers send "simple" requests cross-site without asking: a GET, or a POST
//! whose `Content-Type` is `text/plain`, `application/x-www-form-urlencoded` or
//! `multipart/form-data`. Such a request is refused unless it carries a header
//! that only a script could add and that forces a preflight.

use axum::http::{HeaderMap, header};

/// Headers any one of which makes a request preflighted.
pub const PREFLIGHT_HEADERS: [&str; 2] = ["x-apollo-operation-name", "apollo-require-preflight"];

const SIMPLE_CONTENT_TYPES: [&str; 3] = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

/// Whether a browser must have asked (with a CORS preflight) before sending this request.
pub fn is_preflighted(headers: &HeaderMap) -> bool {
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let essence = content_type
            .to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        match essence {
            // A type a browser would not send without a preflight.
            Some(essence) if !SIMPLE_CONTENT_TYPES.contains(&essence.as_str()) => return true,
            // Unreadable: not something a browser form could produce.
            None => return true,
            Some(_) => {}
        }
    }
    PREFLIGHT_HEADERS.iter().any(|name| {
        headers
            .get(*name)
            .is_some_and(|value| !value.as_bytes().is_empty())
    })
}

/// The message of a refused request.
pub const REFUSAL: &str = "this request has been blocked as a possible cross-site request forgery: \
send it with a Content-Type of application/json, or with a non-empty \
apollo-require-preflight or x-apollo-operation-name header";

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header"));
        }
        map
    }

    #[test]
    fn simple_requests_need_a_preflight_header() {
        assert!(!is_preflighted(&headers(&[])));
        assert!(!is_preflighted(&headers(&[("content-type", "text/plain")])));
        assert!(!is_preflighted(&headers(&[(
            "content-type",
            "multipart/form-data; boundary=x"
        )])));
        assert!(!is_preflighted(&headers(&[(
            "content-type",
            "Application/X-WWW-Form-Urlencoded"
        )])));
        assert!(!is_preflighted(&headers(&[(
            "apollo-require-preflight",
            ""
        )])));
        assert!(is_preflighted(&headers(&[(
            "apollo-require-preflight",
            "true"
        )])));
        assert!(is_preflighted(&headers(&[
            ("content-type", "text/plain"),
            ("x-apollo-operation-name", "Home")
        ])));
        assert!(is_preflighted(&headers(&[(
            "content-type",
            "application/json"
        )])));
    }
}
