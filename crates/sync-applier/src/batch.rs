//! Applying a whole batch in a constant number of statements (see `lockstep_store::InboundBatch`):
//! the same decisions as [`apply_one`](crate::apply::apply_one) taken event by event, in the
//! order given, but against state read once, locked, and evolved in memory; then written with one
//! statement per table.
//!
//! Equivalence with applying the events one by one in the same transaction: the inbox claims the
//! events of linked tickets (a duplicate is one the inbox already had, or an earlier event of this
//! batch with the same id); the links and findings of the new events are locked, so no one else
//! moves them before the commit; each event's transition sees the link's snapshot and the
//! finding's status as the batch's earlier events left them; the link keeps the newest applied
//! snapshot (with the channel that brought it), the finding its last status, and every transition
//! that says something gets its activity row, in order. Anything that would have failed one event
//! (unknown integration, rules that do not fit, a concurrent change) fails the batch, which the
//! worker then applies one event per transaction.

use std::collections::HashMap;

use lockstep_domain::transition::{self, LinkState, Outcome, TransitionPolicy};
use lockstep_domain::{
    FindingId, FindingStatus, IntegrationId, MappingRules, TenantId, TicketKind, TicketLinkId,
    transition::LocalStatus,
};
use lockstep_store::{
    BatchWrites, Claimed, InboxClaim, LinkAdvance, NewActivity, Tx, VendorStatusChange,
};

use crate::apply::{
    Applied, Failure, REFUSED, Receiver, activity_entry, activity_of, policy, replay_change,
};
use crate::decode::Inbound;

/// Applies `events` as `receiver` inside `tx`; one result per event, in order.
pub async fn apply_batch(
    tx: &mut Tx,
    receiver: &Receiver<'_>,
    events: &[&Inbound],
) -> Result<Vec<Applied>, Failure> {
    // 1. Integrations and rules; an event that can never apply fails the batch.
    let mut keys: Vec<(TenantId, IntegrationId)> =
        events.iter().map(|e| (e.tenant, e.integration)).collect();
    keys.sort_unstable();
    keys.dedup();
    let integrations = tx.inbound_batch().integrations(&keys).await?;
    let mut policies: HashMap<(TenantId, IntegrationId, TicketKind), TransitionPolicy> =
        HashMap::new();
    let mut defaults: HashMap<(TenantId, IntegrationId), MappingRules> = HashMap::new();
    for ev in events {
        let kind = ev.observation.ticket.target().kind();
        if policies.contains_key(&(ev.tenant, ev.integration, kind)) {
            continue;
        }
        let Some((record, rules)) = integrations.get(&(ev.tenant, ev.integration)) else {
            return Err(Failure::Permanent(format!(
                "integration {} does not exist in tenant {}",
                ev.integration, ev.tenant
            )));
        };
        let rules = match rules {
            Some(rules) => rules,
            None => defaults
                .entry((ev.tenant, ev.integration))
                .or_insert_with(|| MappingRules::defaults(record.vendor)),
        };
        policies.insert(
            (ev.tenant, ev.integration, kind),
            policy(ev, record, rules, receiver.max_clock_skew)?,
        );
    }
    // 2. The inbox: new, duplicate, or no live link.
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

    // 3. Lock the links (and findings) of the new events.
    // (lock_live_links puts them in its one lock order and drops repeats.)
    let tickets: Vec<(TenantId, IntegrationId, &str)> = claims
        .iter()
        .zip(&claimed)
        .filter(|(_, c)| matches!(c, Claimed::New { .. }))
        .map(|(c, _)| (c.tenant, c.integration, c.external_id))
        .collect();
    let locked = tx.inbound_batch().lock_live_links(&tickets).await?;

    // 4. The transitions, in order, against the evolving state.
    struct LinkNow {
        id: TicketLinkId,
        snapshot: Option<transition::VendorSnapshot>,
        advanced: Option<LinkAdvance>,
    }
    struct FindingNow {
        tenant: TenantId,
        initial: FindingStatus,
        status: FindingStatus,
        local: LocalStatus,
        changed: bool,
    }
    let mut links: HashMap<(TenantId, IntegrationId, &str), LinkNow> = HashMap::new();
    let mut findings: HashMap<FindingId, FindingNow> = HashMap::new();
    let mut link_order = Vec::new();
    let mut finding_order = Vec::new();
    let mut results: Vec<Option<Applied>> = vec![None; events.len()];
    let mut activity: Vec<(TenantId, NewActivity)> = Vec::new();
    let mut rows_of: Vec<(usize, usize)> = Vec::new(); // (event, activity row)
    for (i, (ev, claim)) in events.iter().zip(&claimed).enumerate() {
        match claim {
            Claimed::Unlinked => {
                results[i] = Some(Applied::Ignored { why: "unlinked" });
                continue;
            }
            Claimed::Duplicate { .. } => continue, // step 6
            Claimed::New { .. } => {}
        }
        let key = (
            claims[i].tenant,
            claims[i].integration,
            claims[i].external_id,
        );
        let Some(held) = locked.get(&(key.0, key.1, key.2.to_owned())) else {
            // The link stopped being live after the claim: as a failed version guard.
            results[i] = Some(Applied::Stale);
            continue;
        };
        let link = links.entry(key).or_insert_with(|| {
            link_order.push(key);
            LinkNow {
                id: held.link.id,
                snapshot: held.link.vendor_snapshot.clone(),
                advanced: None,
            }
        });
        let finding_id = held.link.finding_id;
        let finding = findings.entry(finding_id).or_insert_with(|| {
            finding_order.push(finding_id);
            FindingNow {
                tenant: ev.tenant,
                initial: held.finding_status,
                status: held.finding_status,
                local: held.local,
                changed: false,
            }
        });
        let state = LinkState {
            status: finding.status,
            local: finding.local,
            vendor: link.snapshot.clone(),
        };
        let kind = ev.observation.ticket.target().kind();
        let policy = &policies[&(ev.tenant, ev.integration, kind)];
        let t = transition::apply(&state, &ev.observation, policy, receiver.arrival(ev));
        if t.outcome == Outcome::FutureVersion {
            results[i] = Some(Applied::Refused);
            let entry = activity_entry(ev, finding_id, REFUSED, None, None, &t.reason);
            activity.push((ev.tenant, entry));
            continue;
        }
        let Some(record) = &t.record else {
            results[i] = Some(match t.outcome {
                Outcome::Stale => Applied::Stale,
                _ => Applied::Ignored { why: "no_rule" },
            });
            continue;
        };
        link.snapshot = Some(record.clone());
        // The store compares with what the link held before the batch: a repair earlier in the
        // batch still decides the guard of the batch's last advance.
        let replaces = link
            .advanced
            .as_ref()
            .and_then(|a| a.replaces)
            .or(t.replaces);
        link.advanced = Some(LinkAdvance {
            tenant: ev.tenant,
            link: link.id,
            snapshot: record.clone(),
            channel: ev.channel,
            replaces,
        });
        if let Outcome::Changed { to, .. } = t.outcome {
            finding.status = to;
            finding.changed = true;
        }
        let Some((kind, from, to)) = activity_of(&t) else {
            results[i] = Some(Applied::Applied { change: None });
            continue;
        };
        rows_of.push((i, activity.len()));
        activity.push((
            ev.tenant,
            activity_entry(ev, finding_id, kind, from, to, &t.reason),
        ));
    }

    // 5. The writes.
    let writes = BatchWrites {
        links: link_order
            .iter()
            .filter_map(|k| links.get_mut(k).and_then(|l| l.advanced.take()))
            .collect(),
        findings: finding_order
            .iter()
            .filter_map(|id| {
                let f = &findings[id];
                f.changed.then_some(VendorStatusChange {
                    tenant: f.tenant,
                    finding: *id,
                    expected: f.initial,
                    to: f.status,
                })
            })
            .collect(),
        activity,
    };
    let written = tx.inbound_batch().write(&writes).await?;
    for (i, row) in rows_of {
        results[i] = Some(Applied::Applied {
            change: replay_change(events[i], &written[row]),
        });
    }

    // 6. Duplicates re-publish the change their first application caused (this batch's included).
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
    if !duplicates.is_empty() {
        let lookups: Vec<_> = duplicates.iter().map(|(_, k)| *k).collect();
        let earlier = tx.inbound_batch().activity_for_events(&lookups).await?;
        for ((i, _), row) in duplicates.iter().zip(earlier) {
            results[*i] = Some(Applied::Duplicate {
                change: row.and_then(|a| replay_change(events[*i], &a)),
            });
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Applied::Stale))
        .collect())
}
