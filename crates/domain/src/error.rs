//! The one error type of the domain crate. Every message names the offending value and says what
//! would be accepted, because these errors travel unchanged to the API caller and the CLI user.

use crate::ids::{FindingId, ParseIdError};
use crate::vocab::{ParseVocabError, Vendor};

/// Why a value, rule set or request was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error(transparent)]
    Id(#[from] ParseIdError),

    #[error(transparent)]
    Vocab(#[from] ParseVocabError),

    /// A single value does not have the shape its field needs.
    #[error("{field} must be {expected}, got {value:?}")]
    InvalidValue {
        field: &'static str,
        value: String,
        expected: String,
    },

    #[error("ticket mode {value:?} is not supported; use standalone, subtask or link")]
    UnknownTicketMode { value: String },

    #[error("ticket mode {mode} needs the key of the {role} ticket, such as {example}")]
    MissingRelatedTicket {
        mode: &'static str,
        role: &'static str,
        example: &'static str,
    },

    #[error(
        "ticket mode standalone takes no related ticket, got {key}; choose mode subtask or link, \
         or drop the key"
    )]
    UnexpectedRelatedTicket { key: String },

    #[error(
        "subtask parent {parent} is in Jira project {parent_project} but the ticket goes to \
         project {project}; Jira keeps a subtask in its parent's project"
    )]
    SubtaskProjectMismatch {
        parent: String,
        parent_project: String,
        project: String,
    },

    #[error("a ticket request needs at least one finding")]
    EmptyBulk,

    #[error(
        "a bulk request takes at most {limit} findings, got {count}; split it into requests of \
         {limit} or fewer"
    )]
    BulkTooLarge { count: usize, limit: usize },

    #[error("finding {id} is listed more than once; list each finding once")]
    DuplicateFinding { id: FindingId },

    /// Rules, keys or fields of one vendor were used with a ticket of another.
    #[error("{what} ({expected}) cannot be used with a {found} ticket")]
    VendorMismatch {
        what: String,
        expected: Vendor,
        found: Vendor,
    },

    #[error("{field} does not apply to {target} tickets; {hint}")]
    FieldNotApplicable {
        field: &'static str,
        target: String,
        hint: &'static str,
    },

    #[error("{rules} has more than one rule for {matcher}; keep one")]
    DuplicateRule {
        rules: &'static str,
        matcher: String,
    },

    #[error("template {template:?} {problem}")]
    InvalidTemplate { template: String, problem: String },
}

impl DomainError {
    pub(crate) fn invalid(
        field: &'static str,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        DomainError::InvalidValue {
            field,
            value: crate::text::excerpt(&value.into(), crate::text::ECHO_CHARS),
            expected: expected.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_fix() {
        let err = DomainError::BulkTooLarge {
            count: 731,
            limit: 500,
        };
        assert_eq!(
            err.to_string(),
            "a bulk request takes at most 500 findings, got 731; split it into requests of 500 or fewer"
        );
        let err = DomainError::invalid("impact", "4", "1 (High), 2 (Medium) or 3 (Low)");
        assert_eq!(
            err.to_string(),
            "impact must be 1 (High), 2 (Medium) or 3 (Low), got \"4\""
        );
    }

    #[test]
    fn parse_errors_of_ids_and_vocabularies_convert() {
        let err: DomainError = "urgent".parse::<crate::Severity>().unwrap_err().into();
        assert!(err.to_string().contains("not a valid severity"));
    }
}
