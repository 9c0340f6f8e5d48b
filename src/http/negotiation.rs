//! Content negotiation for GraphQL over HTTP: which media type a response is
//! written in, and which request bodies are understood.

use axum::http::{HeaderMap, HeaderValue, header};

/// The media type of a GraphQL response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseType {
    /// `application/graphql-response+json`: request errors get 4xx statuses.
    GraphQLResponseJson,
    /// `application/json`: the legacy type; request errors are answered with 200.
    Json,
}

impl ResponseType {
    /// The `Content-Type` header of a response in this type.
    pub fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            ResponseType::GraphQLResponseJson => "application/graphql-response+json; charset=utf-8",
            ResponseType::Json => "application/json; charset=utf-8",
        })
    }
}

/// Picks the response type the `Accept` header asks for. No header, `*/*` and
/// `application/*` get `application/json`, as the GraphQL-over-HTTP
/// specification recommends; `None` means neither type is acceptable (406).
pub fn negotiate(headers: &HeaderMap) -> Option<ResponseType> {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return Some(ResponseType::Json);
    }
    let mut best: Option<(f32, u8, ResponseType)> = None;
    for range in values.iter().flat_map(|v| v.split(',')) {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality <= 0.0 {
            continue;
        }
        // Exact types win over wildcards at the same quality.
        let (specificity, kind) = match media.as_str() {
            "application/graphql-response+json" => (2, ResponseType::GraphQLResponseJson),
            "application/json" => (2, ResponseType::Json),
            "application/*" | "*/*" => (1, ResponseType::Json),
            _ => continue,
        };
        let better = match best {
            None => true,
            Some((q, s, _)) => quality > q || (quality == q && specificity > s),
        };
        if better {
            best = Some((quality, specificity, kind));
        }
    }
    best.map(|(_, _, kind)| kind)
}

/// Why a request body's content type is not understood.
#[derive(Debug, PartialEq, Eq)]
pub enum ContentTypeError {
    /// No `Content-Type` header.
    Missing,
    /// A type other than `application/json`, or a charset other than UTF-8.
    Unsupported(String),
}

/// Accepts `application/json`, with no charset or `charset=utf-8`.
pub fn check_json_content_type(headers: &HeaderMap) -> Result<(), ContentTypeError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .ok_or(ContentTypeError::Missing)?;
    let value = value
        .to_str()
        .map_err(|_| ContentTypeError::Unsupported("(not text)".into()))?;
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if media != "application/json" {
        return Err(ContentTypeError::Unsupported(value.to_owned()));
    }
    for parameter in parts {
        let Some((name, charset)) = parameter.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("charset")
            && !charset
                .trim()
                .trim_matches('"')
                .eq_ignore_ascii_case("utf-8")
        {
            return Err(ContentTypeError::Unsupported(value.to_owned()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, value.parse().expect("header"));
        headers
    }

    #[test]
    fn accept_picks_the_best_graphql_type() {
        use ResponseType::*;
        assert_eq!(negotiate(&HeaderMap::new()), Some(Json));
        assert_eq!(negotiate(&accept("*/*")), Some(Json));
        assert_eq!(negotiate(&accept("application/json")), Some(Json));
        assert_eq!(
            negotiate(&accept("application/graphql-response+json")),
            Some(GraphQLResponseJson)
        );
        assert_eq!(
            negotiate(&accept(
                "application/json;q=0.9, application/graphql-response+json"
            )),
            Some(GraphQLResponseJson)
        );
        assert_eq!(
            negotiate(&accept("application/graphql-response+json;q=0.5, */*")),
            Some(Json)
        );
        assert_eq!(
            negotiate(&accept("*/*;q=0.1, application/graphql-response+json")),
            Some(GraphQLResponseJson)
        );
        assert_eq!(negotiate(&accept("text/html")), None);
        assert_eq!(negotiate(&accept("application/json;q=0")), None);
    }

    #[test]
    fn only_utf8_json_bodies_are_understood() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, value.parse().expect("header"));
            check_json_content_type(&headers)
        };
        assert_eq!(with("application/json"), Ok(()));
        assert_eq!(with("Application/JSON; charset=UTF-8"), Ok(()));
        assert!(with("application/json; charset=latin1").is_err());
        assert!(with("text/plain").is_err());
        assert!(with("application/x-www-form-urlencoded").is_err());
        assert_eq!(
            check_json_content_type(&HeaderMap::new()),
            Err(ContentTypeError::Missing)
        );
    }
}
