use time::Duration;
use time::macros::datetime;

use super::*;
use crate::observation::fixtures::incident;
use crate::ticket::{TicketKind, TicketRef};
use crate::vocab::Vendor;

use FindingStatus::{Closed, FalsePositive, InProgress, Open, ReTest, RiskAccepted};

fn servicenow(auto_close: bool) -> TransitionPolicy {
    TransitionPolicy {
        auto_close_on_resolve: auto_close,
        inbound: InboundRules::default_for(TicketKind::ServiceNowIncident),
    }
}

fn jira_policy() -> TransitionPolicy {
    TransitionPolicy {
        auto_close_on_resolve: false,
        inbound: InboundRules::default_for(TicketKind::JiraIssue),
    }
}

/// A Jira observation `seconds` after the incident fixtures' base instant.
fn jira(category: &str, resolution: Option<&str>, seconds: i64) -> TicketObservation {
    let mut obs = incident("10001", seconds);
    obs.ticket = TicketRef::parse(Vendor::Jira, "SEC", "10005", "SEC-1").unwrap();
    obs.vendor_state_category = Some(category.to_owned());
    obs.resolution = resolution.map(str::to_owned);
    obs
}

/// A link whose local status was set an hour before the observations, with no vendor version.
fn link(local: FindingStatus) -> LinkState {
    LinkState::new(
        LocalStatus {
            status: local,
            set_at: datetime!(2026-01-05 11:00 UTC),
        },
        None,
    )
}

/// Applies the observations in order, storing each transition.
fn run(
    start: LinkState,
    observations: &[TicketObservation],
    policy: &TransitionPolicy,
) -> LinkState {
    observations
        .iter()
        .fold(start, |link, obs| link.after(&apply(&link, obs, policy)))
}

#[test]
fn a_resolved_ticket_sends_the_finding_to_re_test_unless_auto_close_is_on() {
    let obs = incident("6", 0);
    let transition = apply(&link(Open), &obs, &servicenow(false));
    assert_eq!(
        transition.outcome,
        Outcome::Changed {
            from: Open,
            to: ReTest
        }
    );
    assert_eq!(transition.new_version(), Some(obs.version));
    assert_eq!(
        transition.reason,
        "INC0010001 is in state 6: state code \"6\" means done; finding open → re_test \
         (auto-close on resolve is off, so an analyst verifies the fix first)"
    );
    let transition = apply(&link(InProgress), &obs, &servicenow(true));
    assert_eq!(
        transition.outcome,
        Outcome::Changed {
            from: InProgress,
            to: Closed
        }
    );
}

#[test]
fn observations_not_newer_than_the_stored_version_are_stale() {
    let policy = servicenow(false);
    let stored = run(link(Open), &[incident("2", 10)], &policy);
    for obs in [incident("6", 10), incident("6", 5)] {
        let transition = apply(&stored, &obs, &policy);
        assert_eq!(transition.outcome, Outcome::Stale);
        assert_eq!(transition.record, None);
        assert_eq!(stored.after(&transition), stored);
    }
    let mut same_second = incident("6", 10);
    same_second.version = VendorVersion::new(same_second.version.updated_at(), 1);
    assert_eq!(
        apply(&stored, &same_second, &policy).outcome,
        Outcome::Changed {
            from: InProgress,
            to: ReTest
        }
    );
}

#[test]
fn our_own_resolve_coming_back_does_not_reopen_verification() {
    let transition = apply(&link(Closed), &incident("6", 0), &servicenow(false));
    assert_eq!(transition.outcome, Outcome::VendorStateOnly);
    assert!(
        transition
            .reason
            .contains("Lockstep had already closed the finding")
    );
}

#[test]
fn a_vendor_reopen_reopens_re_test_and_closed_findings() {
    for local in [ReTest, Closed] {
        let transition = apply(&link(local), &incident("2", 0), &servicenow(false));
        assert_eq!(
            transition.outcome,
            Outcome::Changed {
                from: local,
                to: InProgress
            }
        );
    }
}

#[test]
fn an_analyst_verdict_survives_reopen_and_resolve_but_not_an_explicit_verdict() {
    let policy = jira_policy();
    for obs in [
        jira("indeterminate", None, 0),
        jira("done", Some("Done"), 0),
    ] {
        let transition = apply(&link(RiskAccepted), &obs, &policy);
        assert_eq!(transition.new_status(), None);
        assert!(transition.reason.contains("finding stays risk_accepted"));
    }
    let transition = apply(
        &link(FalsePositive),
        &jira("done", Some("Won't Fix"), 0),
        &policy,
    );
    assert_eq!(
        transition.outcome,
        Outcome::Changed {
            from: FalsePositive,
            to: RiskAccepted
        }
    );
}

#[test]
fn a_vendor_verdict_is_undone_by_a_vendor_reopen() {
    let policy = jira_policy();
    let accepted = run(link(Open), &[jira("done", Some("Won't Do"), 0)], &policy);
    assert_eq!(accepted.status, RiskAccepted);
    let reopened = run(accepted, &[jira("new", Some("Won't Do"), 5)], &policy);
    assert_eq!(reopened.status, Open);
}

#[test]
fn a_neutral_state_shows_the_local_status_again() {
    let policy = servicenow(false);
    let working = run(link(Open), &[incident("2", 0)], &policy);
    assert_eq!(working.status, InProgress);
    let transition = apply(&working, &incident("8", 5), &policy);
    assert_eq!(
        transition.outcome,
        Outcome::Changed {
            from: InProgress,
            to: Open
        }
    );
    let mut duplicate = incident("6", 10);
    duplicate.resolution = Some("Duplicate".to_owned());
    let closed_as_duplicate = run(working, &[duplicate], &policy);
    assert_eq!(closed_as_duplicate.status, Open);
}

#[test]
fn unknown_states_leave_the_link_untouched() {
    let policy = servicenow(false);
    let start = run(link(Open), &[incident("2", 0)], &policy);
    let mut obs = incident("42", 5);
    obs.vendor_state_label = Some("Awaiting Parts".to_owned());
    let transition = apply(&start, &obs, &policy);
    assert_eq!(transition.outcome, Outcome::NoRule);
    assert_eq!(start.after(&transition), start);
    assert!(
        transition.reason.starts_with(
            "INC0010001 is in state 42 (Awaiting Parts), which no inbound rule covers"
        )
    );
}

#[test]
fn a_ticket_change_older_than_lockstep_own_decision_does_not_overrule_it() {
    let policy = servicenow(false);
    let decided_at = datetime!(2026-01-05 12:00:30 UTC);
    let start = LinkState::new(
        LocalStatus {
            status: Closed,
            set_at: decided_at,
        },
        None,
    );
    let transition = apply(&start, &incident("2", 10), &policy);
    assert_eq!(transition.outcome, Outcome::VendorStateOnly);
    assert!(transition.record.is_some());
    assert!(
        transition.reason.contains("so that status stands"),
        "{}",
        transition.reason
    );
    let later = apply(&start.after(&transition), &incident("2", 31), &policy);
    assert_eq!(
        later.outcome,
        Outcome::Changed {
            from: Closed,
            to: InProgress
        }
    );
}

#[test]
fn a_newer_version_in_the_same_state_is_recorded_as_unchanged() {
    let policy = servicenow(false);
    let start = run(link(Open), &[incident("2", 0)], &policy);
    let transition = apply(&start, &incident("2", 60), &policy);
    assert_eq!(transition.outcome, Outcome::Unchanged);
    assert_eq!(
        start
            .after(&transition)
            .vendor
            .unwrap()
            .version
            .updated_at(),
        datetime!(2026-01-05 12:00 UTC) + Duration::minutes(1)
    );
}

#[test]
fn outcomes_serialise_for_events() {
    let changed = Outcome::Changed {
        from: Open,
        to: ReTest,
    };
    let json = serde_json::to_value(changed).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"outcome": "changed", "from": "open", "to": "re_test"})
    );
    assert_eq!(
        serde_json::to_value(Outcome::Stale).unwrap()["outcome"],
        "stale"
    );
}
