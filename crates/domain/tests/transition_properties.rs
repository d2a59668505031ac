//! Properties of `apply` that the sync applier relies on, checked through the public API only:
//! redelivery is harmless, delivery order does not matter, stale observations do nothing,
//! versions from the future are refused, and only a poll repairs a link that holds one.

use lockstep_domain::{
    Arrival, DEFAULT_MAX_CLOCK_SKEW, FindingStatus, InboundEffect, InboundRules, LinkState,
    LocalStatus, Outcome, ResolutionRule, StateMatch, StateRule, SyncChannel, TicketKind,
    TicketObservation, TicketRef, Transition, TransitionPolicy, Vendor, VendorSnapshot,
    VendorVersion,
};
use lockstep_domain::{Label, ObservedFields};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const BASE: OffsetDateTime = datetime!(2026-01-05 12:00 UTC);
/// The receiver's clock: after every generated observation (they span two minutes from BASE).
const NOW: OffsetDateTime = datetime!(2026-01-05 12:10 UTC);
/// Stored versions at or past this lie in the future (beyond the skew).
const FUTURE_SECS: i64 = 10 * 60 + 5 * 60 + 1;

/// A webhook delivery or a poll reading, received at NOW. Each test draws one channel for all its
/// observations; the properties hold on either.
fn arb_arrival() -> impl Strategy<Value = Arrival> {
    prop::sample::select(vec![SyncChannel::Webhook, SyncChannel::Poll])
        .prop_map(|channel| Arrival { now: NOW, channel })
}

/// The transition under test: `lockstep_domain::apply` with the arrival drawn for the case.
fn apply(
    link: &LinkState,
    obs: &TicketObservation,
    policy: &TransitionPolicy,
    arrival: Arrival,
) -> Transition {
    lockstep_domain::apply(link, obs, policy, arrival)
}

fn version(offset_secs: i64, sequence: i64) -> VendorVersion {
    VendorVersion::new(BASE + Duration::seconds(offset_secs), sequence)
}

/// Rules exercising every matcher kind and every effect, next to a shipped default set.
fn mixed_rules() -> InboundRules {
    let label = |s: &str| Label::parse(s).unwrap();
    let effect = |s: &str| s.parse::<InboundEffect>().unwrap();
    let states = [
        (StateMatch::Code(label("1")), "open"),
        (StateMatch::Code(label("3")), "re_test"),
        (StateMatch::Code(label("6")), "done"),
        (StateMatch::Code(label("7")), "closed"),
        (StateMatch::Name(label("On Hold")), "in_progress"),
        (StateMatch::Name(label("Waiting")), "neutral"),
        (StateMatch::Category(label("new")), "open"),
        (StateMatch::Category(label("indeterminate")), "in_progress"),
        (StateMatch::Category(label("done")), "done"),
    ];
    let resolutions = [
        ("Duplicate", "neutral"),
        ("Won't Fix", "risk_accepted"),
        ("Not a Bug", "false_positive"),
    ];
    InboundRules::new(
        states
            .into_iter()
            .map(|(when, e)| StateRule {
                when,
                effect: effect(e),
            })
            .collect(),
        resolutions
            .into_iter()
            .map(|(r, e)| ResolutionRule {
                resolution: label(r),
                effect: effect(e),
            })
            .collect(),
    )
    .unwrap()
}

fn arb_policy() -> impl Strategy<Value = TransitionPolicy> {
    let rules = prop_oneof![
        Just(InboundRules::default_for(TicketKind::ServiceNowIncident)),
        Just(mixed_rules()),
    ];
    (any::<bool>(), rules).prop_map(|(auto_close_on_resolve, inbound)| TransitionPolicy {
        auto_close_on_resolve,
        inbound,
        max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
    })
}

fn arb_status() -> impl Strategy<Value = FindingStatus> {
    prop::sample::select(FindingStatus::ALL.to_vec())
}

/// Everything of an observation but its version; "42" and "Elsewhere" are states no rule knows.
fn arb_state() -> impl Strategy<Value = (String, Option<String>, Option<String>, Option<String>)> {
    let owned = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>();
    (
        prop::sample::select(owned(&["1", "2", "3", "6", "7", "8", "42"])),
        prop::option::of(prop::sample::select(owned(&[
            "On Hold",
            "Waiting",
            "Elsewhere",
        ]))),
        prop::option::of(prop::sample::select(owned(&[
            "new",
            "indeterminate",
            "done",
        ]))),
        prop::option::of(prop::sample::select(owned(&[
            "Duplicate",
            "Won't Fix",
            "Not a Bug",
            "Done",
        ]))),
    )
}

fn observation(
    (state, label, category, resolution): (String, Option<String>, Option<String>, Option<String>),
    version: VendorVersion,
) -> TicketObservation {
    TicketObservation {
        ticket: TicketRef::parse(
            Vendor::ServiceNow,
            "incident",
            "9d385017c6112287",
            "INC0010001",
        )
        .unwrap(),
        vendor_state: state,
        vendor_state_label: label,
        vendor_state_category: category,
        resolution,
        version,
        actor: None,
        observed_at: version.updated_at(),
        fields: ObservedFields::default(),
    }
}

/// Observations with distinct versions spread over two minutes.
fn arb_observations() -> impl Strategy<Value = Vec<TicketObservation>> {
    prop::collection::btree_set((0i64..120, 0i64..3), 1..8).prop_flat_map(|versions| {
        let count = versions.len();
        prop::collection::vec(arb_state(), count).prop_map(move |states| {
            states
                .into_iter()
                .zip(&versions)
                .map(|(state, (secs, seq))| observation(state, version(*secs, *seq)))
                .collect()
        })
    })
}

/// A link whose local status was set somewhere around the observations (so Lockstep's own
/// decision is sometimes newer than the ticket's change), maybe with a stored version, which
/// sometimes lies in the future (a link frozen before versions from the future were refused).
fn arb_link() -> impl Strategy<Value = LinkState> {
    let stored_secs = prop_oneof![
        4 => 0i64..120,
        1 => FUTURE_SECS..FUTURE_SECS + 100 * 365 * 86_400,
    ];
    (
        arb_status(),
        arb_status(),
        -10i64..130,
        prop::option::of((
            stored_secs,
            0i64..3,
            prop::sample::select(vec!["1", "2", "6"]),
        )),
    )
        .prop_map(|(status, local, local_secs, stored)| LinkState {
            status,
            local: LocalStatus {
                status: local,
                set_at: BASE + Duration::seconds(local_secs),
            },
            vendor: stored.map(|(secs, seq, state)| VendorSnapshot {
                version: version(secs, seq),
                state: state.to_owned(),
            }),
        })
}

fn deliver(
    start: &LinkState,
    observations: &[TicketObservation],
    policy: &TransitionPolicy,
    arrival: Arrival,
) -> LinkState {
    observations.iter().fold(start.clone(), |link, obs| {
        link.after(&apply(&link, obs, policy, arrival))
    })
}

fn holds_future_version(link: &LinkState) -> bool {
    link.vendor
        .as_ref()
        .is_some_and(|v| v.version.lies_after(NOW + DEFAULT_MAX_CLOCK_SKEW))
}

proptest! {
    // Integration tests have no lib.rs for proptest to anchor its regression files on.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn applying_an_observation_twice_is_the_same_as_once(
        link in arb_link(),
        obs in arb_observations().prop_map(|mut v| v.remove(0)),
        policy in arb_policy(),
        arrival in arb_arrival(),
    ) {
        let once = link.after(&apply(&link, &obs, &policy, arrival));
        let again = apply(&once, &obs, &policy, arrival);
        prop_assert_eq!(again.new_status(), None);
        prop_assert!(matches!(again.outcome, Outcome::Stale | Outcome::NoRule), "{:?}", again.outcome);
        prop_assert_eq!(once.after(&again), once);
    }

    #[test]
    fn any_delivery_order_ends_where_the_newest_observation_leads(
        link in arb_link(),
        (observations, shuffled) in arb_observations()
            .prop_flat_map(|obs| (Just(obs.clone()), Just(obs).prop_shuffle())),
        policy in arb_policy(),
        arrival in arb_arrival(),
    ) {
        // Observations no rule covers leave no trace, so the newest one a rule covers decides.
        // That holds for a link frozen by a version from the future too: webhooks leave it as it
        // is, and whichever poll repairs it, the newest decides the end state.
        let newest = observations
            .iter()
            .filter(|obs| policy.inbound.evaluate(obs).is_some())
            .max_by_key(|obs| obs.version);
        let expected = match newest {
            Some(newest) => link.after(&apply(&link, newest, &policy, arrival)),
            None => link.clone(),
        };
        prop_assert_eq!(deliver(&link, &shuffled, &policy, arrival), expected.clone());
        prop_assert_eq!(deliver(&link, &observations, &policy, arrival), expected);
    }

    #[test]
    fn a_stale_observation_never_changes_anything(
        link in arb_link(),
        state in arb_state(),
        (stored_secs, stored_seq, back_secs, back_seq) in (0i64..120, 0i64..3, 0i64..60, 0i64..3),
        policy in arb_policy(),
        arrival in arb_arrival(),
    ) {
        let stored = version(stored_secs, stored_seq);
        let link = LinkState {
            vendor: Some(VendorSnapshot { version: stored, state: "2".to_owned() }),
            ..link
        };
        // Earlier or equal: both components move back (or stay).
        let older = version(stored_secs - back_secs, stored_seq - back_seq);
        let transition = apply(&link, &observation(state, older), &policy, arrival);
        prop_assert_eq!(transition.outcome, Outcome::Stale);
        prop_assert!(transition.record.is_none());
        prop_assert_eq!(link.after(&transition), link);
    }

    #[test]
    fn a_version_from_the_future_never_changes_anything(
        link in arb_link(),
        state in arb_state(),
        (ahead_secs, seq) in (FUTURE_SECS..FUTURE_SECS + 100 * 365 * 86_400, 0i64..3),
        policy in arb_policy(),
        arrival in arb_arrival(),
    ) {
        let transition = apply(&link, &observation(state, version(ahead_secs, seq)), &policy, arrival);
        prop_assert_eq!(transition.outcome, Outcome::FutureVersion);
        prop_assert!(transition.record.is_none() && transition.replaces.is_none());
        prop_assert_eq!(link.after(&transition), link);
    }

    #[test]
    fn only_a_poll_repairs_a_link_that_holds_a_version_from_the_future(
        link in arb_link(),
        (future_secs, future_seq) in (FUTURE_SECS..FUTURE_SECS + 100 * 365 * 86_400, 0i64..3),
        obs in arb_observations().prop_map(|mut v| v.remove(0)),
        policy in arb_policy(),
        arrival in arb_arrival(),
    ) {
        let future = version(future_secs, future_seq);
        let link = LinkState {
            vendor: Some(VendorSnapshot { version: future, state: "2".to_owned() }),
            ..link
        };
        let transition = apply(&link, &obs, &policy, arrival);
        let after = link.after(&transition);
        if arrival.channel != SyncChannel::Poll {
            prop_assert_eq!(transition.outcome, Outcome::Stale);
            prop_assert_eq!(after, link);
        } else if policy.inbound.evaluate(&obs).is_none() {
            prop_assert_eq!(transition.outcome, Outcome::NoRule);
            prop_assert_eq!(after, link);
        } else {
            prop_assert_eq!(transition.replaces, Some(future));
            prop_assert_eq!(transition.new_version(), Some(obs.version));
            prop_assert!(!holds_future_version(&after));
        }
    }

    #[test]
    fn the_new_status_depends_only_on_the_local_status_and_the_observation(
        a in arb_link(),
        b in arb_link(),
        obs in arb_observations().prop_map(|mut v| v.remove(0)),
        policy in arb_policy(),
        arrival in arb_arrival(),
    ) {
        let b = LinkState { local: a.local, ..b };
        let fresh = |link: &LinkState| link.vendor.as_ref().is_none_or(|v| v.version < obs.version);
        prop_assume!(fresh(&a) && fresh(&b));
        let status_after = |link: &LinkState| link.after(&apply(link, &obs, &policy, arrival)).status;
        if policy.inbound.evaluate(&obs).is_some() {
            prop_assert_eq!(status_after(&a), status_after(&b));
        }
    }

    #[test]
    fn an_analyst_verdict_is_only_replaced_by_a_vendor_verdict(
        link in arb_link(),
        verdict in prop::sample::select(vec![FindingStatus::RiskAccepted, FindingStatus::FalsePositive]),
        obs in arb_observations().prop_map(|mut v| v.remove(0)),
        policy in arb_policy(),
        arrival in arb_arrival(),
    ) {
        let link = LinkState {
            status: verdict,
            local: LocalStatus { status: verdict, ..link.local },
            ..link
        };
        let after = link.after(&apply(&link, &obs, &policy, arrival));
        prop_assert!(after.status.is_verdict(), "{} became {}", link.status, after.status);
    }
}
