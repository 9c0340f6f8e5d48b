//! The JSON text of a GraphQL response, written straight from the executor's
//! values. It is byte for byte what serde_json writes for the same
//! `Response`, at a fraction of the cost: the many short strings of a page
//! are checked for characters to escape eight bytes at a time, and copied
//! whole when they have none, which is nearly always.
//!
//! One exception: a [`Value::Binary`] is JSON text already, written by a
//! list that answered directly ([`super::ready`]), and is copied as it is. A
//! list writes one only into a request that says it is written here
//! ([`super::ready::JsonTextLists`]); no field of the schema answers binary
//! data otherwise.

use async_graphql::{Response, Value};
use chrono::{DateTime, Datelike, Timelike, Utc};

/// The JSON text of `response`: `data`, then `extensions` and `errors` when
/// there are any, as async-graphql's own serialisation orders them.
pub fn response_json(response: &Response) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"data\":");
    write_value(&mut out, &response.data)?;
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        serde_json::to_writer(&mut out, &response.extensions)?;
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut out, &response.errors)?;
    }
    out.push(b'}');
    Ok(out)
}

/// Appends the JSON text of `value` to `out`.
pub(super) fn write_value(out: &mut Vec<u8>, value: &Value) -> serde_json::Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::String(text) => write_str(out, text),
        Value::Enum(name) => write_str(out, name),
        Value::Number(_) => serde_json::to_writer(&mut *out, value)?,
        Value::Binary(text) => out.extend_from_slice(text),
        Value::List(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (index, (name, field)) in fields.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_str(out, name);
                out.push(b':');
                write_value(out, field)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Appends `time` as a JSON string, as async-graphql answers a
/// `DateTime<Utc>`: `DateTime::to_rfc3339`, with no fraction of a second, or
/// 3, 6 or 9 digits of one, whichever holds it, and `+00:00`.
pub(super) fn write_time(out: &mut Vec<u8>, time: &DateTime<Utc>) {
    let (date, clock) = (time.date_naive(), time.time());
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return write_str(out, &time.to_rfc3339());
    }
    let (mut second, mut nano) = (clock.second(), clock.nanosecond());
    if nano >= 1_000_000_000 {
        // A leap second.
        second += 1;
        nano -= 1_000_000_000;
    }
    let two = |out: &mut Vec<u8>, n: u32| {
        out.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8])
    };
    out.push(b'"');
    two(out, year as u32 / 100);
    two(out, year as u32 % 100);
    out.push(b'-');
    two(out, date.month());
    out.push(b'-');
    two(out, date.day());
    out.push(b'T');
    two(out, clock.hour());
    out.push(b':');
    two(out, clock.minute());
    out.push(b':');
    two(out, second);
    let (fraction, digits) = match nano {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    if digits > 0 {
        out.push(b'.');
        let mut text = [b'0'; 9];
        let mut rest = fraction;
        for slot in text[..digits].iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.extend_from_slice(&text[..digits]);
    }
    out.extend_from_slice(b"+00:00\"");
}

/// Eight copies of a byte.
const fn repeated(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// Whether any of the eight bytes of `chunk` must be escaped: a control
/// character, a quote or a backslash. (`v - 0x01… & !v & 0x80…` is non-zero
/// exactly when some byte of `v` is zero; with `n * 0x01…` subtracted, when
/// some byte is below `n`, for `n` up to 0x80.)
fn chunk_needs_escape(chunk: u64) -> bool {
    let below = |v: u64, n: u8| v.wrapping_sub(repeated(n)) & !v & repeated(0x80);
    below(chunk, 0x20) | below(chunk ^ repeated(b'"'), 1) | below(chunk ^ repeated(b'\\'), 1) != 0
}

/// Whether any byte of `bytes` must be escaped, checked eight at a time (the
/// last few padded with spaces).
fn needs_escape(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        if chunk_needs_escape(u64::from_ne_bytes(chunk.try_into().expect("eight bytes"))) {
            return true;
        }
    }
    let mut last = [b' '; 8];
    for (slot, byte) in last.iter_mut().zip(chunks.remainder()) {
        *slot = *byte;
    }
    chunk_needs_escape(u64::from_ne_bytes(last))
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it.
pub(super) fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if needs_escape(bytes) {
        write_escaped(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// Appends `bytes` with every quote, backslash and control character escaped.
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut copied = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            byte if byte < 0x20 => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[copied..index]);
        out.extend_from_slice(escape);
        copied = index + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use async_graphql::indexmap::IndexMap;
    use async_graphql::{Name, Number, ServerError};

    use super::*;

    fn same_as_serde_json(response: &Response) {
        let ours = String::from_utf8(response_json(response).expect("writes")).expect("UTF-8");
        let theirs = serde_json::to_string(response).expect("serialises");
        assert_eq!(ours, theirs);
    }

    fn strings() -> Vec<String> {
        let mut strings: Vec<String> = [
            "",
            "plain",
            "exactly8",
            "sixteen bytes ok",
            "a \"quoted\" word",
            "back\\slash at eight\\",
            "tab\tnew\nline\rret",
            "bell\u{7} and \u{1f} and \u{0}",
            "\u{8}\u{c}",
            "del \u{7f} stays",
            "ünïcödé, 漢字 and 🦀 emoji",
            "\"\"\"\"\"\"\"\"\"",
        ]
        .map(str::to_owned)
        .to_vec();
        // Every ASCII character at every position of a chunk and across two.
        for byte in 0u8..0x80 {
            for position in 0..17 {
                let mut text = "x".repeat(17);
                text.replace_range(position..position + 1, &char::from(byte).to_string());
                strings.push(text);
            }
        }
        strings
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in strings() {
            same_as_serde_json(&Response::new(Value::String(text.clone())));
            same_as_serde_json(&Response::new(Value::List(vec![
                Value::String(text.clone()),
                Value::Enum(Name::new("PUBLISHED")),
            ])));
        }
    }

    #[test]
    fn times_are_written_as_async_graphql_writes_them() {
        let mut times: Vec<DateTime<Utc>> = [
            0,
            1_700_000_000_000_000_000,
            1_700_000_000_123_000_000,
            1_700_000_000_123_456_000,
            1_700_000_000_123_456_789,
            1_700_000_000_000_000_001,
            1_700_000_000_100_000_000,
            1_700_000_000_000_001_000,
            253_402_300_799_999_999_999, // 9999-12-31T23:59:59.999999999
            -62_167_219_200_000_000_000, // 0000-01-01
            -62_167_219_200_000_000_001, // the year before, out of range
            253_402_300_800_000_000_000, // 10000-01-01, out of range
        ]
        .map(|nanos: i128| {
            let seconds = i64::try_from(nanos.div_euclid(1_000_000_000)).expect("seconds");
            let nanos = u32::try_from(nanos.rem_euclid(1_000_000_000)).expect("nanos");
            DateTime::from_timestamp(seconds, nanos).expect("in chrono's range")
        })
        .to_vec();
        // A leap second.
        times.push(DateTime::from_timestamp(1_483_228_799, 1_500_000_000).expect("leap second"));
        for time in times {
            let mut ours = Vec::new();
            write_time(&mut ours, &time);
            let theirs = serde_json::to_string(&async_graphql::ScalarType::to_value(&time))
                .expect("serialises");
            assert_eq!(String::from_utf8(ours).expect("UTF-8"), theirs);
        }
    }

    #[test]
    fn binary_values_are_json_text_copied_as_they_are() {
        let text = br#"[{"slug":"a"},{"slug":"b"}]"#;
        let mut fields = IndexMap::new();
        fields.insert(Name::new("nodes"), Value::Binary(text.to_vec().into()));
        let written = response_json(&Response::new(Value::Object(fields))).expect("writes");
        assert_eq!(
            String::from_utf8(written).expect("UTF-8"),
            r#"{"data":{"nodes":[{"slug":"a"},{"slug":"b"}]}}"#
        );
    }

    #[test]
    fn every_kind_of_value_and_the_error_and_extension_entries_match() {
        let mut card = IndexMap::new();
        card.insert(Name::new("slug"), Value::String("a-\"slug\"".into()));
        card.insert(Name::new("count"), Value::Number(Number::from(-42)));
        card.insert(Name::new("big"), Value::Number(Number::from(u64::MAX)));
        card.insert(
            Name::new("ratio"),
            Value::Number(Number::from_f64(0.1).expect("finite")),
        );
        card.insert(Name::new("none"), Value::Null);
        card.insert(Name::new("yes"), Value::Boolean(true));
        card.insert(Name::new("no"), Value::Boolean(false));
        card.insert(Name::new("empty"), Value::List(Vec::new()));
        card.insert(Name::new("nested"), Value::Object(IndexMap::new()));
        let data = Value::List(vec![Value::Object(card.clone()), Value::Object(card)]);
        same_as_serde_json(&Response::new(data.clone()));

        let mut response = Response::new(data);
        response
            .errors
            .push(ServerError::new("it \"failed\"", None));
        same_as_serde_json(&response);
        response
            .extensions
            .insert("cost".into(), Value::Number(Number::from(3)));
        same_as_serde_json(&response);
        same_as_serde_json(&Response::from_errors(vec![ServerError::new("no", None)]));
    }
}
