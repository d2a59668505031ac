//! Short single-line text values: the names and codes of a vendor's vocabulary (priorities,
//! statuses, close codes, categories, groups, users) and our own short keys.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Checks a short single-line value and returns it trimmed. Shared by every text newtype so they
/// all reject the same things: blank values, line breaks and other control characters, and values
/// longer than `max_chars`.
pub(crate) fn single_line(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<String, DomainError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DomainError::invalid(field, value, "a non-blank value"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            value,
            "a single line without control characters",
        ));
    }
    if trimmed.chars().count() > max_chars {
        return Err(DomainError::invalid(
            field,
            value,
            format!("at most {max_chars} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Compares two names the way vendors' UIs do: case-insensitively (Unicode-aware) and ignoring
/// surrounding whitespace.
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .eq(b.trim().chars().flat_map(char::to_lowercase))
}

/// A name or code from a vendor's vocabulary, as an admin typed it into a rule or a preset:
/// non-blank, one line, at most [`Label::MAX_CHARS`] characters, surrounding whitespace removed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(String);

impl Label {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(value: &str) -> Result<Self, DomainError> {
        single_line("label", value, Self::MAX_CHARS).map(Self)
    }

    /// A label written in this crate's source (defaults). Checked in debug builds and tests.
    pub(crate) fn known(value: &'static str) -> Self {
        debug_assert!(
            Self::parse(value).is_ok_and(|l| l.0 == value),
            "bad built-in label {value:?}"
        );
        Self(value.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` names the same thing, ignoring case and surrounding whitespace.
    pub fn matches(&self, other: &str) -> bool {
        same_name(&self.0, other)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for Label {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Label {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Label> for String {
    fn from(label: Label) -> String {
        label.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_single_lines() {
        assert_eq!(Label::parse("  On Hold ").unwrap().as_str(), "On Hold");
        assert!(Label::parse("   ").is_err());
        assert!(Label::parse("two\nlines").is_err());
        assert!(Label::parse(&"x".repeat(256)).is_err());
        assert!(Label::parse(&"é".repeat(255)).is_ok());
    }

    #[test]
    fn matching_ignores_case_and_whitespace() {
        let label = Label::parse("Won't Fix").unwrap();
        assert!(label.matches(" won't fix"));
        assert!(!label.matches("Won't Do"));
        assert!(same_name("ÉTAT", "état"));
    }

    #[test]
    fn serde_rejects_blank_labels() {
        assert!(serde_json::from_str::<Label>("\"\"").is_err());
        let label: Label = serde_json::from_str("\"High\"").unwrap();
        assert_eq!(serde_json::to_string(&label).unwrap(), "\"High\"");
    }
}
