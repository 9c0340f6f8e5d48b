//! Whole responses to anonymous queries, served from the cache without running
//! the query again.
//!
//! An anonymous caller sees only public data, so two anonymous requests with
//! the same document, operation and variables get the same answer until
//! something public changes. Such a response is stored under a hash of those
//! three, tagged with [`Generation::responses`](crate::cache::Generation::responses): every cache invalidation bumps
//! it, and so does every mutation ([`super::admission`]), before its
//! response leaves. A cached response is therefore never stale
//! after a write, on any instance, like every other cached read.
//!
//! Only successful queries are stored. A resolver whose answer depends on the
//! caller rather than on the data (`rateLimit`) calls [`mark_private`], and the
//! response is not stored.
//!
//! With a shared store (Redis), each instance also keeps the responses it
//! served lately in [`NearResponses`](crate::cache::near_responses::NearResponses),
//! with the tags they were current for. A
//! request whose response is held there reads only the generations from the
//! store, not the body: the copy is served while they are unchanged, so it is
//! exactly as fresh as the shared entry. Concurrent requests share those
//! reads ([`crate::rounds`]), never one sent before they arrived. With a
//! watch ([`crate::cache::watch`]) an instance needs no read at all: every
//! write waits until each instance has heard that the generation moved.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::Context;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// A response as stored: its body and what running it cost the caller's budget.
#[derive(Debug, Serialize, Deserialize)]
pub struct CachedResponse {
    /// Rate-limit points the request cost when it ran; a cached answer costs the same.
    pub cost: u64,
    /// The JSON body, as sent; stored verbatim, not as an escaped string, so
    /// reading it back does not unescape the whole response.
    pub body: Box<RawValue>,
}

/// The cache key of a request: a hash of its document, operation name and variables.
pub fn cache_key(
    query: &str,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
) -> String {
    let mut hash = Sha256::new();
    let variables = serde_json::to_string(variables).unwrap_or_default();
    for part in [query, operation_name.unwrap_or_default(), &variables] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let mut digits = [0u8; 64];
    // 32 bytes always fit 64 digits.
    let _ = hex::encode_to_slice(hash.finalize(), &mut digits);
    let mut key = String::with_capacity(RESPONSE_KEY_PREFIX.len() + digits.len());
    key.push_str(RESPONSE_KEY_PREFIX);
    key.extend(digits.iter().map(|&digit| char::from(digit)));
    key
}

/// What every response's cache key starts with.
const RESPONSE_KEY_PREFIX: &str = "response:";

/// Whether one request's response may be shared with other anonymous callers.
/// Put in the request's data when its response is a candidate for the cache.
#[derive(Debug, Default)]
pub struct ResponseScope {
    private: AtomicBool,
}

impl ResponseScope {
    /// True unless a resolver said the answer depends on the caller, or the
    /// request is a mutation.
    pub fn is_public(&self) -> bool {
        !self.private.load(Ordering::Relaxed)
    }

    /// Keeps the response out of the shared cache.
    pub fn mark_private(&self) {
        self.private.store(true, Ordering::Relaxed);
    }
}

/// Keeps this request's response out of the shared cache: called by resolvers
/// whose answer depends on the caller (their address, their budget).
pub fn mark_private(ctx: &Context<'_>) {
    if let Some(scope) = ctx.data_opt::<Arc<ResponseScope>>() {
        scope.mark_private();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_tells_documents_operations_and_variables_apart() {
        let none = Map::new();
        let mut one = Map::new();
        one.insert("first".into(), Value::from(1));
        let keys = [
            cache_key("{ a }", None, &none),
            cache_key("{ b }", None, &none),
            cache_key("{ a }", Some("A"), &none),
            cache_key("{ a }", None, &one),
            // The parts are length-prefixed: moving text between them changes the key.
            cache_key("{ a }A", None, &none),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(keys[3], cache_key("{ a }", None, &one));
        // The SHA-256 of the length-prefixed parts, in lowercase hex.
        let mut hash = Sha256::new();
        for part in ["{ a }", "", "{}"] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        assert_eq!(
            keys[0],
            format!("response:{}", hex::encode(hash.finalize()))
        );
    }
}
