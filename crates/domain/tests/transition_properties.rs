//! Properties of `apply` that the sync applier relies on, checked through the public API only:
//! redelivery is harmless, delivery order does not matter, stale observations do nothing.

use lockstep_domain::{
    FindingStatus, InboundEffect, InboundRules, LinkState, LocalStatus, Outcome, ResolutionRule,
    StateMatch, StateRule, TicketKind, TicketObservation, TicketRef, TransitionPolicy, Vendor,
    VendorSnapshot, VendorVersion, apply,
};
use lockstep_domain::{Label, ObservedFields};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const BASE: OffsetDateTime = datetime!(2026-01-05 12:00 UTC);

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
/// decision is sometimes newer than the ticket's change), maybe with a stored version.
fn arb_link() -> impl Strategy<Value = LinkState> {
    (
        arb_status(),
        arb_status(),
        -10i64..130,
        prop::option::of((
            0i64..120,
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
) -> LinkState {
    observations.iter().fold(start.clone(), |link, obs| {
        link.after(&apply(&link, obs, policy))
    })
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
    ) {
        let once = link.after(&apply(&link, &obs, &policy));
        let again = apply(&once, &obs, &policy);
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
    ) {
        // Observations no rule covers leave no trace, so the newest one a rule covers decides.
        let newest = observations
            .iter()
            .filter(|obs| policy.inbound.evaluate(obs).is_some())
            .max_by_key(|obs| obs.version);
        let expected = match newest {
            Some(newest) => link.after(&apply(&link, newest, &policy)),
            None => link.clone(),
        };
        prop_assert_eq!(deliver(&link, &shuffled, &policy), expected.clone());
        prop_assert_eq!(deliver(&link, &observations, &policy), expected);
    }

    #[test]
    fn a_stale_observation_never_changes_anything(
        link in arb_link(),
        state in arb_state(),
        (stored_secs, stored_seq, back_secs, back_seq) in (0i64..120, 0i64..3, 0i64..60, 0i64..3),
        policy in arb_policy(),
    ) {
        let stored = version(stored_secs, stored_seq);
        let link = LinkState {
            vendor: Some(VendorSnapshot { version: stored, state: "2".to_owned() }),
            ..link
        };
        // Earlier or equal: both components move back (or stay).
        let older = version(stored_secs - back_secs, stored_seq - back_seq);
        let transition = apply(&link, &observation(state, older), &policy);
        prop_assert_eq!(transition.outcome, Outcome::Stale);
        prop_assert!(transition.record.is_none());
        prop_assert_eq!(link.after(&transition), link);
    }

    #[test]
    fn the_new_status_depends_only_on_the_local_status_and_the_observation(
        a in arb_link(),
        b in arb_link(),
        obs in arb_observations().prop_map(|mut v| v.remove(0)),
        policy in arb_policy(),
    ) {
        let b = LinkState { local: a.local, ..b };
        let fresh = |link: &LinkState| link.vendor.as_ref().is_none_or(|v| v.version < obs.version);
        prop_assume!(fresh(&a) && fresh(&b));
        let status_after = |link: &LinkState| link.after(&apply(link, &obs, &policy)).status;
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
    ) {
        let link = LinkState {
            status: verdict,
            local: LocalStatus { status: verdict, ..link.local },
            ..link
        };
        let after = link.after(&apply(&link, &obs, &policy));
        prop_assert!(after.status.is_verdict(), "{} became {}", link.status, after.status);
    }
}
