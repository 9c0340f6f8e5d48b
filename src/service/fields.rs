//! Input parsed at the edge into values that cannot be invalid, and a
//! [`Validator`] that gathers every offending field of one input at once.

use crate::error::{Error, FieldError, Result};

/// Collects field errors while an input is parsed.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Keeps the parsed value, or records why `field` was refused.
    pub fn field<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.push(FieldError {
                    field: field.into(),
                    message,
                });
                None
            }
        }
    }

    /// Like [`Validator::field`] for an optional input: `None` stays `None`.
    pub fn optional<T, V>(
        &mut self,
        field: &str,
        value: Option<V>,
        parse: impl FnOnce(V) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match value {
            None => Some(None),
            Some(value) => self.field(field, parse(value)).map(Some),
        }
    }

    /// Records a refusal found outside parsing.
    pub fn reject(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Fails with every recorded field, or succeeds when there are none.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    /// The error listing every recorded field.
    pub fn into_error(self) -> Error {
        Error::InvalidInput(self.errors)
    }
}

fn bounded_text(value: &str, max_chars: usize, allow_empty: bool) -> Result<String, String> {
    let trimmed = value.trim();
    if !allow_empty && trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    if trimmed.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    Ok(trimmed.to_owned())
}

/// A public handle: 1 to 32 letters, digits, `_` or `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses a username.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("must not be empty".into());
        }
        if value.chars().count() > 32 {
            return Err("must be at most 32 characters".into());
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err("may contain only letters, digits, '_' and '-'".into());
        }
        Ok(Self(value.to_owned()))
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased username that uniqueness compares: `Jake` and `jake`
    /// are one name. (Only ASCII letters are allowed, so lower-casing is the
    /// whole of the comparison: nothing else can look alike.)
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// An email address, kept as typed, unique ignoring case and Unicode
/// compatibility forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

/// Whether `c` cannot be seen, or is no character to type: controls,
/// formatting characters (zero-width spaces and joiners, the soft hyphen,
/// direction marks, the byte order mark), line and paragraph separators,
/// surrogates, private-use and unassigned code points.
fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
    )
}

impl Email {
    /// Parses an address of the form `local@domain.tld`. Whitespace and
    /// characters that cannot be seen ([`is_invisible`]) are refused.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let invalid = || "is not a valid email address".to_owned();
        if value.chars().any(is_invisible) {
            return Err(
                "must not contain invisible characters (zero-width, soft hyphens, controls)".into(),
            );
        }
        if value.len() > 254 || value.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(value.to_owned()))
    }

    /// The address as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address that uniqueness and sign-in compare: in Unicode's
    /// compatibility form (NFKC: a full-width `ｊ` is `j`), lower-cased.
    pub fn key(&self) -> String {
        email_key(&self.0)
    }
}

/// The key an email address is compared by: NFKC, then lower case. Sign-in
/// looks an address up by the same key.
pub fn email_key(address: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    address.trim().nfkc().collect::<String>().to_lowercase()
}

/// A new password: 8 to 128 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    /// Parses a password; it is not trimmed.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.chars().count() {
            0..8 => Err("must be at least 8 characters".into()),
            129.. => Err("must be at most 128 characters".into()),
            _ => Ok(Self(value.to_owned())),
        }
    }

    /// The password, to hash.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A profile biography, up to 2,000 characters; may be empty.
pub fn bio(value: &str) -> Result<String, String> {
    bounded_text(value, 2000, true)
}

/// An avatar URL: `http(s)://…`, up to 2,048 characters; empty clears it.
pub fn image(value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    if !(value.starts_with("https://") || value.starts_with("http://"))
        || value.chars().any(char::is_whitespace)
    {
        return Err("must be an http or https URL".into());
    }
    Ok(Some(value.to_owned()))
}

/// An article title: 1 to 255 characters.
pub fn title(value: &str) -> Result<String, String> {
    bounded_text(value, 255, false)
}

/// An article description: 1 to 1,000 characters.
pub fn description(value: &str) -> Result<String, String> {
    bounded_text(value, 1000, false)
}

/// An article body: 1 to 100,000 characters.
pub fn article_body(value: &str) -> Result<String, String> {
    bounded_text(value, 100_000, false)
}

/// A comment body: 1 to 10,000 characters.
pub fn comment_body(value: &str) -> Result<String, String> {
    bounded_text(value, 10_000, false)
}

/// Most tags an article has.
pub const MAX_TAGS: usize = 10;

/// Tags: at most 10, each 1 to 32 characters without commas; duplicates dropped, order kept.
/// Linear in the input, and stops at the eleventh distinct tag.
pub fn tags(values: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for value in values {
        let tag = value.trim();
        if tag.is_empty() {
            return Err("must not contain empty tags".into());
        }
        if tag.chars().count() > 32 {
            return Err(format!("tag '{tag}' is longer than 32 characters"));
        }
        if tag.contains(',') {
            return Err(format!("tag '{tag}' must not contain a comma"));
        }
        if seen.insert(tag) {
            if out.len() == MAX_TAGS {
                return Err(format!("must have at most {MAX_TAGS} tags"));
            }
            out.push(tag.to_owned());
        }
    }
    Ok(out)
}

/// The URL name for a title: lower-case letters and digits joined by `-`.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_end_matches('-').chars().take(80).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        "article".into()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_allow_a_small_alphabet() {
        assert!(Username::parse("jake_doe-1").is_ok());
        assert!(Username::parse("").is_err());
        assert!(Username::parse("has space").is_err());
        assert!(Username::parse(&"x".repeat(33)).is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(
            Email::parse(" Jake@Example.org ").expect("valid").key(),
            "jake@example.org"
        );
        for bad in [
            "",
            "jake",
            "jake@",
            "@example.org",
            "jake@example",
            "ja ke@example.org",
            "a@b@c.org",
            "j@x..org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_compare_ignoring_case_and_lookalikes_are_refused() {
        let key = |name: &str| Username::parse(name).expect("valid").key();
        assert_eq!(key("Jake"), key("jake"));
        // Full-width letters, a zero-width space, a soft hyphen, a control.
        for lookalike in [
            "ｊａｋｅ",
            "ja\u{200b}ke",
            "ja\u{ad}ke",
            "ja\u{7}ke",
            "jаke",
        ] {
            assert!(Username::parse(lookalike).is_err(), "{lookalike:?}");
        }
    }

    #[test]
    fn emails_compare_in_compatibility_form_and_invisible_characters_are_refused() {
        let key = |address: &str| Email::parse(address).expect("valid").key();
        assert_eq!(key("Jake@Example.org"), "jake@example.org");
        assert_eq!(key("ｊａｋｅ@example.org"), "jake@example.org");
        assert_eq!(key("ﬁne@example.org"), "fine@example.org");
        for hidden in [
            "ja\u{200b}ke@example.org",
            "ja\u{ad}ke@example.org",
            "jake@exa\u{200d}mple.org",
            "ja\u{feff}ke@example.org",
            "ja\u{202e}ke@example.org",
            "ja\u{0}ke@example.org",
        ] {
            let refused = Email::parse(hidden).expect_err(hidden);
            assert!(refused.contains("invisible"), "{hidden:?}: {refused}");
        }
    }

    #[test]
    fn passwords_are_eight_to_128_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"p".repeat(129)).is_err());
    }

    #[test]
    fn tags_are_trimmed_deduplicated_and_bounded() {
        assert_eq!(
            tags(&[" rust ".into(), "rust".into(), "web".into()]),
            Ok(vec!["rust".into(), "web".into()])
        );
        assert!(tags(&["".into()]).is_err());
        assert!(tags(&(0..11).map(|i| i.to_string()).collect::<Vec<_>>()).is_err());
        let repeated: Vec<String> = (0..50).map(|i| (i % 10).to_string()).collect();
        assert_eq!(tags(&repeated).map(|t| t.len()), Ok(10));
    }

    #[test]
    fn slugs_are_lower_case_words_joined_by_dashes() {
        assert_eq!(
            slugify("How to Train Your Dragon!"),
            "how-to-train-your-dragon"
        );
        assert_eq!(slugify("  --Rust & Go--  "), "rust-go");
        assert_eq!(slugify("!!!"), "article");
        assert!(slugify(&"word ".repeat(40)).len() <= 80);
    }

    #[test]
    fn images_are_http_urls_or_empty() {
        assert_eq!(image(""), Ok(None));
        assert!(image("javascript:alert(1)").is_err());
        assert_eq!(
            image("https://x.org/a.png"),
            Ok(Some("https://x.org/a.png".into()))
        );
    }

    #[test]
    fn the_validator_reports_every_field() {
        let mut v = Validator::default();
        let a = v.field("email", Email::parse("nope"));
        let b = v.field("username", Username::parse(""));
        assert!(a.is_none() && b.is_none());
        let Error::InvalidInput(fields) = v.into_error() else {
            panic!("wrong error")
        };
        assert_eq!(fields.len(), 2);
    }
}
