//! Turning a vendor observation into a finding transition: the heart of the sync applier.
//!
//! # The model
//!
//! A finding's status has two authors. Lockstep's own side (import, an analyst, a rescan) sets
//! the **local status**; [`LinkState::local`] keeps it with the time it was set. The vendor speaks
//! through observations. The finding's status is always *the local status as modified by the
//! newest observation*:
//!
//! | newest observation means \ local status | open, in_progress | re_test | closed | risk_accepted, false_positive |
//! |---|---|---|---|---|
//! | open, in_progress (also a reopen) | that | that | that | local (kept) |
//! | done, auto-close off → re_test | re_test | re_test | closed | local (kept) |
//! | done, auto-close on → closed | closed | closed | closed | local (kept) |
//! | an explicit verdict: risk_accepted, false_positive | that | that | that | that |
//! | neutral (canceled, duplicate) | local | local | local | local |
//!
//! Why this shape:
//!
//! - **History does not matter, only the newest observation.** The poller samples a ticket every
//!   few minutes and webhooks can be lost or reordered, so two channels see different subsets of
//!   a ticket's versions. Because an observation's effect depends only on the local status and the
//!   observation itself, every delivery order that includes the newest observation ends in the
//!   same state (the property tests check this).
//! - **Verdicts are sticky.** risk_accepted and false_positive are an analyst's judgement; a
//!   vendor reopen or plain resolve does not undo them. Only an explicit vendor verdict (a
//!   resolution such as "Won't Fix") replaces one. A verdict that came *from* the vendor is not
//!   local, so a later vendor reopen does undo it.
//! - **Our own echo is harmless.** When Lockstep closes a finding it resolves the ticket; the
//!   resolved ticket comes back as "done", which must not drag `closed` back to `re_test`.
//! - **Decisions are not overruled by older news.** An observation whose vendor change certainly
//!   happened no later than the local status was set describes a ticket Lockstep had already
//!   decided about (the reopen/re-resolve ricochet seen in other tools), so the local status
//!   stands. A whole-second vendor time covers its whole second
//!   ([`VendorVersion::changed_no_later_than`]): a change in the second the status was set is not
//!   known to be older, and the vendor's change applies.
//! - **Stale observations change nothing**: not newer than the stored vendor version.
//! - **Versions from the future are refused.** A vendor version is the vendor's change time, and
//!   the version guard keeps the newest one forever, so one version dated years ahead (a forged or
//!   mistaken body signed with the webhook secret, or an instance with a wrong clock) would make
//!   every later, real observation stale. An observation whose version lies more than
//!   [`TransitionPolicy::max_clock_skew`] ahead of the receiver's clock ([`Arrival::now`],
//!   injected: this module never reads a clock) changes nothing and records nothing
//!   ([`Outcome::FutureVersion`]); the caller flags it in the activity feed and a metric.
//! - **A poll (or a re-sync of the ticket) repairs a version from the future.** A link may already hold such a version (stored
//!   before this rule, or when the receiver's clock was wrong). A poll observation is the vendor's
//!   own current record, read by Lockstep, so when the link's stored version lies more than the
//!   skew ahead of the clock, a poll observation is not stale: it replaces the stored version
//!   ([`Transition::replaces`]) and applies as usual. A webhook cannot repair (it may be an old
//!   delivery arriving late); an operator can also reset a link's version (the store's
//!   `reset_vendor_version`, `lockstep tickets reset-version`).
//! - **Unknown states leave the link alone**: no version is recorded, so once an admin adds a
//!   rule for the state the next poll of the same ticket version applies it.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::observation::TicketObservation;
use crate::rules::inbound::{InboundEffect, InboundRules};
use crate::version::VendorVersion;
use crate::vocab::{FindingStatus, SyncChannel};

/// How far a vendor version may lie ahead of the receiver's clock before it is refused: clocks
/// of a vendor and of Lockstep differ by seconds in practice, never by minutes.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

/// When and how an observation reached the receiver that decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// The receiver's clock at the decision (injected; the transition never reads a clock).
    pub now: OffsetDateTime,
    /// The channel that brought it; only a read of the vendor's record (a poll or a re-sync,
    /// [`SyncChannel::reads_vendor_record`]) repairs a version from the future.
    pub channel: SyncChannel,
}

impl Arrival {
    /// The latest vendor change time accepted under `skew`.
    pub fn latest_accepted(&self, skew: Duration) -> OffsetDateTime {
        self.now + skew
    }
}

/// The status Lockstep's own side last gave a finding, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalStatus {
    pub status: FindingStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub set_at: OffsetDateTime,
}

/// The vendor version and raw state last recorded on a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorSnapshot {
    pub version: VendorVersion,
    pub state: String,
}

/// What Lockstep holds about a finding ↔ ticket link when an observation arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkState {
    /// The finding's current status.
    pub status: FindingStatus,
    pub local: LocalStatus,
    /// `None` until the first version of the ticket is recorded.
    pub vendor: Option<VendorSnapshot>,
}

impl LinkState {
    /// A link whose finding shows its local status: a new link, or any link right after
    /// Lockstep's own side set the finding's status (which makes that status the local one).
    pub fn new(local: LocalStatus, vendor: Option<VendorSnapshot>) -> Self {
        Self {
            status: local.status,
            local,
            vendor,
        }
    }

    /// The state after the transition is stored: the new status, and the new vendor snapshot when
    /// the transition records one. The local status never changes here.
    pub fn after(&self, transition: &Transition) -> LinkState {
        LinkState {
            status: transition.new_status().unwrap_or(self.status),
            local: self.local,
            vendor: transition.record.clone().or_else(|| self.vendor.clone()),
        }
    }
}

/// The integration settings that decide a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionPolicy {
    /// Whether a done ticket closes the finding (`true`) or sends it to re-test (`false`, the
    /// default: a ticket marked done means someone believes the fix is in, not that it is).
    pub auto_close_on_resolve: bool,
    /// The inbound rules of the link's kind of ticket.
    pub inbound: InboundRules,
    /// How far ahead of the receiver's clock a vendor version may lie before it is refused
    /// ([`DEFAULT_MAX_CLOCK_SKEW`] unless configured).
    pub max_clock_skew: Duration,
}

/// What an observation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The finding's status changed.
    Changed {
        from: FindingStatus,
        to: FindingStatus,
    },
    /// The ticket's state changed but the finding's status did not.
    VendorStateOnly,
    /// A newer version of the ticket with the same state (a comment, a field edit).
    Unchanged,
    /// Not newer than the stored version; nothing was changed or recorded.
    Stale,
    /// No inbound rule covers the ticket's state; nothing was changed or recorded.
    NoRule,
    /// The vendor version lies more than the allowed clock skew ahead of the receiver's clock:
    /// refused, nothing was changed or recorded. The caller flags it.
    FutureVersion,
}

/// The result of [`apply`]: what happened, what to store on the link, and why in words for the
/// activity feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub outcome: Outcome,
    /// The vendor version and state to store on the link; `None` when the link stays as it was.
    pub record: Option<VendorSnapshot>,
    /// Set when `record` repairs a link whose stored version lies in the future: the version it
    /// replaces. The store then writes `record` only if the link still holds exactly this version,
    /// instead of only if `record` is newer.
    pub replaces: Option<VendorVersion>,
    pub reason: String,
}

impl Transition {
    pub fn new_status(&self) -> Option<FindingStatus> {
        match self.outcome {
            Outcome::Changed { to, .. } => Some(to),
            Outcome::VendorStateOnly
            | Outcome::Unchanged
            | Outcome::Stale
            | Outcome::NoRule
            | Outcome::FutureVersion => None,
        }
    }

    pub fn new_version(&self) -> Option<VendorVersion> {
        self.record.as_ref().map(|snapshot| snapshot.version)
    }
}

/// Decides what an observation of a linked ticket does to the link and its finding, given when
/// and how it arrived. Pure: the caller stores [`LinkState::after`] and writes the activity row.
pub fn apply(
    link: &LinkState,
    obs: &TicketObservation,
    policy: &TransitionPolicy,
    arrival: Arrival,
) -> Transition {
    let ticket = obs.ticket.key();
    let state = obs.state_description();
    let latest = arrival.latest_accepted(policy.max_clock_skew);
    if obs.version.lies_after(latest) {
        return Transition {
            outcome: Outcome::FutureVersion,
            record: None,
            replaces: None,
            reason: format!(
                "{ticket}: refused version {} (state {state}), which lies in the future: more than \
                 {} ahead of Lockstep's clock ({}); check the vendor instance's clock, or who \
                 can sign deliveries with the webhook secret",
                obs.version,
                policy.max_clock_skew,
                rfc3339(arrival.now)
            ),
        };
    }
    // A link holding a version from the future is repaired by the vendor's own current record.
    let replaces = link
        .vendor
        .as_ref()
        .filter(|stored| arrival.channel.reads_vendor_record() && stored.version.lies_after(latest))
        .map(|stored| stored.version);
    if let Some(stored) = link
        .vendor
        .as_ref()
        .filter(|stored| replaces.is_none() && obs.version <= stored.version)
    {
        return Transition {
            outcome: Outcome::Stale,
            record: None,
            replaces: None,
            reason: format!(
                "{ticket}: ignored version {} (state {state}); the link already holds version {}",
                obs.version, stored.version
            ),
        };
    }
    let Some(matched) = policy.inbound.evaluate(obs) else {
        return Transition {
            outcome: Outcome::NoRule,
            record: None,
            replaces: None,
            reason: format!(
                "{ticket} is in state {state}, which no inbound rule covers; add a rule for it to \
                 the integration's mapping rules (the link was left as it was, so the next sync \
                 applies the new rule)"
            ),
        };
    };
    let (target, why) = if obs.version.changed_no_later_than(link.local.set_at) {
        (
            link.local.status,
            format!(
                "the ticket changed at {}, before Lockstep set the finding to {} at {}, so that \
                 status stands",
                rfc3339(obs.version.updated_at()),
                link.local.status,
                rfc3339(link.local.set_at)
            ),
        )
    } else {
        let (target, note) = resolve(
            link.local.status,
            matched.effect,
            policy.auto_close_on_resolve,
        );
        (target, note.to_owned())
    };
    let outcome = if target != link.status {
        Outcome::Changed {
            from: link.status,
            to: target,
        }
    } else if link.vendor.as_ref().map(|v| v.state.as_str()) != Some(obs.vendor_state.as_str()) {
        Outcome::VendorStateOnly
    } else {
        Outcome::Unchanged
    };
    let effect_on_finding = match outcome {
        Outcome::Changed { from, to } => format!("finding {from} → {to}"),
        _ => format!("finding stays {target}"),
    };
    let repair = replaces.map_or_else(String::new, |future| {
        format!(
            "; this poll replaced version {future} from the future (more than {} ahead of \
             Lockstep's clock)",
            policy.max_clock_skew
        )
    });
    Transition {
        outcome,
        record: Some(VendorSnapshot {
            version: obs.version,
            state: obs.vendor_state.clone(),
        }),
        replaces,
        reason: format!(
            "{ticket} is in state {state}: {}; {effect_on_finding} ({why}){repair}",
            matched.reason
        ),
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// The status a finding should have given its local status and what the newest observation
/// means, with a note on why. See the table in the module docs.
fn resolve(
    local: FindingStatus,
    effect: InboundEffect,
    auto_close: bool,
) -> (FindingStatus, &'static str) {
    let wanted = match effect {
        InboundEffect::Neutral => {
            return (
                local,
                "the state says nothing about the finding, which shows the status Lockstep gave it",
            );
        }
        InboundEffect::Done if auto_close => FindingStatus::Closed,
        InboundEffect::Done => FindingStatus::ReTest,
        InboundEffect::SetStatus(status) => status,
    };
    match wanted {
        FindingStatus::RiskAccepted | FindingStatus::FalsePositive => {
            (wanted, "the vendor gave an explicit verdict")
        }
        _ if local.is_verdict() => (
            local,
            "an analyst's verdict is only replaced by an explicit vendor verdict",
        ),
        FindingStatus::Open | FindingStatus::InProgress => {
            (wanted, "the ticket is open again or being worked on")
        }
        FindingStatus::ReTest if local == FindingStatus::Closed => {
            (local, "Lockstep had already closed the finding")
        }
        FindingStatus::ReTest if effect == InboundEffect::Done => (
            wanted,
            "auto-close on resolve is off, so an analyst verifies the fix first",
        ),
        FindingStatus::ReTest => (wanted, "the rule sends the finding to re-test"),
        FindingStatus::Closed if effect == InboundEffect::Done => {
            (wanted, "auto-close on resolve is on")
        }
        FindingStatus::Closed => (wanted, "the rule closes the finding"),
    }
}

#[cfg(test)]
mod tests;
