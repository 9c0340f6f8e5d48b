//! Documents parsed lately, by their text: clients send the same few
//! documents over and over, and parsing one again costs more than copying it.

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;

/// Roughly how many bytes a parsed document takes per byte of its text.
const BYTES_PER_CHARACTER: usize = 8;

/// Parsed documents by text, bounded in (estimated) bytes; the least recently
/// used go first.
pub struct ParsedDocuments {
    documents: moka::sync::Cache<Arc<str>, Arc<ExecutableDocument>>,
}

impl ParsedDocuments {
    /// Keeps documents up to about `max_bytes` in all.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            documents: moka::sync::Cache::builder()
                .weigher(|text: &Arc<str>, _: &Arc<ExecutableDocument>| {
                    u32::try_from(text.len().saturating_mul(BYTES_PER_CHARACTER))
                        .unwrap_or(u32::MAX)
                })
                .max_capacity(max_bytes)
                .build(),
        }
    }

    /// The document `text` parses to, parsed once while it is kept; `None`
    /// when it does not parse (the error is not kept).
    pub fn parse(&self, text: &str) -> Option<ExecutableDocument> {
        if let Some(document) = self.documents.get(text) {
            return Some(ExecutableDocument::clone(&document));
        }
        let document = async_graphql::parser::parse_query(text).ok()?;
        self.documents
            .insert(Arc::from(text), Arc::new(document.clone()));
        Some(document)
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
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        documents.documents.run_pending_tasks();
        assert_eq!(documents.documents.entry_count(), 1);
        assert!(documents.parse("{ unclosed").is_none());
    }
}
