//! Applying observations inside the caller's transaction: inbox, domain transition, finding
//! status, link state and activity row together, so a crash can never keep one without the others.
//! The results, the receiver, the policy of an event and its activity row; the reads and writes
//! are in [`batch`](crate::batch), the decisions in [`plan`](crate::plan).

use lockstep_domain::transition::{Arrival, Outcome, Transition, TransitionPolicy};
use lockstep_domain::{
    ActivityKind, DEFAULT_MAX_CLOCK_SKEW, FindingId, FindingStatus, MappingRules,
};
use lockstep_proto::v1;
use lockstep_store::{ActivityRecord, IntegrationRecord, NewActivity, StoreError, Tx};
use serde_json::json;
use time::OffsetDateTime;

use crate::decode::Inbound;

/// What applying an event did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The link moved forward; `change` is set when the finding's status changed.
    Applied { change: Option<v1::FindingChanged> },
    /// The inbox already held the event. `change` is the finding change it caused, to publish
    /// again in case the first run crashed between its commit and its publish.
    Duplicate { change: Option<v1::FindingChanged> },
    /// Not newer than what the link holds.
    Stale,
    /// The vendor version lies in the future (beyond the allowed clock skew): refused, with an
    /// activity row that says so.
    Refused,
    /// No inbound rule covers the state, or no live link for the ticket: nothing to do.
    Ignored { why: &'static str },
}

impl Applied {
    pub fn outcome(&self) -> &'static str {
        match self {
            Applied::Applied { .. } => "applied",
            Applied::Duplicate { .. } => "duplicate",
            Applied::Stale => "stale",
            Applied::Refused => "refused",
            Applied::Ignored { .. } => "ignored",
        }
    }

    pub fn change(&self) -> Option<&v1::FindingChanged> {
        match self {
            Applied::Applied { change } | Applied::Duplicate { change } => change.as_ref(),
            _ => None,
        }
    }
}

/// Why an event did not apply.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// It never will (unknown integration, rules that do not fit): dead-letter it.
    #[error("{0}")]
    Permanent(String),
    /// It may later (database trouble, a concurrent change): retry it.
    #[error(transparent)]
    Transient(StoreError),
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Corrupt { .. } | StoreError::Invalid { .. } => {
                Failure::Permanent(err.to_string())
            }
            StoreError::Database(_) if !err.is_retryable() => Failure::Permanent(err.to_string()),
            // NotFound and Conflict here mean a concurrent change (a link ended, a status
            // moved): a retry sees the new state.
            _ => Failure::Transient(err),
        }
    }
}

/// Who applies, and when: the consumer (the inbox key), the receiver's clock at the decision
/// and how far ahead of it a vendor version may lie (`applier.max_clock_skew`).
#[derive(Debug, Clone, Copy)]
pub struct Receiver<'a> {
    pub consumer: &'a str,
    pub now: OffsetDateTime,
    pub max_clock_skew: time::Duration,
}

impl<'a> Receiver<'a> {
    /// `consumer` deciding at `now` with the default clock skew.
    pub fn new(consumer: &'a str, now: OffsetDateTime) -> Self {
        Self {
            consumer,
            now,
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
        }
    }

    pub(crate) fn arrival(&self, ev: &Inbound) -> Arrival {
        Arrival {
            now: self.now,
            channel: ev.channel,
        }
    }
}

/// Applies `ev` as `receiver` inside `tx`: a batch of one.
pub async fn apply_one(
    tx: &mut Tx,
    receiver: &Receiver<'_>,
    ev: &Inbound,
) -> Result<Applied, Failure> {
    let mut results = crate::batch::apply_batch(tx, receiver, &[ev]).await?;
    Ok(results.pop().unwrap_or(Applied::Stale))
}

/// The activity row a recorded transition gets, if any: a status change, a ticket state change,
/// or (same state) the repair of a version from the future; `None` for a newer version with
/// nothing to tell.
pub(crate) fn activity_of(
    t: &Transition,
) -> Option<(ActivityKind, Option<FindingStatus>, Option<FindingStatus>)> {
    match t.outcome {
        Outcome::Changed { from, to } => Some((ActivityKind::StatusChanged, Some(from), Some(to))),
        Outcome::VendorStateOnly => Some((ActivityKind::TicketStateChanged, None, None)),
        Outcome::Unchanged if t.replaces.is_some() => {
            Some((ActivityKind::VendorVersionRepaired, None, None))
        }
        _ => None,
    }
}

/// The transition policy of `ev` under its integration: `Permanent` when the integration is of
/// another vendor or its rules do not cover the ticket's kind.
pub(crate) fn policy(
    ev: &Inbound,
    integration: &IntegrationRecord,
    rules: &MappingRules,
    max_clock_skew: time::Duration,
) -> Result<TransitionPolicy, Failure> {
    let obs = &ev.observation;
    if integration.vendor != obs.ticket.vendor() {
        return Err(Failure::Permanent(format!(
            "a {} observation for {} integration {}",
            obs.ticket.vendor(),
            integration.vendor,
            integration.id
        )));
    }
    Ok(TransitionPolicy {
        auto_close_on_resolve: integration.settings.auto_close_on_resolve,
        inbound: rules
            .inbound(obs.ticket.target().kind())
            .map_err(|e| Failure::Permanent(format!("inbound rules: {e}")))?
            .clone(),
        max_clock_skew,
    })
}

/// The activity row of a decided observation (`kind` from [`activity_of`], or
/// `vendor_version_refused`).
pub(crate) fn activity_entry(
    ev: &Inbound,
    finding: FindingId,
    kind: ActivityKind,
    from: Option<FindingStatus>,
    to: Option<FindingStatus>,
    reason: &str,
) -> NewActivity {
    let obs = &ev.observation;
    let actor = obs.actor.clone().unwrap_or_else(|| "unknown".to_owned());
    NewActivity {
        finding_id: finding,
        channel: ev.channel,
        message: format!("{reason} by {actor} via {}", ev.channel),
        actor,
        kind,
        from_status: from,
        to_status: to,
        details: json!({
            "event_id": ev.event_id,
            "integration_id": ev.integration.to_string(),
            "ticket": obs.ticket.key().as_str(),
            "vendor_state": obs.vendor_state,
            "vendor_updated_at": obs.version.updated_at().unix_timestamp(),
            "vendor_sequence": obs.version.sequence(),
        }),
    }
}

/// The `finding.changed` event of a status change, rebuilt identically from its activity row:
/// the id derives from the source event, so a re-publish after a crash is the same event.
pub(crate) fn replay_change(ev: &Inbound, row: &ActivityRecord) -> Option<v1::FindingChanged> {
    let (from, to) = (row.from_status?, row.to_status?);
    Some(v1::FindingChanged {
        event_id: format!("fc:{}", ev.event_id),
        tenant_id: ev.tenant.to_string(),
        finding_id: row.finding_id.to_string(),
        from_status: from.as_str().to_owned(),
        to_status: to.as_str().to_owned(),
        origin: v1::ChangeOrigin::Vendor as i32,
        channel: ev.channel.as_str().to_owned(),
        integration_id: ev.integration.to_string(),
        changed_at: Some(lockstep_proto::to_timestamp(row.at)),
        // Set by the worker from the event's span.
        traceparent: String::new(),
    })
}

/// Seconds from the vendor's change to now, for `lockstep_sync_lag_seconds`.
pub fn lag_seconds(ev: &Inbound, now: OffsetDateTime) -> f64 {
    (now - ev.observation.version.updated_at())
        .as_seconds_f64()
        .max(0.0)
}
