//! What an error message may say: nothing that echoes the document back.
//!
//! The parser writes a syntax error with the whole offending line of the
//! document, and validation quotes values of the wrong type; a client sending
//! a large document would get it back in the answer. Every response leaving
//! the schema has its errors rewritten here.

use async_graphql::{Response, ServerError};

/// The longest error message a response carries, in characters. Messages
/// that quote what the client sent (a value of the wrong type) are cut here,
/// so no answer echoes a large document back.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 300;

/// The request error of a document that does not parse, located where the
/// parser stopped, without quoting the document.
pub fn syntax_error(error: async_graphql::parser::Error) -> ServerError {
    let message = error.to_string();
    let message = syntax_error_message(&message).unwrap_or(message);
    ServerError::new(message, error.positions().next())
}

/// Rewrites the errors of `response` so that none echoes the document: a
/// syntax error, which the parser writes with the whole offending line of
/// the document, keeps its position and what was expected; any other
/// message is cut at [`MAX_ERROR_MESSAGE_CHARS`].
pub fn without_echoes(mut response: Response) -> Response {
    for error in &mut response.errors {
        if let Some(rewritten) = syntax_error_message(&error.message) {
            error.message = rewritten;
        }
        if let Some((cut, _)) = error.message.char_indices().nth(MAX_ERROR_MESSAGE_CHARS) {
            error.message.truncate(cut);
            error.message.push('…');
        }
    }
    response
}

/// A parser's syntax error (` --> line:column`, the offending line, and
/// `= expected …`) as one line without the document's text.
fn syntax_error_message(message: &str) -> Option<String> {
    // The parser pads the arrow to the width of the line number:
    // ` --> 9:1`, `  --> 10:1`, `   --> 100:1`.
    let position = message
        .trim_start_matches(' ')
        .strip_prefix("--> ")?
        .lines()
        .next()?
        .trim();
    let (line, column) = position.split_once(':')?;
    let expected = message
        .lines()
        .rev()
        .find_map(|line| line.trim_start().strip_prefix("= "))
        .unwrap_or("unexpected input");
    Some(format!(
        "syntax error at line {line}, column {column}: {expected}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_keep_their_position_and_expectation_without_the_document() {
        let document = format!("{{ a(s: \"{}\") ", "x".repeat(10_000));
        let error = async_graphql::parser::parse_query(&document).expect_err("does not parse");
        let message = error.to_string();
        assert!(message.contains("xxxxxxxxxx"), "the parser quotes the line");
        let rewritten = syntax_error_message(&message).expect("a syntax error");
        assert!(
            rewritten.starts_with("syntax error at line 1, column"),
            "{rewritten}"
        );
        assert!(rewritten.contains("expected"), "{rewritten}");
        assert!(!rewritten.contains("xxx"), "{rewritten}");
        assert_eq!(syntax_error_message("Unknown field \"a\""), None);
    }

    #[test]
    fn syntax_errors_past_line_nine_keep_no_line_either() {
        for lines in [10, 100, 1000] {
            let document = format!("{}{{ a(s: \"secret\" ", "\n".repeat(lines - 1));
            let error = async_graphql::parser::parse_query(&document).expect_err("does not parse");
            let rewritten = syntax_error_message(&error.to_string()).expect("a syntax error");
            assert!(
                rewritten.starts_with(&format!("syntax error at line {lines}, column")),
                "{rewritten}"
            );
            assert!(!rewritten.contains("secret"), "{rewritten}");
        }
    }

    #[test]
    fn long_messages_are_cut() {
        let response = Response::from_errors(vec![ServerError::new(
            format!("Expected input type \"X\", found {}", "Y".repeat(100_000)),
            None,
        )]);
        let message = &without_echoes(response).errors[0].message;
        assert_eq!(message.chars().count(), MAX_ERROR_MESSAGE_CHARS + 1);
        assert!(message.ends_with('…'));
    }
}
