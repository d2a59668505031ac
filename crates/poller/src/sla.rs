//! SLA refresh (for connectors with the SLA capability): due time and breached on the link.
//!
//! - Tickets that changed in a cycle have their SLAs read in that cycle, and the observation
//!   published for them carries the SLA too.
//! - Every open linked ticket (live link, finding not settled) is re-read once per
//!   `sla_sweep_interval` per integration, so a due time moved on the vendor side without any
//!   other change still arrives.
//! - Between reads, a due time that passes marks the link breached locally: a vendor's own
//!   breach flag may lag (SLA jobs run on a schedule), and connectors judge breach from the
//!   planned end time anyway.
//!
//! Reads are batched by the connector; writes are one statement per batch (`update_slas`), since
//! a first cycle over a million links would otherwise spend its time on a statement per link.
//!
//! SLA reads never fail a poll (an account may lack read access to the SLA records): failures are
//! logged and counted in `lockstep_sla_refresh_errors_total`.

use std::time::Instant;

use lockstep_connectors::SlaSource;
use lockstep_domain::{IntegrationId, TenantId, TicketLinkId, TicketObservation};
use lockstep_store::LinkSla;
use time::OffsetDateTime;

use crate::{Poller, metrics};

/// Open links per sweep step: one page of links read, their SLAs read (batched by the
/// connector), and what changed written back in one statement.
const SWEEP_PAGE: u32 = 200;

/// Reads the SLAs of changed tickets, writes them on the links (one statement) and into the
/// observations. Returns how many links changed.
pub(crate) async fn refresh_changed(
    poller: &Poller,
    client: &dyn SlaSource,
    tenant: TenantId,
    integration: IntegrationId,
    changes: &mut [(TicketObservation, TicketLinkId)],
) -> usize {
    if changes.is_empty() {
        return 0;
    }
    let ids: Vec<String> = changes
        .iter()
        .map(|(o, _)| o.ticket.external_id().as_str().to_owned())
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let slas = match client.read_slas(&refs, OffsetDateTime::now_utc()).await {
        Ok(slas) => slas,
        Err(e) => {
            ::metrics::counter!(metrics::SLA_REFRESH_ERRORS).increment(1);
            tracing::warn!(error = %e, "reading the SLAs of changed tickets failed; the poll goes on");
            return 0;
        }
    };
    let mut writes = Vec::with_capacity(changes.len());
    for (obs, link) in changes.iter_mut() {
        let Some(sla) = slas.get(obs.ticket.external_id().as_str()) else {
            continue;
        };
        sla.apply_to(&mut obs.fields);
        writes.push(LinkSla {
            link_id: *link,
            due_at: sla.due,
            breached: sla.breached,
        });
    }
    match poller
        .inner
        .store
        .links()
        .update_slas(tenant, integration, &writes)
        .await
    {
        Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
        Err(e) => {
            ::metrics::counter!(metrics::SLA_REFRESH_ERRORS).increment(1);
            tracing::warn!(%integration, error = %e, "storing the SLAs of changed tickets failed");
            0
        }
    }
}

/// The periodic sweep of every open linked ticket (when due for this integration), then the
/// local breach marking and the breached gauge. Returns how many links were updated.
pub(crate) async fn sweep_if_due(
    poller: &Poller,
    client: &dyn SlaSource,
    tenant: TenantId,
    integration: IntegrationId,
) -> usize {
    let interval = poller.inner.settings.sla_sweep_interval;
    let due = {
        let mut sweeps = poller.inner.sla_sweeps.lock();
        let last = sweeps.get(&integration).copied();
        let due = last.is_none_or(|at| at.elapsed() >= interval);
        if due {
            sweeps.insert(integration, Instant::now());
        }
        due
    };
    let mut updated = 0;
    if due {
        match sweep(poller, client, tenant, integration).await {
            Ok(n) => updated = n,
            Err(e) => {
                ::metrics::counter!(metrics::SLA_REFRESH_ERRORS).increment(1);
                tracing::warn!(%integration, error = %e, "the SLA sweep failed; it runs again next interval");
            }
        }
    }
    let links = || poller.inner.store.links();
    if let Err(e) = links()
        .mark_overdue_slas_breached(tenant, integration)
        .await
    {
        tracing::warn!(%integration, error = %e, "marking overdue SLAs failed");
    }
    match links().count_sla_breached(tenant, integration).await {
        Ok(n) => metrics::sla_breached(tenant, integration, n),
        Err(e) => tracing::warn!(%integration, error = %e, "counting breached SLAs failed"),
    }
    updated
}

async fn sweep(
    poller: &Poller,
    client: &dyn SlaSource,
    tenant: TenantId,
    integration: IntegrationId,
) -> Result<usize, String> {
    let store = &poller.inner.store;
    let mut after = None;
    let mut updated = 0;
    loop {
        let page = store
            .links()
            .list_open_live(tenant, integration, after, SWEEP_PAGE)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = page.last() else {
            return Ok(updated);
        };
        after = Some(last.id);
        let ids: Vec<&str> = page
            .iter()
            .filter_map(|l| l.external_id.as_ref().map(|e| e.as_str()))
            .collect();
        let slas = client
            .read_slas(&ids, OffsetDateTime::now_utc())
            .await
            .map_err(|e| e.to_string())?;
        // Only what differs from the link is sent; the statement re-checks it anyway.
        let writes: Vec<LinkSla> = page
            .iter()
            .filter_map(|link| {
                let sla = slas.get(link.external_id.as_ref()?.as_str())?;
                let differs = link.sla_due_at != sla.due || link.sla_breached != sla.breached;
                differs.then_some(LinkSla {
                    link_id: link.id,
                    due_at: sla.due,
                    breached: sla.breached,
                })
            })
            .collect();
        let changed = store
            .links()
            .update_slas(tenant, integration, &writes)
            .await
            .map_err(|e| e.to_string())?;
        updated += usize::try_from(changed).unwrap_or(usize::MAX);
        if page.len() < SWEEP_PAGE as usize {
            return Ok(updated);
        }
    }
}
