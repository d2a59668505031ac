//! A security finding as the rest of Lockstep sees it, and the typed keys it carries.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::DomainError;
use crate::ids::{FindingId, TenantId};
use crate::label::single_line;
use crate::vocab::{FindingStatus, Severity};

/// A finding imported from a scanner. The store maps `findings` rows to it; its fields are public
/// because every invariant lives in the field types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub id: FindingId,
    pub tenant_id: TenantId,
    /// The scanner's own identifier, unique per tenant; shown in ticket summaries.
    pub scanner_key: ScannerKey,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub status: FindingStatus,
    /// The host, image, repository or URL the finding is on.
    pub asset: Option<String>,
    pub cve: Option<Cve>,
    pub cwe: Option<Cwe>,
    /// The tool that reported the finding, such as "nessus".
    pub scanner: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Finding {
    /// Bounds of the scanner's free text, checked at import (the title's is
    /// [`crate::Title::MAX_CHARS`]).
    pub const MAX_DESCRIPTION_CHARS: usize = 100_000;
    pub const MAX_ASSET_CHARS: usize = 1_000;
    pub const MAX_SCANNER_CHARS: usize = 200;
}

/// A scanner's identifier for a finding: one line, at most 255 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScannerKey(String);

impl ScannerKey {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        single_line("scanner key", value, 255).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScannerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ScannerKey {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ScannerKey> for String {
    fn from(key: ScannerKey) -> String {
        key.0
    }
}

/// A CVE id such as `CVE-2024-1234`: year, then a sequence of at least four digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cve(String);

impl Cve {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let id = value.trim().to_ascii_uppercase();
        let well_formed = id.strip_prefix("CVE-").is_some_and(|rest| {
            rest.split_once('-').is_some_and(|(year, number)| {
                year.len() == 4
                    && number.len() >= 4
                    && year
                        .bytes()
                        .chain(number.bytes())
                        .all(|b| b.is_ascii_digit())
            })
        });
        if well_formed {
            Ok(Self(id))
        } else {
            Err(DomainError::invalid(
                "CVE",
                value,
                "CVE-<year>-<number>, such as CVE-2024-1234",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Cve {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Cve> for String {
    fn from(cve: Cve) -> String {
        cve.0
    }
}

/// A CWE weakness id. Accepts `CWE-79` or just `79`; always written `CWE-79`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cwe(u32);

impl Cwe {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let trimmed = value.trim();
        let number = trimmed
            .get(..4)
            .filter(|prefix| prefix.eq_ignore_ascii_case("CWE-"))
            .map_or(trimmed, |_| &trimmed[4..]);
        number
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0 && number.bytes().all(|b| b.is_ascii_digit()))
            .map(Self)
            .ok_or_else(|| DomainError::invalid("CWE", value, "CWE-<number>, such as CWE-79"))
    }

    pub const fn number(&self) -> u32 {
        self.0
    }
}

impl fmt::Display for Cwe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CWE-{}", self.0)
    }
}

impl TryFrom<String> for Cwe {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Cwe> for String {
    fn from(cwe: Cwe) -> String {
        cwe.to_string()
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use time::macros::datetime;

    use super::*;

    /// A high-severity finding with every optional field set.
    pub(crate) fn finding() -> Finding {
        Finding {
            id: FindingId::new(),
            tenant_id: TenantId::new(),
            scanner_key: ScannerKey::parse("NES-19506").unwrap(),
            title: "OpenSSL 3.0 < 3.0.7 buffer overflow".to_owned(),
            description: "The remote host runs a vulnerable OpenSSL.".to_owned(),
            severity: Severity::High,
            status: FindingStatus::Open,
            asset: Some("host-17.example.com".to_owned()),
            cve: Some(Cve::parse("CVE-2022-3602").unwrap()),
            cwe: Some(Cwe::parse("CWE-787").unwrap()),
            scanner: "nessus".to_owned(),
            created_at: datetime!(2026-01-05 09:00 UTC),
            updated_at: datetime!(2026-01-05 09:00 UTC),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cves_are_normalised_and_checked() {
        assert_eq!(
            Cve::parse(" cve-2024-12345 ").unwrap().as_str(),
            "CVE-2024-12345"
        );
        assert!(Cve::parse("CVE-24-1234").is_err());
        assert!(Cve::parse("CVE-2024-123").is_err());
        assert!(Cve::parse("2024-1234").is_err());
    }

    #[test]
    fn cwes_accept_the_bare_number() {
        assert_eq!(Cwe::parse("79").unwrap().to_string(), "CWE-79");
        assert_eq!(Cwe::parse("cwe-787").unwrap().number(), 787);
        assert!(Cwe::parse("CWE-").is_err());
        assert!(Cwe::parse("CWE-+7").is_err());
        assert!(Cwe::parse("0").is_err());
    }

    #[test]
    fn findings_round_trip_through_json() {
        let finding = fixtures::finding();
        let json = serde_json::to_value(&finding).unwrap();
        assert_eq!(json["cwe"], "CWE-787");
        assert_eq!(json["status"], "open");
        assert_eq!(serde_json::from_value::<Finding>(json).unwrap(), finding);
    }
}
