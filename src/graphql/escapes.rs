//! Unicode escapes the spec allows in string literals and async-graphql's
//! parser does not read.
//!
//! The spec lets a string literal write a character outside the Basic
//! Multilingual Plane as a pair of escaped UTF-16 surrogates
//! (`"\ud835\udd18"` for 𝔘), as JSON does, and any character by its code
//! point in braces (`"\u{1D518}"`, `"\u{61}"`). async-graphql's parser takes
//! each `\u` escape alone, four digits and no braces, and refuses a
//! surrogate. Before parsing, each such escape in a (non-block) string
//! literal is rewritten to one it reads with the same string value: the
//! character itself beyond the Basic Multilingual Plane, a four-digit `\u`
//! escape within it. A lone surrogate, or braces holding no Unicode scalar
//! value, are left for the parser to refuse.

use std::borrow::Cow;

/// `text` with every escaped surrogate pair and braced escape in its string
/// literals rewritten as the parser reads them; borrowed when it has none.
pub fn rewrite_unicode_escapes(text: &str) -> Cow<'_, str> {
    let candidate = text.contains("\\ud") || text.contains("\\uD") || text.contains("\\u{");
    if !candidate {
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
            // A block string: escapes are not read in it.
            b'"' if bytes[index..].starts_with(b"\"\"\"") => index = block_string_end(bytes, index),
            b'"' => {
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' && bytes[index] != b'\n' {
                    if bytes[index] != b'\\' {
                        index += 1;
                        continue;
                    }
                    let rewritten = surrogate_pair(&text[index..])
                        .map(|character| (character, 12))
                        .or_else(|| braced(&text[index..]));
                    if let Some((character, length)) = rewritten {
                        out.push_str(&text[copied..index]);
                        if u32::from(character) > 0xFFFF {
                            out.push(character);
                        } else {
                            out.push_str(&format!("\\u{:04X}", u32::from(character)));
                        }
                        index += length;
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

/// Where the block string opening (`"""`) at `start` of `bytes` ends: just
/// past its closing `"""` (an escaped `\"""` does not close it), or the end.
pub fn block_string_end(bytes: &[u8], start: usize) -> usize {
    let mut index = start + 3;
    while index < bytes.len() && !bytes[index..].starts_with(b"\"\"\"") {
        index += if bytes[index..].starts_with(b"\\\"\"\"") {
            4
        } else {
            1
        };
    }
    (index + 3).min(bytes.len())
}

/// Where the quoted string opening (`"`) at `start` of `bytes` ends: just
/// past its closing quote (escapes skipped), or at the line's end.
pub fn quoted_string_end(bytes: &[u8], start: usize) -> usize {
    let mut index = start + 1;
    while index < bytes.len() && bytes[index] != b'"' && bytes[index] != b'\n' {
        index += if bytes[index] == b'\\' { 2 } else { 1 };
    }
    (index + 1).min(bytes.len())
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

/// The character of a `\u{...}` escape at the start of `text`, and the
/// escape's length.
fn braced(text: &str) -> Option<(char, usize)> {
    let digits = text.strip_prefix("\\u{")?;
    let end = digits.find('}')?;
    let digits = &digits[..end];
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let character = char::from_u32(u32::from_str_radix(digits, 16).ok()?)?;
    Some((character, 4 + end))
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
            rewrite_unicode_escapes(r#"{ a(s: "x\ud835\udd18y\uD83D\uDE00") }"#),
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
                matches!(rewrite_unicode_escapes(text), Cow::Borrowed(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn braced_escapes_become_what_the_parser_reads() {
        assert_eq!(
            rewrite_unicode_escapes(r#"{ a(s: "\u{61}lice \u{1D518} \u{22}\u{5c}") }"#),
            "{ a(s: \"\\u0061lice \u{1D518} \\u0022\\u005C\") }"
        );
        for text in [
            r#"{ a(s: "\u{D835}") }"#,
            r#"{ a(s: "\u{110000}") }"#,
            r#"{ a(s: "\u{}") }"#,
            r#"{ a(s: "\u{61") }"#,
            r#"{ a(s: """\u{61}""") }"#,
        ] {
            assert!(
                matches!(rewrite_unicode_escapes(text), Cow::Borrowed(_)),
                "{text}"
            );
        }
        let text = rewrite_unicode_escapes(r#"{ a(s: "\u{61}\u{22}") }"#);
        let document = async_graphql::parser::parse_query(text.as_ref()).expect("parses");
        assert!(format!("{document:?}").contains(r#"a\""#), "{document:?}");
    }

    #[test]
    fn a_block_string_with_wide_characters_is_skipped_whole() {
        assert_eq!(
            rewrite_unicode_escapes(r#"{ a(t: """🐉""") b(s: "\u{58}") }"#),
            r#"{ a(t: """🐉""") b(s: "\u0058") }"#
        );
    }

    #[test]
    fn any_mix_of_characters_is_rewritten_once_and_for_all() {
        let pieces = [
            "\"",
            "\"\"\"",
            "\\",
            "\\u{61}",
            "\\ud835\\udd18",
            "🐉",
            "é",
            "#",
            "\n",
            "{",
            "a",
            "\\\"\"\"",
        ];
        let mut state = 0x9E37_79B9_u32;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..12 {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                text.push_str(pieces[state as usize % pieces.len()]);
            }
            // Rewriting is done once: what it writes needs no more of it.
            let once = rewrite_unicode_escapes(&text).into_owned();
            assert_eq!(rewrite_unicode_escapes(&once), once, "{text}");
        }
    }

    #[test]
    fn the_joined_text_parses_to_the_character() {
        let text = rewrite_unicode_escapes(r#"{ a(s: "\ud835\udd18") }"#);
        let document = async_graphql::parser::parse_query(text.as_ref()).expect("parses");
        assert!(format!("{document:?}").contains('\u{1D518}'));
    }
}
