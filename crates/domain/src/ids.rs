//! Typed identifiers. Each wraps a UUID (v7 for new ids, so they sort by creation time) and can only
//! be mixed up with another kind of id by an explicit conversion.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An id string that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be a UUID such as 0190a0c2-7e4b-7cc1-9f2e-3c1d2b4a5e6f, got {value:?}")]
pub struct ParseIdError {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
            /// Parses the id from user input, naming the kind of id in the error.
            pub fn parse(s: &str) -> Result<Self, ParseIdError> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| ParseIdError {
                    kind: $label,
                    value: crate::text::excerpt(s, crate::text::ECHO_CHARS),
                })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

typed_id!(
    /// A customer organisation; every customer row is scoped by it.
    TenantId, "tenant id"
);
typed_id!(
    /// A security finding imported from a scanner.
    FindingId, "finding id"
);
typed_id!(
    /// A configured connection to one ITSM instance.
    IntegrationId, "integration id"
);
typed_id!(
    /// A link between a finding and an external ticket.
    TicketLinkId, "ticket link id"
);
typed_id!(
    /// A mapping rule of an integration.
    MappingRuleId, "mapping rule id"
);
typed_id!(
    /// A named set of ticket field defaults.
    PresetId, "preset id"
);
typed_id!(
    /// An API bearer token.
    ApiTokenId, "api token id"
);
typed_id!(
    /// One row of a finding's activity feed.
    ActivityId, "activity id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_and_names_the_kind_on_error() {
        let id = FindingId::new();
        assert_eq!(FindingId::parse(&id.to_string()).unwrap(), id);
        let err = TenantId::parse("not-a-uuid").unwrap_err();
        assert_eq!(err.kind, "tenant id");
        assert!(err.to_string().contains("tenant id must be a UUID"));
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let a = IntegrationId::new();
        let b = IntegrationId::new();
        assert!(a < b);
    }
}
