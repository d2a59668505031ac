//! Ticket creation requests, checked before any vendor call: the mode (standalone, subtask,
//! link), the finding selection and its cap, and the target.

use std::collections::HashSet;

use crate::error::DomainError;
use crate::ids::FindingId;
use crate::text::{ECHO_CHARS, excerpt};
use crate::ticket::{TicketKey, TicketTarget};
use crate::vocab::Vendor;

/// The most findings one bulk request may ticket. Enforced here, on the server, before any
/// vendor call, so one request cannot flood an ITSM instance.
pub const BULK_LIMIT: usize = 500;

/// How a new ticket relates to existing ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketMode {
    /// An independent ticket.
    Standalone,
    /// Nested under an existing parent ticket.
    Subtask { parent: TicketKey },
    /// A standalone ticket related to another existing ticket.
    Link { related: TicketKey },
}

impl TicketMode {
    /// Parses the requested mode (`standalone`, `subtask`, `link`, any case) and its related
    /// ticket key. A subtask or link without a key, or a standalone ticket with one, is rejected
    /// rather than guessed at.
    pub fn parse(vendor: Vendor, mode: &str, related: Option<&str>) -> Result<Self, DomainError> {
        let related = related.map(str::trim).filter(|key| !key.is_empty());
        let example = match vendor {
            Vendor::ServiceNow => "INC0010001",
            Vendor::Jira => "SEC-12",
            Vendor::ManageEngine => "102",
        };
        let key = |mode: &'static str, role: &'static str| {
            related
                .ok_or(DomainError::MissingRelatedTicket {
                    mode,
                    role,
                    example,
                })
                .and_then(|key| TicketKey::parse(vendor, key))
        };
        match mode.trim().to_ascii_lowercase().as_str() {
            "standalone" => match related {
                None => Ok(TicketMode::Standalone),
                Some(key) => Err(DomainError::UnexpectedRelatedTicket {
                    key: excerpt(key, ECHO_CHARS),
                }),
            },
            "subtask" => Ok(TicketMode::Subtask {
                parent: key("subtask", "parent")?,
            }),
            "link" => Ok(TicketMode::Link {
                related: key("link", "related")?,
            }),
            _ => Err(DomainError::UnknownTicketMode {
                value: excerpt(mode, ECHO_CHARS),
            }),
        }
    }

    pub const fn as_str(&self) -> &'static str {
        match self {
            TicketMode::Standalone => "standalone",
            TicketMode::Subtask { .. } => "subtask",
            TicketMode::Link { .. } => "link",
        }
    }

    /// The parent or related ticket, if the mode has one.
    pub fn related(&self) -> Option<&TicketKey> {
        match self {
            TicketMode::Standalone => None,
            TicketMode::Subtask { parent } => Some(parent),
            TicketMode::Link { related } => Some(related),
        }
    }
}

/// The findings of one request: at least one, at most [`BULK_LIMIT`], each listed once.
/// Duplicates are rejected, not silently merged, so the per-finding results line up with what
/// the caller sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingSelection(Vec<FindingId>);

impl FindingSelection {
    pub fn new(ids: Vec<FindingId>) -> Result<Self, DomainError> {
        if ids.is_empty() {
            return Err(DomainError::EmptyBulk);
        }
        if ids.len() > BULK_LIMIT {
            return Err(DomainError::BulkTooLarge {
                count: ids.len(),
                limit: BULK_LIMIT,
            });
        }
        let mut seen = HashSet::with_capacity(ids.len());
        if let Some(id) = ids.iter().find(|id| !seen.insert(**id)) {
            return Err(DomainError::DuplicateFinding { id: *id });
        }
        Ok(Self(ids))
    }

    /// The ids in the order the caller sent them; never empty.
    pub fn ids(&self) -> &[FindingId] {
        &self.0
    }
}

/// A checked request to ticket findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRequest {
    target: TicketTarget,
    mode: TicketMode,
    findings: FindingSelection,
}

impl TicketRequest {
    /// Checks that the mode fits the target: its related key must be of the target's vendor, and
    /// a Jira subtask must go to its parent's project.
    pub fn new(
        target: TicketTarget,
        mode: TicketMode,
        findings: FindingSelection,
    ) -> Result<Self, DomainError> {
        if let Some(key) = mode.related().filter(|key| key.vendor() != target.vendor()) {
            return Err(DomainError::VendorMismatch {
                what: format!("ticket key {key}"),
                expected: key.vendor(),
                found: target.vendor(),
            });
        }
        if let (TicketMode::Subtask { parent }, TicketTarget::Jira(project)) = (&mode, &target)
            && let Some(parent_project) = parent.jira_project()
            && parent_project != project.as_str()
        {
            return Err(DomainError::SubtaskProjectMismatch {
                parent: parent.to_string(),
                parent_project: parent_project.to_owned(),
                project: project.as_str().to_owned(),
            });
        }
        Ok(Self {
            target,
            mode,
            findings,
        })
    }

    pub fn target(&self) -> &TicketTarget {
        &self.target
    }

    pub fn mode(&self) -> &TicketMode {
        &self.mode
    }

    pub fn findings(&self) -> &FindingSelection {
        &self.findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_with_their_related_ticket() {
        assert_eq!(
            TicketMode::parse(Vendor::Jira, "Standalone", None).unwrap(),
            TicketMode::Standalone
        );
        assert_eq!(
            TicketMode::parse(Vendor::Jira, "standalone", Some("  ")).unwrap(),
            TicketMode::Standalone
        );
        let subtask = TicketMode::parse(Vendor::Jira, "subtask", Some("sec-7")).unwrap();
        assert_eq!(subtask.related().unwrap().as_str(), "SEC-7");
        assert_eq!(subtask.as_str(), "subtask");
        let link = TicketMode::parse(Vendor::ServiceNow, "LINK", Some("INC0010001")).unwrap();
        assert_eq!(link.as_str(), "link");
    }

    #[test]
    fn mode_errors_say_what_to_do() {
        let err = TicketMode::parse(Vendor::Jira, "child", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ticket mode \"child\" is not supported; use standalone, subtask or link"
        );
        let err = TicketMode::parse(Vendor::ServiceNow, "subtask", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ticket mode subtask needs the key of the parent ticket, such as INC0010001"
        );
        let err = TicketMode::parse(Vendor::Jira, "standalone", Some("SEC-1")).unwrap_err();
        assert!(err.to_string().contains("choose mode subtask or link"));
        assert!(TicketMode::parse(Vendor::Jira, "link", Some("INC0010001")).is_err());
    }

    #[test]
    fn selections_are_non_empty_capped_and_unique() {
        assert_eq!(FindingSelection::new(vec![]), Err(DomainError::EmptyBulk));
        let full: Vec<FindingId> = (0..BULK_LIMIT).map(|_| FindingId::new()).collect();
        assert_eq!(
            FindingSelection::new(full.clone()).unwrap().ids(),
            &full[..]
        );
        let mut over = full.clone();
        over.push(FindingId::new());
        assert_eq!(
            FindingSelection::new(over),
            Err(DomainError::BulkTooLarge {
                count: 501,
                limit: 500
            })
        );
        let dup = full[3];
        let err = FindingSelection::new(vec![full[0], dup, full[1], dup]).unwrap_err();
        assert_eq!(err, DomainError::DuplicateFinding { id: dup });
        assert!(err.to_string().contains(&dup.to_string()));
    }

    #[test]
    fn requests_check_the_mode_against_the_target() {
        let one = || FindingSelection::new(vec![FindingId::new()]).unwrap();
        let sec = TicketTarget::parse(Vendor::Jira, "SEC").unwrap();
        let parent = TicketMode::parse(Vendor::Jira, "subtask", Some("SEC-3")).unwrap();
        let request = TicketRequest::new(sec.clone(), parent, one()).unwrap();
        assert_eq!(request.mode().as_str(), "subtask");
        assert_eq!(request.target(), &sec);
        assert_eq!(request.findings().ids().len(), 1);

        let elsewhere = TicketMode::parse(Vendor::Jira, "subtask", Some("OPS-3")).unwrap();
        let err = TicketRequest::new(sec.clone(), elsewhere, one()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Jira keeps a subtask in its parent's project")
        );
        // A link may cross projects.
        let link = TicketMode::parse(Vendor::Jira, "link", Some("OPS-3")).unwrap();
        assert!(TicketRequest::new(sec, link, one()).is_ok());

        let incident = TicketTarget::parse(Vendor::ServiceNow, "incident").unwrap();
        let jira_parent = TicketMode::parse(Vendor::Jira, "subtask", Some("SEC-3")).unwrap();
        let err = TicketRequest::new(incident, jira_parent, one()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ticket key SEC-3 (jira) cannot be used with a servicenow ticket"
        );
    }
}
