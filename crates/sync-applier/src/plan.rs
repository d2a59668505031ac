//! The pure planning step of applying events: given the events (in the worker's lock order), what
//! the inbox said about each, the locked links and findings, and the transition policies, decide
//! every event's result and the writes, with no IO. [`apply_batch`](crate::batch::apply_batch)
//! reads the inputs, calls [`plan`], and writes; a single event is a batch of one.
//!
//! Each event's transition sees the link's snapshot and the finding's status as the earlier events
//! of the batch left them; the link keeps the newest applied snapshot (with the channel that
//! brought it), the finding its last status, and every transition that says something gets its
//! activity row, in order.

use std::collections::HashMap;

use lockstep_domain::transition::{self, LinkState, LocalStatus, Outcome, TransitionPolicy};
use lockstep_domain::{
    ActivityKind, FindingId, FindingStatus, IntegrationId, TenantId, TicketKind, TicketLinkId,
};
use lockstep_store::{
    BatchWrites, Claimed, LinkAdvance, LockedLink, NewActivity, VendorStatusChange,
};

use crate::apply::{Applied, Receiver, activity_entry, activity_of};
use crate::decode::Inbound;

/// The policies of a batch, by the event's integration and kind of ticket.
pub(crate) type Policies = HashMap<(TenantId, IntegrationId, TicketKind), TransitionPolicy>;

/// The locked live links of a batch, by (tenant, integration, external id).
pub(crate) type Locked = HashMap<(TenantId, IntegrationId, String), LockedLink>;

/// What [`plan`] decided.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// One per event: `None` for duplicates (their earlier change is looked up after the writes)
    /// and for events whose activity row is written (see `rows`).
    pub results: Vec<Option<Applied>>,
    pub writes: BatchWrites,
    /// (event, index of its activity row in `writes.activity`) for applied events with a row.
    pub rows: Vec<(usize, usize)>,
}

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

/// Decides every event of the batch against the evolving state. `claimed` is the inbox's answer
/// per event; `locked` holds the live links of the new events; `policies` covers every event.
pub(crate) fn plan(
    receiver: &Receiver<'_>,
    events: &[&Inbound],
    claimed: &[Claimed],
    locked: &Locked,
    policies: &Policies,
) -> Plan {
    let mut links: HashMap<(TenantId, IntegrationId, &str), LinkNow> = HashMap::new();
    let mut findings: HashMap<FindingId, FindingNow> = HashMap::new();
    let (mut link_order, mut finding_order) = (Vec::new(), Vec::new());
    let mut out = Plan {
        results: vec![None; events.len()],
        ..Plan::default()
    };
    for (i, (ev, claim)) in events.iter().zip(claimed).enumerate() {
        match claim {
            Claimed::Unlinked => {
                out.results[i] = Some(Applied::Ignored { why: "unlinked" });
                continue;
            }
            Claimed::Duplicate { .. } => continue,
            Claimed::New { .. } => {}
        }
        let external = ev.observation.ticket.external_id().as_str();
        let key = (ev.tenant, ev.integration, external);
        let Some(held) = locked.get(&(key.0, key.1, key.2.to_owned())) else {
            // The link stopped being live after the claim: as a failed version guard.
            out.results[i] = Some(Applied::Stale);
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
        let policy = &policies[&(
            ev.tenant,
            ev.integration,
            ev.observation.ticket.target().kind(),
        )];
        let t = transition::apply(&state, &ev.observation, policy, receiver.arrival(ev));
        if t.outcome == Outcome::FutureVersion {
            out.results[i] = Some(Applied::Refused);
            let kind = ActivityKind::VendorVersionRefused;
            let entry = activity_entry(ev, finding_id, kind, None, None, &t.reason);
            out.writes.activity.push((ev.tenant, entry));
            continue;
        }
        let Some(record) = &t.record else {
            out.results[i] = Some(match t.outcome {
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
            out.results[i] = Some(Applied::Applied { change: None });
            continue;
        };
        out.rows.push((i, out.writes.activity.len()));
        let entry: NewActivity = activity_entry(ev, finding_id, kind, from, to, &t.reason);
        out.writes.activity.push((ev.tenant, entry));
    }
    out.writes.links = link_order
        .iter()
        .filter_map(|k| links.get_mut(k).and_then(|l| l.advanced.take()))
        .collect();
    out.writes.findings = finding_order
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
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use lockstep_domain::transition::VendorSnapshot;
    use lockstep_domain::{
        ExternalId, InboundRules, ObservedFields, SyncChannel, TicketKey, TicketObservation,
        TicketRef, TicketTarget, Vendor, VendorVersion,
    };
    use lockstep_store::{TicketLinkRecord, TicketLinkState};
    use time::OffsetDateTime;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-12-04 12:00 UTC);

    fn event(
        id: &str,
        state: &str,
        at: OffsetDateTime,
        tenant: TenantId,
        i: IntegrationId,
    ) -> Inbound {
        let version = VendorVersion::new(at, 1);
        Inbound {
            event_id: id.to_owned(),
            tenant,
            integration: i,
            channel: SyncChannel::Webhook,
            observation: TicketObservation {
                ticket: TicketRef::parse(Vendor::ServiceNow, "incident", "sys1", "INC0010001")
                    .unwrap(),
                vendor_state: state.to_owned(),
                vendor_state_label: None,
                vendor_state_category: None,
                resolution: None,
                version,
                actor: None,
                observed_at: NOW,
                fields: ObservedFields::default(),
            },
            traceparent: String::new(),
        }
    }

    fn held(tenant: TenantId, i: IntegrationId) -> LockedLink {
        let finding = FindingId::new();
        LockedLink {
            link: TicketLinkRecord {
                id: TicketLinkId::new(),
                tenant_id: tenant,
                finding_id: finding,
                integration_id: i,
                target: TicketTarget::parse(Vendor::ServiceNow, "incident").unwrap(),
                external_id: Some(ExternalId::parse("sys1").unwrap()),
                ticket_key: Some(TicketKey::parse(Vendor::ServiceNow, "INC0010001").unwrap()),
                url: None,
                state: TicketLinkState::Live,
                failure_reason: None,
                vendor_snapshot: Some(VendorSnapshot {
                    version: VendorVersion::new(NOW - time::Duration::hours(1), 0),
                    state: "1".into(),
                }),
                sla_due_at: None,
                sla_breached: false,
                last_sync_channel: None,
                last_synced_at: None,
                created_at: NOW,
                updated_at: NOW,
            },
            finding_status: FindingStatus::Open,
            local: LocalStatus {
                status: FindingStatus::Open,
                set_at: NOW - time::Duration::hours(2),
            },
        }
    }

    #[test]
    fn a_batch_is_decided_in_order_against_the_state_its_earlier_events_left() {
        let (tenant, i) = (TenantId::new(), IntegrationId::new());
        let events = [
            event("future", "7", datetime!(2099-01-01 00:00 UTC), tenant, i),
            event("resolve", "6", NOW - time::Duration::minutes(2), tenant, i),
            event("older", "2", NOW - time::Duration::minutes(3), tenant, i),
            event("unlinked", "6", NOW, tenant, i),
        ];
        let refs: Vec<&Inbound> = events.iter().collect();
        let finding = FindingId::new();
        let claimed = [
            Claimed::New { finding },
            Claimed::New { finding },
            Claimed::New { finding },
            Claimed::Unlinked,
        ];
        let locked = Locked::from([((tenant, i, "sys1".to_owned()), held(tenant, i))]);
        let policy = TransitionPolicy {
            auto_close_on_resolve: false,
            inbound: InboundRules::default_for(TicketKind::ServiceNowIncident),
            max_clock_skew: lockstep_domain::DEFAULT_MAX_CLOCK_SKEW,
        };
        let policies = Policies::from([((tenant, i, TicketKind::ServiceNowIncident), policy)]);
        let plan = plan(
            &Receiver::new("sync-applier", NOW),
            &refs,
            &claimed,
            &locked,
            &policies,
        );

        assert_eq!(
            plan.results,
            vec![
                Some(Applied::Refused),
                None, // applied with an activity row: filled in after the writes
                Some(Applied::Stale),
                Some(Applied::Ignored { why: "unlinked" }),
            ]
        );
        assert_eq!(plan.rows, vec![(1, 1)]);
        let kinds: Vec<_> = plan.writes.activity.iter().map(|(_, a)| a.kind).collect();
        assert_eq!(
            kinds,
            [
                ActivityKind::VendorVersionRefused,
                ActivityKind::StatusChanged
            ]
        );
        assert_eq!(plan.writes.links.len(), 1);
        assert_eq!(plan.writes.links[0].snapshot.state, "6");
        assert_eq!(plan.writes.links[0].replaces, None);
        assert_eq!(plan.writes.findings.len(), 1);
        assert_eq!(
            (plan.writes.findings[0].expected, plan.writes.findings[0].to),
            (FindingStatus::Open, FindingStatus::ReTest)
        );
    }
}
