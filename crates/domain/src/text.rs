//! Free text from outside (scanner titles and descriptions, notes, names) and how much of it an
//! error message may repeat.
//!
//! Every text field is bounded and refuses NUL: PostgreSQL `text` cannot hold U+0000, so a NUL
//! that got past the edge would surface as an internal error far from the value that caused it.
//! Other control characters are allowed in free text (scanners write tabs and line breaks); the
//! CLI escapes them when it prints a table.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// How many characters of an offending value an error message repeats. Errors travel into gRPC
/// status messages (HTTP/2 headers), so an echoed value must stay small whatever was sent.
pub const ECHO_CHARS: usize = 64;

/// The first `max_chars` characters of `value`, with an ellipsis and the full length when cut.
pub fn excerpt(value: &str, max_chars: usize) -> String {
    match value.char_indices().nth(max_chars) {
        None => value.to_owned(),
        Some((cut, _)) => format!("{}… ({} characters)", &value[..cut], value.chars().count()),
    }
}

/// Checks free text: no NUL, at most `max_chars` characters. Returns it unchanged.
pub fn free_text<'a>(
    field: &'static str,
    value: &'a str,
    max_chars: usize,
) -> Result<&'a str, DomainError> {
    if value.contains('\0') {
        return Err(DomainError::invalid(
            field,
            value,
            "text without NUL characters (\\u0000)",
        ));
    }
    let count = value.chars().count();
    if count > max_chars {
        return Err(DomainError::invalid(
            field,
            value,
            format!("at most {max_chars} characters (this one has {count})"),
        ));
    }
    Ok(value)
}

/// A finding's title: non-blank, at most [`Title::MAX_CHARS`] characters, no NUL, surrounding
/// whitespace removed. The bound is the `findings_title_check` constraint's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let trimmed = free_text("title", value.trim(), Self::MAX_CHARS)?;
        if trimmed.is_empty() {
            return Err(DomainError::invalid("title", value, "a non-blank value"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Title {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Title> for String {
    fn from(title: Title) -> String {
        title.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_keep_short_values_and_cut_long_ones() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("0123456789", 10), "0123456789");
        let long = "é".repeat(100_000);
        let cut = excerpt(&long, ECHO_CHARS);
        assert!(cut.starts_with(&"é".repeat(ECHO_CHARS)));
        assert!(cut.ends_with("… (100000 characters)"), "{cut}");
    }

    #[test]
    fn free_text_refuses_nul_and_overlong_values() {
        assert_eq!(
            free_text("note", "tab\tand\nline", 20).unwrap(),
            "tab\tand\nline"
        );
        let err = free_text("description", "a\0b", 20)
            .unwrap_err()
            .to_string();
        assert!(err.contains("without NUL"), "{err}");
        let err = free_text("asset", &"x".repeat(21), 20)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("at most 20 characters (this one has 21)"),
            "{err}"
        );
    }

    #[test]
    fn titles_are_trimmed_bounded_and_nul_free() {
        assert_eq!(Title::parse("  OpenSSL  ").unwrap().as_str(), "OpenSSL");
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse("bad\0title").is_err());
        assert!(Title::parse(&"t".repeat(Title::MAX_CHARS)).is_ok());
        let err = Title::parse(&"t".repeat(100_000)).unwrap_err().to_string();
        assert!(err.len() < 300, "the error repeats only an excerpt: {err}");
    }
}
