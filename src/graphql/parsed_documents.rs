//! Documents parsed lately, by their text: clients send the same few
//! documents over and over, and parsing one again costs more than copying it.
//!
//! A kept document also remembers whether it passed the schema's full
//! validation. The rules read only the document and the schema, but for
//! the values sent for its variables; so later requests with the same text
//! skip them, have only those values checked ([`DocumentRecord::prevalidated`]),
//! and reuse the plan made for it when no value can change that
//! ([`DocumentRecord::kept_plan`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;

use super::execution::Plan;

/// Roughly how many bytes a parsed document and its plan take per byte of
/// its text.
const BYTES_PER_CHARACTER: usize = 16;

/// A parsed document as kept, with what is known about it.
struct KeptDocument {
    document: ExecutableDocument,
    /// Whether the document has passed the schema's full validation.
    validated: AtomicBool,
    /// The plan of its last operation run, by the operation's name, when
    /// no variable value can change it.
    plan: Mutex<Option<(Option<String>, Arc<Plan>)>>,
}

/// What is known about a document's text, shared by every request that sends it.
#[derive(Clone)]
pub struct DocumentRecord {
    kept: Arc<KeptDocument>,
}

impl DocumentRecord {
    /// The parsed document.
    pub fn document(&self) -> &ExecutableDocument {
        &self.kept.document
    }

    /// Whether the request can skip the validation rules but for the
    /// coercion of its variables' values: the same text passed them before.
    pub fn prevalidated(&self) -> bool {
        self.kept.validated.load(Ordering::Relaxed)
    }

    /// Records that the document passed the schema's full validation.
    pub fn mark_validated(&self) {
        self.kept.validated.store(true, Ordering::Relaxed);
    }

    /// The plan kept for the operation named `operation_name`, if any.
    pub fn kept_plan(&self, operation_name: Option<&str>) -> Option<Arc<Plan>> {
        let kept = self.kept.plan.lock().unwrap_or_else(|e| e.into_inner());
        match &*kept {
            Some((name, plan)) if name.as_deref() == operation_name => Some(plan.clone()),
            _ => None,
        }
    }

    /// Keeps `plan`, made for the operation named `operation_name`, for the
    /// requests that send the same text, when no variable value can change
    /// it.
    pub fn keep_plan(&self, operation_name: Option<&str>, plan: &Arc<Plan>) {
        if plan.reads_variables {
            return;
        }
        let mut kept = self.kept.plan.lock().unwrap_or_else(|e| e.into_inner());
        *kept = Some((operation_name.map(str::to_owned), plan.clone()));
    }
}

/// Parsed documents by text, bounded in (estimated) bytes; the least recently
/// used go first.
pub struct ParsedDocuments {
    documents: moka::sync::Cache<Arc<str>, Arc<KeptDocument>>,
}

impl ParsedDocuments {
    /// Keeps documents up to about `max_bytes` in all.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            documents: moka::sync::Cache::builder()
                .weigher(|text: &Arc<str>, _: &Arc<KeptDocument>| {
                    u32::try_from(text.len().saturating_mul(BYTES_PER_CHARACTER))
                        .unwrap_or(u32::MAX)
                })
                .max_capacity(max_bytes)
                .build(),
        }
    }

    /// Whether `text` is kept parsed, so parsing it again costs a copy.
    pub fn is_kept(&self, text: &str) -> bool {
        self.documents.contains_key(text)
    }

    /// The record of the document `text` parses to, parsed once while it is
    /// kept; the parser's error when it does not parse (the error is not
    /// kept).
    pub fn parse(&self, text: &str) -> Result<DocumentRecord, async_graphql::parser::Error> {
        let kept = match self.documents.get(text) {
            Some(kept) => kept,
            None => {
                let document = async_graphql::parser::parse_query(text)?;
                let kept = Arc::new(KeptDocument {
                    document,
                    validated: AtomicBool::new(false),
                    plan: Mutex::new(None),
                });
                self.documents.insert(Arc::from(text), kept.clone());
                kept
            }
        };
        Ok(DocumentRecord { kept })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_parses_the_same_from_the_cache() {
        let documents = ParsedDocuments::new(1 << 20);
        let text = "query Q($n: Int) { articles(first: $n) { nodes { slug } } }";
        let first = documents.parse(text).expect("parses");
        let again = documents.parse(text).expect("parses from the cache");
        assert_eq!(
            format!("{:?}", first.document()),
            format!("{:?}", again.document())
        );
        documents.documents.run_pending_tasks();
        assert_eq!(documents.documents.entry_count(), 1);
        assert!(documents.parse("{ unclosed").is_err());
    }

    #[test]
    fn a_document_that_passed_validation_is_prevalidated_whatever_its_variables() {
        let documents = ParsedDocuments::new(1 << 20);
        let record = |text: &str| documents.parse(text).expect("parses");
        for text in [
            "{ articles(first: 20) { nodes { slug } } }",
            "query Q($n: Int) { articles(first: $n) { nodes { slug } } }",
        ] {
            let first = record(text);
            assert!(!first.prevalidated(), "not validated yet");
            first.mark_validated();
            assert!(record(text).prevalidated(), "the same text passed before");
        }
        assert!(
            !record("{ tags { name } }").prevalidated(),
            "another text is not"
        );
    }
}
