//! ServiceNow's own scales: impact, urgency and priority, the incident priority matrix, and the
//! tables Lockstep writes to. Wire values are the strings ServiceNow's Table API uses ("1", "2", …);
//! in our JSON config they are plain numbers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::vocab::{ParseVocabError, vocabulary};

macro_rules! scale {
    ($(#[$doc:meta])* $name:ident, $field:literal, $expected:literal,
     { $($variant:ident = $value:literal => $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "u8", into = "u8")]
        pub enum $name {
            $($variant = $value),+
        }

        impl $name {
            /// Every value, most severe first.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The number ServiceNow stores (1 is the most severe).
            pub const fn value(self) -> u8 {
                self as u8
            }

            /// ServiceNow's English label, such as "High".
            pub const fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            /// The Table API's wire value, such as "1".
            pub const fn wire(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($value)),+
                }
            }

            /// Parses the Table API's wire value ("1"), ignoring surrounding whitespace.
            pub fn parse(value: &str) -> Result<Self, DomainError> {
                value
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .and_then(|n| Self::try_from(n).ok())
                    .ok_or_else(|| DomainError::invalid($field, value, $expected))
            }
        }

        impl TryFrom<u8> for $name {
            type Error = DomainError;
            fn try_from(value: u8) -> Result<Self, Self::Error> {
                match value {
                    $($value => Ok($name::$variant),)+
                    _ => Err(DomainError::invalid($field, value.to_string(), $expected)),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(value: $name) -> u8 {
                value.value()
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        /// ServiceNow's display form, such as "2 - Medium".
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} - {}", self.value(), self.label())
            }
        }
    };
}

scale!(
    /// How widely an incident hurts the business.
    Impact, "impact", "1 (High), 2 (Medium) or 3 (Low)", {
        High = 1 => "High",
        Medium = 2 => "Medium",
        Low = 3 => "Low",
    }
);

scale!(
    /// How soon an incident must be dealt with.
    Urgency, "urgency", "1 (High), 2 (Medium) or 3 (Low)", {
        High = 1 => "High",
        Medium = 2 => "Medium",
        Low = 3 => "Low",
    }
);

scale!(
    /// An incident's priority. ServiceNow computes it from impact and urgency and treats it as read
    /// only, so Lockstep sends impact and urgency and only *predicts* priority for previews.
    Priority, "priority", "1 (Critical), 2 (High), 3 (Moderate), 4 (Low) or 5 (Planning)", {
        Critical = 1 => "Critical",
        High = 2 => "High",
        Moderate = 3 => "Moderate",
        Low = 4 => "Low",
        Planning = 5 => "Planning",
    }
);

impl Priority {
    /// The base incident priority lookup (`dl_u_priority`), as documented by ServiceNow:
    ///
    /// | impact \ urgency | 1 High | 2 Medium | 3 Low |
    /// |---|---|---|---|
    /// | 1 High   | 1 Critical | 2 High     | 3 Moderate |
    /// | 2 Medium | 2 High     | 3 Moderate | 4 Low      |
    /// | 3 Low    | 3 Moderate | 4 Low      | 5 Planning |
    ///
    /// Instances may customise the lookup, so this is a prediction, not the ticket's truth. It does
    /// not apply to change requests (their priority is computed differently).
    pub const fn for_incident(impact: Impact, urgency: Urgency) -> Priority {
        match (impact, urgency) {
            (Impact::High, Urgency::High) => Priority::Critical,
            (Impact::High, Urgency::Medium) | (Impact::Medium, Urgency::High) => Priority::High,
            (Impact::High, Urgency::Low)
            | (Impact::Medium, Urgency::Medium)
            | (Impact::Low, Urgency::High) => Priority::Moderate,
            (Impact::Medium, Urgency::Low) | (Impact::Low, Urgency::Medium) => Priority::Low,
            (Impact::Low, Urgency::Low) => Priority::Planning,
        }
    }
}

vocabulary!(
    /// The ServiceNow tables Lockstep creates tickets in.
    ServiceNowTable, "ServiceNow table", {
        Incident => "incident",
        ChangeRequest => "change_request",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_incident_matrix_matches_the_documented_table() {
        let expected = [
            (1, 1, 1),
            (1, 2, 2),
            (2, 1, 2),
            (1, 3, 3),
            (2, 2, 3),
            (3, 1, 3),
            (2, 3, 4),
            (3, 2, 4),
            (3, 3, 5),
        ];
        for (impact, urgency, priority) in expected {
            let impact = Impact::try_from(impact).unwrap();
            let urgency = Urgency::try_from(urgency).unwrap();
            assert_eq!(
                Priority::for_incident(impact, urgency).value(),
                priority,
                "{impact} × {urgency}"
            );
        }
    }

    #[test]
    fn wire_values_parse_and_bad_ones_say_what_is_allowed() {
        assert_eq!(Impact::parse(" 2").unwrap(), Impact::Medium);
        assert_eq!(Urgency::parse("3").unwrap().wire(), "3");
        assert_eq!(Priority::parse("5").unwrap(), Priority::Planning);
        let err = Urgency::parse("0").unwrap_err().to_string();
        assert_eq!(
            err,
            "urgency must be 1 (High), 2 (Medium) or 3 (Low), got \"0\""
        );
        assert!(Impact::parse("High").is_err());
        assert!(Priority::parse("6").is_err());
    }

    #[test]
    fn config_json_uses_numbers() {
        assert_eq!(serde_json::to_string(&Impact::High).unwrap(), "1");
        assert_eq!(
            serde_json::from_str::<Urgency>("2").unwrap(),
            Urgency::Medium
        );
        assert!(serde_json::from_str::<Urgency>("4").is_err());
        assert_eq!(Priority::Moderate.to_string(), "3 - Moderate");
    }

    #[test]
    fn tables_parse_case_insensitively() {
        assert_eq!(
            "Change_Request".parse::<ServiceNowTable>().unwrap(),
            ServiceNowTable::ChangeRequest
        );
        assert!("problem".parse::<ServiceNowTable>().is_err());
    }
}
