//! Applying events in a constant number of statements (see `lockstep_store::InboundBatch`): read
//! the integrations, claim the inbox rows, lock the links and findings of the new events, decide
//! everything in memory with the pure [`plan`](crate::plan::plan), then write with one statement
//! per table. A single event is a batch of one ([`apply_one`](crate::apply::apply_one)).
//!
//! The inbox claims the events of linked tickets (a duplicate is one the inbox already had, or an
//! earlier event of this batch with the same id); the links and findings of the new events are
//! locked, so no one else moves them before the commit. Anything that would fail one event
//! (unknown integration, rules that do not fit, a concurrent change) fails the batch, which the
//! worker then applies one event per transaction.

use std::collections::HashMap;

use lockstep_domain::{FindingId, IntegrationId, TenantId};
use lockstep_store::{Claimed, InboxClaim, Tx};

use crate::apply::{Applied, Failure, Receiver, policy, replay_change};
use crate::decode::Inbound;
use crate::plan::{Policies, plan};

/// Applies `events` as `receiver` inside `tx`; one result per event, in order.
pub async fn apply_batch(
    tx: &mut Tx,
    receiver: &Receiver<'_>,
    events: &[&Inbound],
) -> Result<Vec<Applied>, Failure> {
    let policies = policies(tx, receiver, events).await?;
    // The inbox: new, duplicate, or no live link.
    let claims: Vec<InboxClaim<'_>> = events
        .iter()
        .map(|e| InboxClaim {
            tenant: e.tenant,
            integration: e.integration,
            external_id: e.observation.ticket.external_id().as_str(),
            event_id: &e.event_id,
        })
        .collect();
    let claimed = tx.inbound_batch().claim(receiver.consumer, &claims).await?;
    // Lock the links (and findings) of the new events (in one lock order, repeats dropped).
    let tickets: Vec<(TenantId, IntegrationId, &str)> = claims
        .iter()
        .zip(&claimed)
        .filter(|(_, c)| matches!(c, Claimed::New { .. }))
        .map(|(c, _)| (c.tenant, c.integration, c.external_id))
        .collect();
    let locked = tx.inbound_batch().lock_live_links(&tickets).await?;

    let planned = plan(receiver, events, &claimed, &locked, &policies);
    let mut results = planned.results;
    let written = tx.inbound_batch().write(&planned.writes).await?;
    for (i, row) in planned.rows {
        results[i] = Some(Applied::Applied {
            change: replay_change(events[i], &written[row]),
        });
    }
    duplicates(tx, events, &claimed, &mut results).await?;
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Applied::Stale))
        .collect())
}

/// The transition policy of every event's integration and kind of ticket; an event that can
/// never apply (unknown integration, rules that do not fit) fails the batch.
async fn policies(
    tx: &mut Tx,
    receiver: &Receiver<'_>,
    events: &[&Inbound],
) -> Result<Policies, Failure> {
    let mut keys: Vec<(TenantId, IntegrationId)> =
        events.iter().map(|e| (e.tenant, e.integration)).collect();
    keys.sort_unstable();
    keys.dedup();
    let integrations = tx.inbound_batch().integrations(&keys).await?;
    let mut policies = HashMap::new();
    for ev in events {
        let key = (
            ev.tenant,
            ev.integration,
            ev.observation.ticket.target().kind(),
        );
        if policies.contains_key(&key) {
            continue;
        }
        let Some((record, rules)) = integrations.get(&(ev.tenant, ev.integration)) else {
            return Err(Failure::Permanent(format!(
                "integration {} does not exist in tenant {}",
                ev.integration, ev.tenant
            )));
        };
        policies.insert(key, policy(ev, record, rules, receiver.max_clock_skew)?);
    }
    Ok(policies)
}

/// Duplicates re-publish the change their first application caused (this batch's included).
async fn duplicates(
    tx: &mut Tx,
    events: &[&Inbound],
    claimed: &[Claimed],
    results: &mut [Option<Applied>],
) -> Result<(), Failure> {
    let duplicates: Vec<(usize, (TenantId, FindingId, &str))> = claimed
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Claimed::Duplicate { finding } => {
                Some((i, (events[i].tenant, *finding, events[i].event_id.as_str())))
            }
            _ => None,
        })
        .collect();
    if duplicates.is_empty() {
        return Ok(());
    }
    let lookups: Vec<_> = duplicates.iter().map(|(_, k)| *k).collect();
    let earlier = tx.inbound_batch().activity_for_events(&lookups).await?;
    for ((i, _), row) in duplicates.iter().zip(earlier) {
        results[*i] = Some(Applied::Duplicate {
            change: row.and_then(|a| replay_change(events[*i], &a)),
        });
    }
    Ok(())
}
