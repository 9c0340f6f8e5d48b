//! Surrogate pairs escaped in string literals.
//!
//! The spec lets a string literal write a character outside the Basic
//! Multilingual Plane as a pair of escaped UTF-16 surrogates
//! (`"\ud835\udd18"` for 𝔘), as JSON does; async-graphql's parser takes each
//! `\u` escape alone and refuses a surrogate. Before parsing, each such pair
//! in a (non-block) string literal is replaced by the character it stands
//! for, which is the same string value. A lone surrogate is left for the
//! parser to refuse.

use std::borrow::Cow;

/// `text` with every escaped surrogate pair in its string literals written
/// as the character itself; borrowed when it has none.
pub fn join_surrogate_pairs(text: &str) -> Cow<'_, str> {
    let lower = text.contains("\\ud") || text.contains("\\uD");
    if !lower {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut index = 0;
    let mut changed = false;
    while index < bytes.len() {
        match bytes[index] {
            b'#' => {
                // A comment runs to the end of the line.
                while index < bytes.len() && bytes[index] != b'\n' && bytes[index] != b'\r' {
                    index += 1;
                }
            }
            b'"' if text[index..].starts_with("\"\"\"") => {
                // A block string: escapes are not read in it, only `\"""`.
                index += 3;
                while index < bytes.len() && !text[index..].starts_with("\"\"\"") {
                    index += if text[index..].starts_with("\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                index += 3;
            }
            b'"' => {
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' && bytes[index] != b'\n' {
                    if bytes[index] != b'\\' {
                        index += 1;
                        continue;
                    }
                    if let Some(character) = surrogate_pair(&text[index..]) {
                        out.push_str(&text[copied..index]);
                        out.push(character);
                        index += 12;
                        copied = index;
                        changed = true;
                    } else {
                        index += 2;
                    }
                }
                index += 1;
            }
            _ => index += 1,
        }
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied.min(text.len())..]);
    Cow::Owned(out)
}

/// The character of a `\uXXXX\uYYYY` surrogate pair at the start of `text`.
fn surrogate_pair(text: &str) -> Option<char> {
    let high = escaped_unit(text)?;
    let low = escaped_unit(text.get(6..)?)?;
    if !(0xD800..0xDC00).contains(&high) || !(0xDC00..0xE000).contains(&low) {
        return None;
    }
    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
}

/// The code unit of a `\uXXXX` escape at the start of `text`.
fn escaped_unit(text: &str) -> Option<u32> {
    let digits = text.strip_prefix("\\u")?.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_in_a_string_becomes_its_character() {
        assert_eq!(
            join_surrogate_pairs(r#"{ a(s: "x\ud835\udd18y\uD83D\uDE00") }"#),
            "{ a(s: \"x\u{1D518}y\u{1F600}\") }"
        );
    }

    #[test]
    fn block_strings_comments_and_lone_surrogates_are_left_alone() {
        for text in [
            r#"{ a(s: """\ud835\udd18""") }"#,
            "# \\ud835\\udd18\n{ a }",
            r#"{ a(s: "\ud835") }"#,
            r#"{ a(s: "\udd18\ud835") }"#,
            r#"{ a(s: "\\ud835\udd18") }"#,
            "{ a }",
        ] {
            assert!(
                matches!(join_surrogate_pairs(text), Cow::Borrowed(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn the_joined_text_parses_to_the_character() {
        let text = join_surrogate_pairs(r#"{ a(s: "\ud835\udd18") }"#);
        let document = async_graphql::parser::parse_query(text.as_ref()).expect("parses");
        assert!(format!("{document:?}").contains('\u{1D518}'));
    }
}
