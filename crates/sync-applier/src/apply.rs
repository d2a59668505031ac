//! Applying one observation inside the caller's transaction: inbox, domain transition, finding
//! status, link state and activity row together, so a crash can never keep one without the others.

use std::collections::HashMap;

use lockstep_domain::transition::{
    self, Arrival, LinkState, Outcome, Transition, TransitionPolicy,
};
use lockstep_domain::{
    DEFAULT_MAX_CLOCK_SKEW, FindingId, FindingStatus, IntegrationId, MappingRules, TenantId,
};
use lockstep_proto::v1;
use lockstep_store::{
    ActivityRecord, IntegrationRecord, NewActivity, StoreError, TicketLinkState, Tx,
};
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

/// Integration rows and rules read once per batch.
#[derive(Default)]
pub struct BatchCache {
    integrations: HashMap<(TenantId, IntegrationId), (IntegrationRecord, MappingRules)>,
}

impl BatchCache {
    async fn integration(
        &mut self,
        tx: &mut Tx,
        tenant: TenantId,
        id: IntegrationId,
    ) -> Result<&(IntegrationRecord, MappingRules), Failure> {
        use std::collections::hash_map::Entry;
        let slot = match self.integrations.entry((tenant, id)) {
            Entry::Occupied(slot) => return Ok(slot.into_mut()),
            Entry::Vacant(slot) => slot,
        };
        let record = match tx.integrations().get(tenant, id).await {
            Ok(record) => record,
            Err(StoreError::NotFound { .. }) => {
                return Err(Failure::Permanent(format!(
                    "integration {id} does not exist in tenant {tenant}"
                )));
            }
            Err(err) => return Err(err.into()),
        };
        let rules = match tx.mapping_rules().get(tenant, id).await? {
            Some(stored) => stored.rules,
            None => MappingRules::defaults(record.vendor),
        };
        Ok(slot.insert((record, rules)))
    }
}

/// Applies `ev` as `receiver` inside `tx`.
pub async fn apply_one(
    tx: &mut Tx,
    cache: &mut BatchCache,
    receiver: &Receiver<'_>,
    ev: &Inbound,
) -> Result<Applied, Failure> {
    let obs = &ev.observation;
    let (integration, rules) = cache.integration(tx, ev.tenant, ev.integration).await?;
    let policy = policy(ev, integration, rules, receiver.max_clock_skew)?;

    let Some(link) = tx
        .links()
        .find_active_by_external_id(ev.tenant, ev.integration, obs.ticket.external_id().as_str())
        .await?
        .filter(|l| l.state == TicketLinkState::Live)
    else {
        return Ok(Applied::Ignored { why: "unlinked" });
    };
    if !tx
        .inbox()
        .insert_if_absent(ev.tenant, receiver.consumer, &ev.event_id)
        .await?
    {
        let earlier = tx
            .activity()
            .find_by_event(ev.tenant, link.finding_id, &ev.event_id)
            .await?;
        return Ok(Applied::Duplicate {
            change: earlier.and_then(|a| replay_change(ev, &a)),
        });
    }

    let finding = tx.findings().get(ev.tenant, link.finding_id).await?;
    let state = LinkState {
        status: finding.status,
        local: finding.local,
        vendor: link.vendor_snapshot.clone(),
    };
    let t = transition::apply(&state, obs, &policy, receiver.arrival(ev));
    if t.outcome == Outcome::FutureVersion {
        let entry = activity_entry(ev, finding.id, REFUSED, None, None, &t.reason);
        tx.activity().append(ev.tenant, &entry).await?;
        return Ok(Applied::Refused);
    }
    let Some(record) = &t.record else {
        return Ok(match t.outcome {
            Outcome::Stale => Applied::Stale,
            _ => Applied::Ignored { why: "no_rule" },
        });
    };
    let links = tx.links();
    let stored = match t.replaces {
        Some(future) => {
            links
                .repair_vendor_state(ev.tenant, link.id, record, future, ev.channel)
                .await?
        }
        None => {
            links
                .apply_vendor_state(ev.tenant, link.id, record, ev.channel)
                .await?
        }
    };
    if !stored {
        // Another writer recorded a newer version since we read the link.
        return Ok(Applied::Stale);
    }
    if let Outcome::Changed { from, to } = t.outcome {
        tx.findings()
            .set_status_from_vendor(ev.tenant, finding.id, to, Some(from))
            .await?;
    }
    let Some((kind, from, to)) = activity_of(&t) else {
        // A newer version with the same state (a comment, a field edit): nothing to tell.
        return Ok(Applied::Applied { change: None });
    };
    let entry = activity_entry(ev, finding.id, kind, from, to, &t.reason);
    let written = tx.activity().append(ev.tenant, &entry).await?;
    Ok(Applied::Applied {
        change: replay_change(ev, &written),
    })
}

/// The activity kind of an observation refused for a version from the future.
pub(crate) const REFUSED: &str = "vendor_version_refused";

/// The activity row a recorded transition gets, if any: a status change, a ticket state change,
/// or (same state) the repair of a version from the future; `None` for a newer version with
/// nothing to tell.
pub(crate) fn activity_of(
    t: &Transition,
) -> Option<(&'static str, Option<FindingStatus>, Option<FindingStatus>)> {
    match t.outcome {
        Outcome::Changed { from, to } => Some(("status_changed", Some(from), Some(to))),
        Outcome::VendorStateOnly => Some(("ticket_state_changed", None, None)),
        Outcome::Unchanged if t.replaces.is_some() => Some(("vendor_version_repaired", None, None)),
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

/// The activity row of a decided observation (`kind` from [`activity_of`], or [`REFUSED`]).
pub(crate) fn activity_entry(
    ev: &Inbound,
    finding: FindingId,
    kind: &str,
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
        kind: kind.to_owned(),
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
    })
}

/// Seconds from the vendor's change to now, for `lockstep_sync_lag_seconds`.
pub fn lag_seconds(ev: &Inbound, now: OffsetDateTime) -> f64 {
    (now - ev.observation.version.updated_at())
        .as_seconds_f64()
        .max(0.0)
}
