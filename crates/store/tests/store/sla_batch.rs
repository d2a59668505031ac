//! The poller's batched SLA write (`update_slas`): the same stored result as `update_sla` one link
//! at a time, no rewrite of links that already hold the values, and nothing outside the caller's
//! tenant and integration.

use lockstep_domain::{IntegrationId, TenantId, TicketLinkId};
use lockstep_store::{LinkSla, Store, TicketLinkRecord};
use time::OffsetDateTime;

use crate::helpers::{at, finding, fixture, incident, integration, live_link, live_ticket};

/// A live link on a given integration (the shared `live_link` always takes the tenant's first).
async fn live_link_on(
    store: &Store,
    tenant: TenantId,
    integration: IntegrationId,
    external_id: &str,
) -> TicketLinkRecord {
    let finding = finding(store, tenant, &format!("on-{external_id}")).await;
    let pending = store
        .links()
        .insert_pending(tenant, finding.id, integration, &incident())
        .await
        .unwrap();
    store
        .links()
        .mark_live(tenant, pending.id, &live_ticket(external_id))
        .await
        .unwrap()
}

fn sys_id(n: usize) -> String {
    format!("{n:032x}")
}

async fn sla_of(
    store: &Store,
    tenant: TenantId,
    id: TicketLinkId,
) -> (Option<OffsetDateTime>, bool) {
    let l = store.links().get(tenant, id).await.unwrap();
    (l.sla_due_at, l.sla_breached)
}

#[tokio::test]
async fn batched_sla_writes_store_what_single_writes_store() {
    let fx = fixture().await;
    let store = fx.store();
    // Every kind of value the poller writes: a due time, a breach, both cleared, breached
    // without a running SLA; each different from what the links start with.
    let inputs = [
        (Some(at(3600)), false),
        (Some(at(-60)), true),
        (None, false),
        (None, true),
    ];
    let mut single = Vec::new();
    let mut batched = Vec::new();
    for n in 0..inputs.len() {
        single.push(live_link(store, fx.tenant, &sys_id(n)).await);
        batched.push(live_link(store, fx.tenant, &sys_id(100 + n)).await);
    }
    let i = single[0].integration_id;
    for link in single.iter().chain(&batched) {
        store
            .links()
            .update_sla(fx.tenant, link.id, Some(at(0)), true)
            .await
            .unwrap();
    }

    for (link, (due, breached)) in single.iter().zip(inputs) {
        store
            .links()
            .update_sla(fx.tenant, link.id, due, breached)
            .await
            .unwrap();
    }
    let writes: Vec<LinkSla> = batched
        .iter()
        .zip(inputs)
        .map(|(link, (due_at, breached))| LinkSla {
            link_id: link.id,
            due_at,
            breached,
        })
        .collect();
    assert_eq!(
        store
            .links()
            .update_slas(fx.tenant, i, &writes)
            .await
            .unwrap(),
        inputs.len() as u64
    );
    for ((s, b), expected) in single.iter().zip(&batched).zip(inputs) {
        let got = sla_of(store, fx.tenant, b.id).await;
        assert_eq!(got, expected);
        assert_eq!(
            got,
            sla_of(store, fx.tenant, s.id).await,
            "same as one by one"
        );
    }

    // Writing the same values again changes nothing, not even updated_at.
    let before = store.links().get(fx.tenant, batched[0].id).await.unwrap();
    assert_eq!(
        store
            .links()
            .update_slas(fx.tenant, i, &writes)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.links().get(fx.tenant, batched[0].id).await.unwrap(),
        before
    );

    // A link named twice ends with its last entry, as sequential writes would leave it.
    let twice = [
        LinkSla {
            link_id: batched[0].id,
            due_at: Some(at(10)),
            breached: false,
        },
        LinkSla {
            link_id: batched[0].id,
            due_at: Some(at(20)),
            breached: true,
        },
    ];
    assert_eq!(
        store
            .links()
            .update_slas(fx.tenant, i, &twice)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        sla_of(store, fx.tenant, batched[0].id).await,
        (Some(at(20)), true)
    );
    assert_eq!(
        store.links().update_slas(fx.tenant, i, &[]).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn batched_sla_writes_touch_only_the_callers_tenant_and_integration() {
    let fx = fixture().await;
    let store = fx.store();
    let ours = live_link(store, fx.tenant, &sys_id(1)).await;
    let i = ours.integration_id;
    let j = integration(store, fx.tenant, "ServiceNow test").await.id;
    let sibling = live_link_on(store, fx.tenant, j, &sys_id(2)).await;
    let theirs = live_link(store, fx.other, &sys_id(3)).await;
    let write = |link: &TicketLinkRecord| LinkSla {
        link_id: link.id,
        due_at: Some(at(900)),
        breached: true,
    };
    let untouched = (None, false);

    // Another tenant naming our links, even with our integration id, changes nothing.
    assert_eq!(
        store
            .links()
            .update_slas(fx.other, i, &[write(&ours), write(&sibling)])
            .await
            .unwrap(),
        0
    );
    assert_eq!(sla_of(store, fx.tenant, ours.id).await, untouched);
    assert_eq!(sla_of(store, fx.tenant, sibling.id).await, untouched);

    // Our call for integration i skips the other integration's link and the other tenant's.
    assert_eq!(
        store
            .links()
            .update_slas(
                fx.tenant,
                i,
                &[write(&ours), write(&sibling), write(&theirs)]
            )
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        sla_of(store, fx.tenant, ours.id).await,
        (Some(at(900)), true)
    );
    assert_eq!(sla_of(store, fx.tenant, sibling.id).await, untouched);
    assert_eq!(sla_of(store, fx.other, theirs.id).await, untouched);
}
