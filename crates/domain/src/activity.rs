//! What a finding's activity feed records: the closed list of kinds of row, one spelling each in
//! the database (`activity.kind`, a lowercase slug the schema also checks), the API and the CLI.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::vocab::{ParseVocabError, vocabulary};

vocabulary!(
    /// The kind of an activity row:
    /// - `status_changed`: the finding's status changed (an analyst, or a vendor observation);
    /// - `ticket_state_changed`: the ticket's vendor state changed, the finding's status did not;
    /// - `ticket_created`, `ticket_updated`, `ticket_update_failed`: ticket-writer created the
    ///   finding's ticket, pushed a finding change to it, or could not;
    /// - `vendor_version_refused`: an observation whose vendor version lies in the future was
    ///   refused; `vendor_version_repaired`: a poll replaced such a version that the link held;
    ///   `vendor_version_reset`: an admin reset the link's version (see `transition`).
    ActivityKind, "activity kind", {
        StatusChanged => "status_changed",
        TicketStateChanged => "ticket_state_changed",
        TicketCreated => "ticket_created",
        TicketUpdated => "ticket_updated",
        TicketUpdateFailed => "ticket_update_failed",
        VendorVersionRefused => "vendor_version_refused",
        VendorVersionRepaired => "vendor_version_repaired",
        VendorVersionReset => "vendor_version_reset",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_a_slug_the_schema_accepts_and_round_trips() {
        for kind in ActivityKind::ALL {
            let text = kind.as_str();
            assert!(text.len() <= 64 && text.starts_with(|c: char| c.is_ascii_lowercase()));
            assert!(text.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert_eq!(text.parse::<ActivityKind>().unwrap(), *kind);
        }
        assert!("sync_ignored".parse::<ActivityKind>().is_err());
    }
}
