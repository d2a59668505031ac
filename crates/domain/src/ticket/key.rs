//! How a ticket is named: the vendor's record id, its human key, our reference to it, and the
//! correlation id that ties it back to its finding.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{JiraProjectKey, TicketTarget};
use crate::error::DomainError;
use crate::ids::FindingId;
use crate::label::single_line;
use crate::vocab::Vendor;

/// The human key of a ticket, checked against its vendor's numbering so a typo in a parent or
/// link key is caught before any vendor call: ServiceNow `INC0010001` (letters then digits),
/// Jira `SEC-12`, ServiceDesk Plus display id `102`. Letters are kept in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct TicketKey {
    vendor: Vendor,
    key: String,
}

impl TicketKey {
    pub fn parse(vendor: Vendor, value: &str) -> Result<Self, DomainError> {
        let key = value.trim().to_ascii_uppercase();
        let (well_formed, expected) = match vendor {
            Vendor::ServiceNow => {
                let digits = key.trim_start_matches(|c: char| c.is_ascii_uppercase());
                (
                    digits.len() < key.len()
                        && !digits.is_empty()
                        && digits.bytes().all(|b| b.is_ascii_digit()),
                    "letters followed by digits, such as INC0010001",
                )
            }
            Vendor::Jira => (
                key.rsplit_once('-').is_some_and(|(project, number)| {
                    JiraProjectKey::parse(project).is_ok()
                        && !number.is_empty()
                        && number.bytes().all(|b| b.is_ascii_digit())
                }),
                "a project key, a dash and a number, such as SEC-12",
            ),
            Vendor::ManageEngine => (
                !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()),
                "the request's display id, such as 102",
            ),
        };
        if well_formed && key.len() <= 64 {
            Ok(Self { vendor, key })
        } else {
            Err(DomainError::invalid("ticket key", value, expected))
        }
    }

    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The project part of a Jira key (`SEC` in `SEC-12`); `None` for other vendors.
    pub fn jira_project(&self) -> Option<&str> {
        match self.vendor {
            Vendor::Jira => self.key.rsplit_once('-').map(|(project, _)| project),
            Vendor::ServiceNow | Vendor::ManageEngine => None,
        }
    }
}

impl fmt::Display for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

impl From<TicketKey> for String {
    fn from(key: TicketKey) -> String {
        key.key
    }
}

/// The vendor's own record id: ServiceNow `sys_id`, Jira issue id, ServiceDesk Plus request id.
/// Opaque to us; only required to be a non-blank token without whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let id = single_line("external ticket id", value, 255)?;
        if id.chars().any(char::is_whitespace) {
            return Err(DomainError::invalid(
                "external ticket id",
                value,
                "a single token without spaces, such as a sys_id or issue id",
            ));
        }
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ExternalId {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ExternalId> for String {
    fn from(id: ExternalId) -> String {
        id.0
    }
}

/// One external ticket: where it lives, the vendor's id for it and its human key. Matches the
/// `ticket_links` columns (vendor, table or project, external id, human key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTicketRef", into = "RawTicketRef")]
pub struct TicketRef {
    target: TicketTarget,
    external_id: ExternalId,
    key: TicketKey,
}

impl TicketRef {
    /// Parses the four stored or received strings together, so the key is checked against the
    /// vendor's numbering.
    pub fn parse(
        vendor: Vendor,
        container: &str,
        external_id: &str,
        key: &str,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            target: TicketTarget::parse(vendor, container)?,
            external_id: ExternalId::parse(external_id)?,
            key: TicketKey::parse(vendor, key)?,
        })
    }

    pub fn vendor(&self) -> Vendor {
        self.target.vendor()
    }

    pub fn target(&self) -> &TicketTarget {
        &self.target
    }

    pub fn external_id(&self) -> &ExternalId {
        &self.external_id
    }

    pub fn key(&self) -> &TicketKey {
        &self.key
    }
}

impl fmt::Display for TicketRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.key, self.target)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTicketRef {
    vendor: Vendor,
    container: String,
    external_id: String,
    key: String,
}

impl TryFrom<RawTicketRef> for TicketRef {
    type Error = DomainError;
    fn try_from(raw: RawTicketRef) -> Result<Self, Self::Error> {
        TicketRef::parse(raw.vendor, &raw.container, &raw.external_id, &raw.key)
    }
}

impl From<TicketRef> for RawTicketRef {
    fn from(ticket: TicketRef) -> Self {
        RawTicketRef {
            vendor: ticket.vendor(),
            container: ticket.target.container().to_owned(),
            external_id: ticket.external_id.0,
            key: ticket.key.key,
        }
    }
}

/// The value Lockstep writes into a ticket's correlation field (`lockstep:<finding id>`), so that
/// a crash between the vendor call and our write-back is repaired by looking the ticket up, never
/// by creating a second one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CorrelationId(FindingId);

impl CorrelationId {
    const PREFIX: &'static str = "lockstep:";

    pub const fn for_finding(id: FindingId) -> Self {
        Self(id)
    }

    /// Reads a correlation value found on a ticket.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        value
            .trim()
            .strip_prefix(Self::PREFIX)
            .and_then(|id| FindingId::parse(id).ok())
            .map(Self)
            .ok_or_else(|| {
                DomainError::invalid(
                    "correlation id",
                    value,
                    "\"lockstep:\" followed by a finding id",
                )
            })
    }

    pub const fn finding_id(&self) -> FindingId {
        self.0
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.0)
    }
}

impl TryFrom<String> for CorrelationId {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CorrelationId> for String {
    fn from(id: CorrelationId) -> String {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_each_vendors_numbering() {
        let key = TicketKey::parse(Vendor::ServiceNow, "inc0010001").unwrap();
        assert_eq!(key.as_str(), "INC0010001");
        assert_eq!(key.jira_project(), None);
        assert!(TicketKey::parse(Vendor::ServiceNow, "0010001").is_err());
        assert!(TicketKey::parse(Vendor::ServiceNow, "INC").is_err());
        assert!(TicketKey::parse(Vendor::ServiceNow, "INC 1").is_err());

        let key = TicketKey::parse(Vendor::Jira, "my_proj-12").unwrap();
        assert_eq!(key.jira_project(), Some("MY_PROJ"));
        assert!(TicketKey::parse(Vendor::Jira, "PROJ12").is_err());
        assert!(TicketKey::parse(Vendor::Jira, "PROJ-").is_err());
        let err = TicketKey::parse(Vendor::Jira, "-12").unwrap_err();
        assert!(err.to_string().contains("such as SEC-12"));

        assert!(TicketKey::parse(Vendor::ManageEngine, "102").is_ok());
        assert!(TicketKey::parse(Vendor::ManageEngine, "REQ-102").is_err());
    }

    #[test]
    fn ticket_refs_round_trip_through_json() {
        let ticket = TicketRef::parse(
            Vendor::ServiceNow,
            "incident",
            "9d385017c611228701d22104cc95c371",
            "INC0010001",
        )
        .unwrap();
        assert_eq!(ticket.to_string(), "INC0010001 (servicenow incident)");
        let json = serde_json::to_value(&ticket).unwrap();
        assert_eq!(json["key"], "INC0010001");
        assert_eq!(serde_json::from_value::<TicketRef>(json).unwrap(), ticket);
        assert!(TicketRef::parse(Vendor::Jira, "SEC", "10005", "INC0010001").is_err());
        assert!(ExternalId::parse("has space").is_err());
    }

    #[test]
    fn correlation_ids_round_trip() {
        let id = FindingId::new();
        let correlation = CorrelationId::for_finding(id);
        let text = correlation.to_string();
        assert_eq!(text, format!("lockstep:{id}"));
        assert_eq!(CorrelationId::parse(&text).unwrap().finding_id(), id);
        assert!(CorrelationId::parse(&id.to_string()).is_err());
    }
}
