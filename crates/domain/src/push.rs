//! The outbound decision: whether a finding change is pushed to a linked ticket, and what is
//! pushed. Pure; `ticket-writer` does the IO around it.
//!
//! 1. Changes the vendor caused are never echoed back to it.
//! 2. A change is pushed only while the finding still has the status it announces (an older
//!    event for a finding that moved on is dropped; the newer event does the push), so
//!    redelivered and reordered events cannot move a ticket backwards.
//! 3. Per link: the integration's outbound rule for the finding's status (none: nothing to do),
//!    unless the ticket is already in that state (a redelivery changes nothing).

use crate::finding::Finding;
use crate::rules::outbound::{OutboundPush, OutboundRules};
use crate::transition::VendorSnapshot;
use crate::vocab::FindingStatus;

/// Why nothing is pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoPush {
    /// The vendor caused the change: echo suppression.
    VendorOrigin,
    /// The finding no longer has the status the change announced.
    FindingMovedOn,
    /// No outbound rule for the finding's status on this kind of ticket.
    NoRule,
    /// The ticket is already in the state the rule asks for.
    AlreadyInTargetState,
}

/// Step 1 and 2: whether a change announcing `announced`, caused by the vendor or not, is still
/// worth pushing for a finding whose status is now `current`.
pub fn change_is_pushable(
    from_vendor: bool,
    announced: &str,
    current: FindingStatus,
) -> Result<(), NoPush> {
    if from_vendor {
        return Err(NoPush::VendorOrigin);
    }
    if current.as_str() != announced {
        return Err(NoPush::FindingMovedOn);
    }
    Ok(())
}

/// Step 3: what to push to one linked ticket, given the outbound rules of its kind (`None` when
/// the integration has none for it) and the last state Lockstep saw on the ticket.
pub fn push_for_link(
    finding: &Finding,
    rules: Option<&OutboundRules>,
    snapshot: Option<&VendorSnapshot>,
) -> Result<OutboundPush, NoPush> {
    let push = rules
        .and_then(|r| r.push_for(finding))
        .ok_or(NoPush::NoRule)?;
    if snapshot.is_some_and(|s| s.state == push.state.as_str()) {
        return Err(NoPush::AlreadyInTargetState);
    }
    Ok(push)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::outbound::OutboundRule;
    use crate::{FindingId, Label, ScannerKey, Severity, TenantId, VendorVersion};
    use time::macros::datetime;

    fn finding(status: FindingStatus) -> Finding {
        let at = datetime!(2026-01-01 00:00 UTC);
        Finding {
            id: FindingId::new(),
            tenant_id: TenantId::new(),
            scanner_key: ScannerKey::parse("K-1").unwrap(),
            title: "t".into(),
            description: "d".into(),
            severity: Severity::High,
            status,
            asset: None,
            cve: None,
            cwe: None,
            scanner: "nessus".into(),
            created_at: at,
            updated_at: at,
        }
    }

    fn rules() -> OutboundRules {
        OutboundRules::new(vec![OutboundRule {
            status: FindingStatus::Closed,
            state: Label::parse("6").unwrap(),
            close_code: None,
            close_notes: None,
        }])
        .unwrap()
    }

    fn snapshot(state: &str) -> VendorSnapshot {
        VendorSnapshot {
            version: VendorVersion::new(datetime!(2026-01-01 00:00 UTC), 1),
            state: state.into(),
        }
    }

    #[test]
    fn vendor_changes_are_never_echoed() {
        assert_eq!(
            change_is_pushable(true, "closed", FindingStatus::Closed),
            Err(NoPush::VendorOrigin)
        );
    }

    #[test]
    fn a_change_is_pushed_only_while_the_finding_still_has_its_status() {
        assert_eq!(
            change_is_pushable(false, "closed", FindingStatus::Open),
            Err(NoPush::FindingMovedOn)
        );
        assert_eq!(
            change_is_pushable(false, "closed", FindingStatus::Closed),
            Ok(())
        );
    }

    #[test]
    fn a_link_gets_the_rule_of_the_status_unless_already_there() {
        let f = finding(FindingStatus::Closed);
        let r = rules();
        let push = push_for_link(&f, Some(&r), Some(&snapshot("2"))).unwrap();
        assert_eq!(push.state.as_str(), "6");
        assert_eq!(
            push_for_link(&f, Some(&r), None).unwrap().state.as_str(),
            "6"
        );
        assert_eq!(
            push_for_link(&f, Some(&r), Some(&snapshot("6"))),
            Err(NoPush::AlreadyInTargetState)
        );
        assert_eq!(
            push_for_link(&finding(FindingStatus::Open), Some(&r), None),
            Err(NoPush::NoRule)
        );
        assert_eq!(push_for_link(&f, None, None), Err(NoPush::NoRule));
    }
}
