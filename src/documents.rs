//! Persisted and trusted documents: turning a request that names its document
//! by hash into the document's text.
//!
//! - Automatic persisted queries (Apollo's protocol): a client sends
//!   `extensions.persistedQuery.sha256Hash`; if the server does not know the
//!   hash it answers `PERSISTED_QUERY_NOT_FOUND`, and the client sends the
//!   document with the hash once, which stores it in the cache once it has
//!   passed admission (limits and the rate-limit charge) and validation.
//! - Trusted documents: a manifest of allowed operations, as client code
//!   generators emit it, loaded at start. With `TRUSTED_DOCUMENTS_ONLY`, only
//!   those run, named by hash (`documentId` or `persistedQuery`) or sent as
//!   identical text.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::cache::Cache;
use crate::config::ConfigError;
use crate::error::Error;

/// How long an automatically persisted document is kept after it was sent.
const PERSISTED_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The largest document kept as a persisted query, in bytes. Documents that
/// clients generate are a few kilobytes; a larger one runs when sent, but is
/// not kept, so that no caller fills the cache with large documents.
pub const MAX_PERSISTED_DOCUMENT_BYTES: usize = 64 * 1024;

/// The manifest of trusted documents, by sha256 hash.
#[derive(Debug, Default)]
pub struct TrustedDocuments {
    by_hash: HashMap<String, String>,
    texts: HashSet<String>,
    /// Whether only these documents may run.
    pub only: bool,
}

impl TrustedDocuments {
    /// Reads a manifest: either a map of hash to document (GraphQL Code
    /// Generator's `persisted-documents.json`) or Apollo's persisted query
    /// manifest (`{"format": "apollo-persisted-query-manifest", "operations":
    /// [{"id", "body"}]}`). Every hash must be the sha256 of its document.
    pub fn load(path: &Path, only: bool) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |why: String| {
            ConfigError::Invalid(format!("TRUSTED_DOCUMENTS {}: {why}", path.display()))
        };
        let json: Value = serde_json::from_str(&text).map_err(|err| invalid(err.to_string()))?;
        let entries: Vec<(String, String)> = match json {
            Value::Object(map) if map.get("format").is_some() => map
                .get("operations")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid("`operations` must be a list".into()))?
                .iter()
                .map(|op| match (op["id"].as_str(), op["body"].as_str()) {
                    (Some(id), Some(body)) => Ok((id.to_owned(), body.to_owned())),
                    _ => Err(invalid("every operation needs an `id` and a `body`".into())),
                })
                .collect::<Result<_, _>>()?,
            Value::Object(map) => map
                .into_iter()
                .map(|(hash, body)| match body {
                    Value::String(body) => Ok((hash, body)),
                    _ => Err(invalid(format!("the document of {hash} is not a string"))),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(invalid("expected a JSON object".into())),
        };
        let mut documents = Self {
            only,
            ..Self::default()
        };
        for (hash, body) in entries {
            let hash = hash
                .strip_prefix("sha256:")
                .unwrap_or(&hash)
                .to_ascii_lowercase();
            if sha256_hex(&body) != hash {
                return Err(invalid(format!("{hash} is not the sha256 of its document")));
            }
            documents.texts.insert(body.clone());
            documents.by_hash.insert(hash, body);
        }
        Ok(documents)
    }

    /// How many documents the manifest holds.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether a document sent as text may run: always, unless only trusted
    /// documents run and this text is not one of them.
    pub fn allows_text(&self, query: &str) -> bool {
        !self.only || self.texts.contains(query)
    }

    /// Whether the manifest is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// The lower-case hex sha256 of a document.
pub fn sha256_hex(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// The hash a request names its document by: `documentId` (with or without
/// a `sha256:` prefix) or Apollo's `extensions.persistedQuery.sha256Hash`.
pub fn requested_hash(
    document_id: Option<&str>,
    extensions: &Map<String, Value>,
) -> Result<Option<String>, Error> {
    if let Some(id) = document_id {
        return Ok(Some(
            id.strip_prefix("sha256:")
                .unwrap_or(id)
                .to_ascii_lowercase(),
        ));
    }
    let Some(persisted) = extensions.get("persistedQuery") else {
        return Ok(None);
    };
    if persisted.get("version").and_then(Value::as_i64) != Some(1) {
        return Err(Error::invalid_field(
            "extensions.persistedQuery.version",
            "only version 1 of persisted queries is supported",
        ));
    }
    match persisted.get("sha256Hash").and_then(Value::as_str) {
        Some(hash) => Ok(Some(hash.to_ascii_lowercase())),
        None => Err(Error::invalid_field(
            "extensions.persistedQuery.sha256Hash",
            "must be the sha256 of the document, in hex",
        )),
    }
}

/// The document a request runs, and whether it is to be persisted.
#[derive(Debug, PartialEq, Eq)]
pub struct ResolvedDocument {
    /// The document's text.
    pub text: String,
    /// The hash to persist it under once it has run: set when the client sent
    /// a document with its persisted-query hash and the server does not know
    /// the hash yet. See [`DocumentResolver::persist`].
    pub persist_as: Option<String>,
}

impl ResolvedDocument {
    fn run(text: String) -> Self {
        Self {
            text,
            persist_as: None,
        }
    }
}

/// What decides which document a request runs.
pub struct DocumentResolver<'a> {
    /// The manifest of trusted documents.
    pub trusted: &'a TrustedDocuments,
    /// Where automatically persisted documents are kept.
    pub cache: &'a Cache,
    /// Whether automatic persisted queries are accepted.
    pub persisted_queries: bool,
}

impl DocumentResolver<'_> {
    /// The document a request runs: its `query`, or the document its hash
    /// names. A document sent with a hash the server does not know yet is not
    /// stored here: the caller persists it with [`DocumentResolver::persist`]
    /// once it has been admitted, validated and charged, so that a document
    /// that cannot run, or whose sender cannot pay, is never kept.
    pub async fn resolve(
        &self,
        query: Option<String>,
        hash: Option<String>,
    ) -> Result<ResolvedDocument, Error> {
        if self.trusted.only {
            return self.resolve_trusted(query, hash).map(ResolvedDocument::run);
        }
        match (query, hash) {
            (Some(query), None) => Ok(ResolvedDocument::run(query)),
            (None, None) => Err(Error::invalid_field(
                "query",
                "a GraphQL request needs a `query`",
            )),
            (_, Some(_)) if !self.persisted_queries => Err(Error::PersistedQueryNotSupported),
            (Some(query), Some(hash)) => {
                if sha256_hex(&query) != hash {
                    return Err(Error::invalid_field(
                        "extensions.persistedQuery.sha256Hash",
                        "is not the sha256 of the query",
                    ));
                }
                let persist_as = (!self.trusted.by_hash.contains_key(&hash)
                    && query.len() <= MAX_PERSISTED_DOCUMENT_BYTES)
                    .then_some(hash);
                Ok(ResolvedDocument {
                    text: query,
                    persist_as,
                })
            }
            (None, Some(hash)) => {
                if let Some(document) = self.trusted.by_hash.get(&hash) {
                    return Ok(ResolvedDocument::run(document.clone()));
                }
                self.cache
                    .get_plain(&persisted_key(&hash))
                    .await
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .map(ResolvedDocument::run)
                    .ok_or(Error::PersistedQueryNotFound)
            }
        }
    }

    /// Keeps `document` under its persisted-query `hash`, for a week after
    /// it was last sent. Call only for a document that was admitted (within
    /// every limit, its sender charged) and passed validation.
    pub async fn persist(&self, hash: &str, document: &str) {
        self.cache
            .set_plain(
                &persisted_key(hash),
                document.as_bytes().to_vec(),
                PERSISTED_TTL,
            )
            .await;
    }

    fn resolve_trusted(
        &self,
        query: Option<String>,
        hash: Option<String>,
    ) -> Result<String, Error> {
        match (query, hash) {
            (_, Some(hash)) => self
                .trusted
                .by_hash
                .get(&hash)
                .cloned()
                .ok_or(Error::DocumentNotTrusted),
            (Some(query), None) if self.trusted.texts.contains(&query) => Ok(query),
            (Some(_), None) => Err(Error::DocumentNotTrusted),
            (None, None) => Err(Error::invalid_field(
                "query",
                "a GraphQL request needs a `query`",
            )),
        }
    }
}

fn persisted_key(hash: &str) -> String {
    format!("apq:{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_come_from_document_ids_or_persisted_query_extensions() {
        let none = Map::new();
        assert_eq!(
            requested_hash(Some("sha256:ABC"), &none).expect("ok"),
            Some("abc".into())
        );
        let apq: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "persistedQuery": { "version": 1, "sha256Hash": "def" }
        }))
        .expect("map");
        assert_eq!(requested_hash(None, &apq).expect("ok"), Some("def".into()));
        let v2: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "persistedQuery": { "version": 2, "sha256Hash": "def" }
        }))
        .expect("map");
        assert!(requested_hash(None, &v2).is_err());
        assert_eq!(requested_hash(None, &none).expect("ok"), None);
    }

    #[test]
    fn manifests_in_both_formats_load_and_wrong_hashes_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let doc = "query Tags { tags { name } }";
        let hash = sha256_hex(doc);
        let plain = dir.path().join("plain.json");
        std::fs::write(&plain, serde_json::json!({ hash.clone(): doc }).to_string())
            .expect("write");
        let loaded = TrustedDocuments::load(&plain, true).expect("loads");
        assert_eq!(loaded.len(), 1);
        assert!(loaded.texts.contains(doc));

        let apollo = dir.path().join("apollo.json");
        let manifest = serde_json::json!({
            "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": hash, "name": "Tags", "type": "query", "body": doc }]
        });
        std::fs::write(&apollo, manifest.to_string()).expect("write");
        assert_eq!(
            TrustedDocuments::load(&apollo, false).expect("loads").len(),
            1
        );

        let wrong = dir.path().join("wrong.json");
        std::fs::write(&wrong, serde_json::json!({ "00": doc }).to_string()).expect("write");
        assert!(TrustedDocuments::load(&wrong, true).is_err());
    }
}
