//! Counting a document's lexical tokens before it is parsed, so a huge
//! document is refused without building its syntax tree.

/// The number of lexical tokens in `source`, counting no further than `stop_after`
/// (the count returned is then `stop_after + 1`). Punctuators (with `...` as
/// one), names, numbers, strings and block strings are tokens; whitespace,
/// commas and comments are not.
pub fn count_tokens(source: &str, stop_after: usize) -> usize {
    let bytes = source.as_bytes();
    let mut count = 0;
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
            // Punctuators, and anything the parser will refuse, one byte each.
            _ => at += 1,
        }
        count += 1;
        if count > stop_after {
            return count;
        }
    }
    count
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
    fn counting_stops_just_over_the_limit() {
        let huge = "{ a }".repeat(1_000_000);
        assert_eq!(count_tokens(&huge, 10), 11);
        assert_eq!(count("\"unterminated"), 1);
    }
}
