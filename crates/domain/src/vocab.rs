//! The small closed vocabularies of the product: severities, finding statuses, vendors and sync
//! channels. Each has one canonical lowercase spelling used in the database, the API and config.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A word that is not one of a vocabulary's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {kind}; expected one of: {expected}")]
pub struct ParseVocabError {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseVocabError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase();
                match wanted.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseVocabError {
                        kind: $kind,
                        value: crate::text::excerpt(s, crate::text::ECHO_CHARS),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }
    };
}

/// Lets other modules declare their own closed vocabularies (for example ServiceNow tables).
pub(crate) use vocabulary;

vocabulary!(
    /// How bad a finding is. Ordered from worst to mildest.
    Severity, "severity", {
        Critical => "critical",
        High => "high",
        Medium => "medium",
        Low => "low",
        Info => "info",
    }
);

vocabulary!(
    /// Where a finding stands on our side.
    FindingStatus, "finding status", {
        Open => "open",
        InProgress => "in_progress",
        ReTest => "re_test",
        Closed => "closed",
        RiskAccepted => "risk_accepted",
        FalsePositive => "false_positive",
    }
);

vocabulary!(
    /// The ITSM products Lockstep talks to.
    Vendor, "vendor", {
        ServiceNow => "servicenow",
        Jira => "jira",
        ManageEngine => "manageengine",
    }
);

vocabulary!(
    /// How a change reached us, recorded on every activity row and link. `resync`: a person asked
    /// for one ticket to be read from the vendor now (`SyncService.ResyncTicket`).
    SyncChannel, "sync channel", {
        Webhook => "webhook",
        Poll => "poll",
        Manual => "manual",
        Api => "api",
        Resync => "resync",
    }
);

impl SyncChannel {
    /// Whether the change is Lockstep's own read of the vendor's current record (a poll, or a
    /// re-sync of one ticket), as opposed to something pushed to us or written by us.
    pub const fn reads_vendor_record(&self) -> bool {
        matches!(self, SyncChannel::Poll | SyncChannel::Resync)
    }
}

impl FindingStatus {
    /// Statuses in which the work on a finding is over.
    pub const fn is_terminal(&self) -> bool {
        matches!(
            self,
            FindingStatus::Closed | FindingStatus::RiskAccepted | FindingStatus::FalsePositive
        )
    }

    /// Statuses that record a judgement about the finding itself rather than the state of the work:
    /// the risk was accepted, or there was nothing to fix. Only an explicit verdict replaces one.
    pub const fn is_verdict(&self) -> bool {
        matches!(
            self,
            FindingStatus::RiskAccepted | FindingStatus::FalsePositive
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_text() {
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), *s);
        }
        for s in FindingStatus::ALL {
            assert_eq!(s.as_str().parse::<FindingStatus>().unwrap(), *s);
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        for v in Vendor::ALL {
            assert_eq!(v.as_str().parse::<Vendor>().unwrap(), *v);
        }
    }

    #[test]
    fn parsing_is_case_insensitive_and_errors_list_the_choices() {
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        let err = "urgent".parse::<Severity>().unwrap_err();
        assert!(err.to_string().contains("critical high medium low info"));
    }
}
