//! Where a ticket lives and how it is named: the kind of ticket, the target container (ServiceNow
//! table, Jira project, ServiceDesk Plus requests), the vendor's ids and human keys, and the
//! correlation id that ties a ticket back to its finding.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::servicenow::ServiceNowTable;
use crate::vocab::Vendor;

mod key;

pub use key::{CorrelationId, ExternalId, TicketKey, TicketRef};

/// The four kinds of ticket Lockstep handles. Defaults (status rules, text limits, how priority
/// is expressed) are chosen per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    ServiceNowIncident,
    ServiceNowChangeRequest,
    JiraIssue,
    ManageEngineRequest,
}

impl TicketKind {
    pub const fn vendor(self) -> Vendor {
        match self {
            TicketKind::ServiceNowIncident | TicketKind::ServiceNowChangeRequest => {
                Vendor::ServiceNow
            }
            TicketKind::JiraIssue => Vendor::Jira,
            TicketKind::ManageEngineRequest => Vendor::ManageEngine,
        }
    }

    /// The longest one-line summary the vendor stores: ServiceNow `short_description` (160),
    /// Jira `summary` (255), ServiceDesk Plus `subject` (250).
    pub const fn summary_limit(self) -> usize {
        match self {
            TicketKind::ServiceNowIncident | TicketKind::ServiceNowChangeRequest => 160,
            TicketKind::JiraIssue => 255,
            TicketKind::ManageEngineRequest => 250,
        }
    }

    /// The longest description the vendor stores, where one is known: ServiceNow `description`
    /// (4000) and Jira `description` (32767). ServiceDesk Plus documents none.
    pub const fn description_limit(self) -> Option<usize> {
        match self {
            TicketKind::ServiceNowIncident | TicketKind::ServiceNowChangeRequest => Some(4000),
            TicketKind::JiraIssue => Some(32767),
            TicketKind::ManageEngineRequest => None,
        }
    }
}

/// A Jira project key such as `SEC`: a letter followed by letters, digits or underscores, kept in
/// upper case as Jira displays it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JiraProjectKey(String);

impl JiraProjectKey {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let key = value.trim().to_ascii_uppercase();
        let mut chars = key.chars();
        let well_formed = chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && key.len() <= 255;
        if well_formed {
            Ok(Self(key))
        } else {
            Err(DomainError::invalid(
                "Jira project key",
                value,
                "a letter followed by letters, digits or underscores, such as SEC",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a new ticket goes: a ServiceNow table, a Jira project, or ServiceDesk Plus requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTarget", into = "RawTarget")]
pub enum TicketTarget {
    ServiceNow(ServiceNowTable),
    Jira(JiraProjectKey),
    ManageEngine,
}

/// The only container name ServiceDesk Plus has: its requests module.
const MANAGEENGINE_CONTAINER: &str = "request";

impl TicketTarget {
    /// Parses the stored or requested pair (vendor, table or project): `incident` or
    /// `change_request` for ServiceNow, a project key for Jira, `request` for ServiceDesk Plus.
    pub fn parse(vendor: Vendor, container: &str) -> Result<Self, DomainError> {
        match vendor {
            Vendor::ServiceNow => Ok(TicketTarget::ServiceNow(container.trim().parse()?)),
            Vendor::Jira => JiraProjectKey::parse(container).map(TicketTarget::Jira),
            Vendor::ManageEngine
                if container
                    .trim()
                    .eq_ignore_ascii_case(MANAGEENGINE_CONTAINER) =>
            {
                Ok(TicketTarget::ManageEngine)
            }
            Vendor::ManageEngine => Err(DomainError::invalid(
                "ServiceDesk Plus container",
                container,
                "\"request\"",
            )),
        }
    }

    pub fn vendor(&self) -> Vendor {
        self.kind().vendor()
    }

    pub fn kind(&self) -> TicketKind {
        match self {
            TicketTarget::ServiceNow(ServiceNowTable::Incident) => TicketKind::ServiceNowIncident,
            TicketTarget::ServiceNow(ServiceNowTable::ChangeRequest) => {
                TicketKind::ServiceNowChangeRequest
            }
            TicketTarget::Jira(_) => TicketKind::JiraIssue,
            TicketTarget::ManageEngine => TicketKind::ManageEngineRequest,
        }
    }

    /// The table or project, as stored in `ticket_links`.
    pub fn container(&self) -> &str {
        match self {
            TicketTarget::ServiceNow(table) => table.as_str(),
            TicketTarget::Jira(project) => project.as_str(),
            TicketTarget::ManageEngine => MANAGEENGINE_CONTAINER,
        }
    }
}

impl fmt::Display for TicketTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.vendor(), self.container())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    vendor: Vendor,
    container: String,
}

impl TryFrom<RawTarget> for TicketTarget {
    type Error = DomainError;
    fn try_from(raw: RawTarget) -> Result<Self, Self::Error> {
        TicketTarget::parse(raw.vendor, &raw.container)
    }
}

impl From<TicketTarget> for RawTarget {
    fn from(target: TicketTarget) -> Self {
        RawTarget {
            vendor: target.vendor(),
            container: target.container().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_per_vendor_and_round_trip() {
        let incident = TicketTarget::parse(Vendor::ServiceNow, "incident").unwrap();
        assert_eq!(incident.kind(), TicketKind::ServiceNowIncident);
        let jira = TicketTarget::parse(Vendor::Jira, " sec ").unwrap();
        assert_eq!(jira.container(), "SEC");
        assert_eq!(jira.to_string(), "jira SEC");
        let sdp = TicketTarget::parse(Vendor::ManageEngine, "Request").unwrap();
        for target in [incident, jira, sdp] {
            let json = serde_json::to_string(&target).unwrap();
            assert_eq!(serde_json::from_str::<TicketTarget>(&json).unwrap(), target);
        }
        assert!(TicketTarget::parse(Vendor::ServiceNow, "problem").is_err());
        assert!(TicketTarget::parse(Vendor::Jira, "1SEC").is_err());
        assert!(TicketTarget::parse(Vendor::ManageEngine, "change").is_err());
    }
}
