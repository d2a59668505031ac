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
        max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
    }
}

fn jira_policy() -> TransitionPolicy {
    TransitionPolicy {
        auto_close_on_resolve: false,
        inbound: InboundRules::default_for(TicketKind::JiraIssue),
        max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
    }
}

/// The receiver's clock in these tests: an hour after the fixtures' base instant.
const NOW: OffsetDateTime = datetime!(2026-01-05 13:00 UTC);

fn arrival(channel: SyncChannel) -> Arrival {
    Arrival { now: NOW, channel }
}

/// Applies `obs` as a webhook delivery received at [`NOW`].
fn delivered(link: &LinkState, obs: &TicketObservation, policy: &TransitionPolicy) -> Transition {
    apply(link, obs, policy, arrival(SyncChannel::Webhook))
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
    observations.iter().fold(start, |link, obs| {
        link.after(&delivered(&link, obs, policy))
    })
}

#[test]
fn a_resolved_ticket_sends_the_finding_to_re_test_unless_auto_close_is_on() {
    let obs = incident("6", 0);
    let transition = delivered(&link(Open), &obs, &servicenow(false));
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
    let transition = delivered(&link(InProgress), &obs, &servicenow(true));
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
        let transition = delivered(&stored, &obs, &policy);
        assert_eq!(transition.outcome, Outcome::Stale);
        assert_eq!(transition.record, None);
        assert_eq!(stored.after(&transition), stored);
    }
    let mut same_second = incident("6", 10);
    same_second.version = VendorVersion::new(same_second.version.updated_at(), 1);
    assert_eq!(
        delivered(&stored, &same_second, &policy).outcome,
        Outcome::Changed {
            from: InProgress,
            to: ReTest
        }
    );
}

#[test]
fn our_own_resolve_coming_back_does_not_reopen_verification() {
    let transition = delivered(&link(Closed), &incident("6", 0), &servicenow(false));
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
        let transition = delivered(&link(local), &incident("2", 0), &servicenow(false));
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
        let transition = delivered(&link(RiskAccepted), &obs, &policy);
        assert_eq!(transition.new_status(), None);
        assert!(transition.reason.contains("finding stays risk_accepted"));
    }
    let transition = delivered(
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
    let transition = delivered(&working, &incident("8", 5), &policy);
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
    let transition = delivered(&start, &obs, &policy);
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
    let transition = delivered(&start, &incident("2", 10), &policy);
    assert_eq!(transition.outcome, Outcome::VendorStateOnly);
    assert!(transition.record.is_some());
    assert!(
        transition.reason.contains("so that status stands"),
        "{}",
        transition.reason
    );
    let later = delivered(&start.after(&transition), &incident("2", 31), &policy);
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
    let transition = delivered(&start, &incident("2", 60), &policy);
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

/// An observation `minutes` after [`NOW`].
fn from_the_future(state: &str, minutes: i64) -> TicketObservation {
    incident(state, 3600 + minutes * 60)
}

#[test]
fn a_version_beyond_the_clock_skew_is_refused_and_changes_nothing() {
    let policy = servicenow(false);
    let start = run(link(Open), &[incident("2", 0)], &policy);
    for channel in [SyncChannel::Webhook, SyncChannel::Poll, SyncChannel::Resync] {
        let far = apply(
            &start,
            &from_the_future("6", 60 * 24 * 365),
            &policy,
            arrival(channel),
        );
        assert_eq!(far.outcome, Outcome::FutureVersion);
        assert_eq!((far.record.clone(), far.replaces), (None, None));
        assert_eq!(start.after(&far), start);
        assert!(far.reason.contains("lies in the future"), "{}", far.reason);
    }
    // Within the skew (a vendor clock a few minutes fast) the observation applies as usual.
    let near = delivered(&start, &from_the_future("6", 4), &policy);
    assert_eq!(
        near.outcome,
        Outcome::Changed {
            from: InProgress,
            to: ReTest
        }
    );
    let just_over = delivered(&start, &from_the_future("6", 6), &policy);
    assert_eq!(just_over.outcome, Outcome::FutureVersion);
}

/// A link that holds a version from 2099 (stored before the rule, or by a wrong clock).
fn frozen(policy: &TransitionPolicy) -> LinkState {
    let start = run(link(Open), &[incident("2", 0)], policy);
    LinkState {
        vendor: Some(VendorSnapshot {
            version: VendorVersion::new(datetime!(2099-01-01 00:00 UTC), 0),
            state: "2".to_owned(),
        }),
        ..start
    }
}

#[test]
fn a_poll_repairs_a_link_whose_version_lies_in_the_future_and_a_webhook_does_not() {
    let policy = servicenow(false);
    let frozen = frozen(&policy);
    let resolved = incident("6", 1800);
    let webhook = delivered(&frozen, &resolved, &policy);
    assert_eq!(webhook.outcome, Outcome::Stale);

    let poll = apply(&frozen, &resolved, &policy, arrival(SyncChannel::Poll));
    assert_eq!(
        poll.outcome,
        Outcome::Changed {
            from: InProgress,
            to: ReTest
        }
    );
    // A re-sync of the ticket reads the vendor's record too, and repairs alike.
    let resync = apply(&frozen, &resolved, &policy, arrival(SyncChannel::Resync));
    assert_eq!(
        (resync.outcome, resync.replaces),
        (poll.outcome, poll.replaces)
    );
    assert_eq!(poll.replaces, frozen.vendor.as_ref().map(|v| v.version));
    assert!(poll.reason.contains("from the future"), "{}", poll.reason);
    let repaired = frozen.after(&poll);
    assert_eq!(repaired.vendor.as_ref().unwrap().version, resolved.version);

    // Once repaired the link orders observations as usual again, whatever the channel.
    let again = apply(&repaired, &resolved, &policy, arrival(SyncChannel::Poll));
    assert_eq!((again.outcome, again.replaces), (Outcome::Stale, None));
    let reopened = delivered(&repaired, &incident("2", 1900), &policy);
    assert_eq!(reopened.new_status(), Some(InProgress));
}

#[test]
fn a_poll_in_a_state_no_rule_covers_leaves_a_frozen_link_alone() {
    let policy = servicenow(false);
    let frozen = frozen(&policy);
    let poll = apply(
        &frozen,
        &incident("42", 1800),
        &policy,
        arrival(SyncChannel::Poll),
    );
    assert_eq!((poll.outcome, poll.replaces), (Outcome::NoRule, None));
    assert_eq!(frozen.after(&poll), frozen);
}
