//! Scanning a document's lexical tokens before it is parsed, so a huge or
//! deeply nested document is refused without building its syntax tree.
//!
//! The parser recurses once per level of nesting (selection sets, argument
//! lists, list and object values) and has no limit of its own on values: a
//! document nested deeply enough overflows the stack of the thread parsing it.
//! The scan counts that nesting on the text, without recursion, so nothing
//! deeper than the limit ever reaches the parser.

/// What a scan found: tokens and the deepest nesting, each counted no further
/// than one past its limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextScan {
    /// Lexical tokens.
    pub tokens: usize,
    /// Deepest nesting of `{`, `[` and `(` outside strings and comments.
    pub nesting: usize,
}

/// The number of lexical tokens in `source`, counting no further than `stop_after`
/// (the count returned is then `stop_after + 1`). Punctuators (with `...` as
/// one), names, numbers, strings and block strings are tokens; whitespace,
/// commas and comments are not.
pub fn count_tokens(source: &str, stop_after: usize) -> usize {
    scan(source, stop_after, usize::MAX - 1).tokens
}

/// Scans `source` once, in linear time and constant memory, for its tokens
/// and its deepest nesting; it stops as soon as either passes its limit
/// (`max_tokens` or `max_nesting`), so the value that passed is one over it.
pub fn scan(source: &str, max_tokens: usize, max_nesting: usize) -> TextScan {
    let bytes = source.as_bytes();
    let mut count = 0;
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                at += 1;
                continue;
            }
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' && bytes[at] != b'\r' {
                    at += 1;
                }
                continue;
            }
            b'"' if bytes[at..].starts_with(b"\"\"\"") => at = skip_block_string(bytes, at + 3),
            b'"' => at = skip_string(bytes, at + 1),
            b'.' if bytes[at..].starts_with(b"...") => at += 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                at += 1;
                while at < bytes.len() && (bytes[at] == b'_' || bytes[at].is_ascii_alphanumeric()) {
                    at += 1;
                }
            }
            b'-' | b'0'..=b'9' => {
                at += 1;
                while at < bytes.len()
                    && (bytes[at].is_ascii_alphanumeric()
                        || matches!(bytes[at], b'.' | b'+' | b'-'))
                {
                    at += 1;
                }
            }
            // A byte order mark is ignored like whitespace.
            0xEF if bytes[at..].starts_with(&[0xEF, 0xBB, 0xBF]) => {
                at += 3;
                continue;
            }
            b'{' | b'[' | b'(' => {
                at += 1;
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => {
                at += 1;
                depth = depth.saturating_sub(1);
            }
            // Other punctuators, and anything the parser will refuse, one byte each.
            _ => at += 1,
        }
        count += 1;
        if count > max_tokens || deepest > max_nesting {
            break;
        }
    }
    TextScan {
        tokens: count,
        nesting: deepest,
    }
}

/// The index after the closing quote of a string that starts before `at`.
fn skip_string(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            b'\n' | b'\r' => return at,
            _ => at += 1,
        }
    }
    at
}

/// The index after the closing `"""` of a block string that starts before `at`.
fn skip_block_string(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        if bytes[at..].starts_with(b"\\\"\"\"") {
            at += 4;
        } else if bytes[at..].starts_with(b"\"\"\"") {
            return at + 3;
        } else {
            at += 1;
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(source: &str) -> usize {
        count_tokens(source, usize::MAX - 1)
    }

    #[test]
    fn punctuators_names_numbers_and_strings_are_tokens() {
        // { a ( b : 1 ) }
        assert_eq!(count("{ a(b: 1) }"), 8);
        // query Q ( $ n : Int ! ) { tags ( first : $ n ) { name } }
        assert_eq!(count("query Q($n: Int!) { tags(first: $n) { name } }"), 21);
        assert_eq!(count("{ ...F }"), 4);
        assert_eq!(count("-1.5e3 0 -7"), 3);
        assert_eq!(count("{ a(s: \"x \\\" y, z\") }"), 8);
        assert_eq!(
            count("{ a(s: \"\"\"block \\\"\"\" \"\" \n text\"\"\") }"),
            8
        );
    }

    #[test]
    fn whitespace_commas_and_comments_are_not() {
        assert_eq!(count("  ,,, \n\t# a comment { } ...\n"), 0);
        assert_eq!(count("{ a, b # c d e\n }"), 4);
        assert_eq!(count("\u{feff}{ a }"), 3);
    }

    #[test]
    fn nesting_counts_braces_brackets_and_parentheses_outside_strings() {
        let nesting = |source: &str| scan(source, usize::MAX - 1, usize::MAX - 1).nesting;
        assert_eq!(nesting(""), 0);
        assert_eq!(nesting("{ a }"), 1);
        // { a ( b : [ { c : 1 } ] ) { d } }
        assert_eq!(nesting("{ a(b: [{ c: 1 }]) { d } }"), 4);
        assert_eq!(nesting("{ a } { b { c } }"), 2);
        assert_eq!(nesting("{ a(s: \"[[[[{{{{((((\") }"), 2);
        assert_eq!(nesting("{ a(s: \"\"\"[[[[\n{{{{\"\"\") }"), 2);
        assert_eq!(nesting("{ a # [[[[{{{{\n }"), 1);
        // Closers without openers do not go below zero.
        assert_eq!(nesting("]]]] { a }"), 1);
    }

    #[test]
    fn a_deep_value_is_stopped_one_level_past_the_limit() {
        let deep = format!(
            "{{ a(b: {}1{}) }}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let found = scan(&deep, usize::MAX - 1, 64);
        assert_eq!(found.nesting, 65);
        assert!(found.tokens < 70, "the scan stopped at once: {found:?}");
    }

    #[test]
    fn counting_stops_just_over_the_limit() {
        let huge = "{ a }".repeat(1_000_000);
        assert_eq!(count_tokens(&huge, 10), 11);
        assert_eq!(count("\"unterminated"), 1);
    }
}
