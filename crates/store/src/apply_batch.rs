//! Set-based statements for applying a batch of inbound observations (the sync-applier) in a
//! constant number of round trips, whatever the batch size:
//!
//! 1. [`InboundBatch::integrations`]: the integrations of the batch with their stored rules;
//! 2. [`InboundBatch::claim`]: the inbox rows of the events whose ticket has a live link (one
//!    `INSERT … SELECT FROM UNNEST … ON CONFLICT DO NOTHING`), telling new events from duplicates
//!    and from events of unlinked tickets;
//! 3. [`InboundBatch::lock_live_links`]: the live links of the new events with their findings'
//!    statuses, locked (`FOR UPDATE`, in ticket order, so concurrent batches queue instead of
//!    deadlocking) so the caller's in-memory transitions stay true until the commit;
//! 4. [`InboundBatch::write`]: one `UPDATE … FROM UNNEST` for the links (with the version guard,
//!    or for a poll repairing a version from the future, a compare-and-set on that version),
//!    one for the findings (compare-and-set on the status), one `INSERT` for the activity rows;
//! 5. [`InboundBatch::activity_for_events`]: the activity rows earlier deliveries of duplicates
//!    wrote, to publish their changes again.
//!
//! Every lookup is an index probe per key (a LATERAL subquery, or `id = ANY($ids)` beside the join):
//! joined to a few hundred keys, a table of tens of thousands of rows otherwise gets a hash join
//! over a whole-table scan, which made these statements cost ~15 ms each per batch of 256.
//!
//! Only a [`Tx`](crate::Tx) offers this handle: the steps only make sense in one transaction.

use std::collections::HashMap;
use std::sync::LazyLock;

use lockstep_domain::transition::{LocalStatus, VendorSnapshot};
use lockstep_domain::{
    ActivityId, FindingId, FindingStatus, IntegrationId, MappingRules, SyncChannel, TenantId,
    TicketLinkId, VendorVersion,
};
use sqlx::{FromRow, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::activity::{ActivityRecord, NewActivity};
use crate::conn::area_handle;
use crate::error::{StoreError, StoreResult};
use crate::integrations::{IntegrationRecord, integration_columns};
use crate::links::{TicketLinkRecord, link_columns};
use crate::row;

area_handle!(
    /// Batch statements of the sync-applier (`tx.inbound_batch()`).
    InboundBatch
);

/// One event of the batch, as the inbox claim needs it.
#[derive(Debug, Clone, Copy)]
pub struct InboxClaim<'a> {
    pub tenant: TenantId,
    pub integration: IntegrationId,
    /// The vendor's id of the ticket the event is about.
    pub external_id: &'a str,
    pub event_id: &'a str,
}

/// What the inbox said about one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimed {
    /// No live link for the ticket: no inbox row was written.
    Unlinked,
    /// First time: the inbox row is written; apply the event.
    New { finding: FindingId },
    /// Already in the inbox (from an earlier delivery, or earlier in this batch).
    Duplicate { finding: FindingId },
}

/// A ticket to lock: (tenant, integration, external id).
pub type TicketLookup<'a> = (TenantId, IntegrationId, &'a str);

/// A live link, locked, with its finding's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedLink {
    pub link: TicketLinkRecord,
    pub finding_status: FindingStatus,
    pub local: LocalStatus,
}

/// The writes of a batch, each list applied with one statement.
#[derive(Debug, Default)]
pub struct BatchWrites {
    /// The newest vendor snapshot of each link that moved, with the channel that brought it.
    pub links: Vec<LinkAdvance>,
    /// The vendor-driven status change of each finding that moved.
    pub findings: Vec<VendorStatusChange>,
    /// Activity rows to append, in order.
    pub activity: Vec<(TenantId, NewActivity)>,
}

#[derive(Debug, Clone)]
pub struct LinkAdvance {
    pub tenant: TenantId,
    pub link: TicketLinkId,
    pub snapshot: VendorSnapshot,
    pub channel: SyncChannel,
    /// A version from the future the link held before the batch, which a poll repaired: the link
    /// is written only if it still holds exactly this version (instead of an older one).
    pub replaces: Option<VendorVersion>,
}

#[derive(Debug, Clone, Copy)]
pub struct VendorStatusChange {
    pub tenant: TenantId,
    pub finding: FindingId,
    /// The status the changes were computed from (compare-and-set).
    pub expected: FindingStatus,
    pub to: FindingStatus,
}

fn qualified(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! activity_columns_local {
    () => {
        "id, tenant_id, finding_id, at, channel, actor, kind, from_status, to_status, message, details"
    };
}

static LOCK_SQL: LazyLock<String> = LazyLock::new(|| {
    // Each ticket is looked up by its own probe of the unique (tenant, integration, external id)
    // index, and locked there, in the order given: a LATERAL subquery with LIMIT cannot be turned
    // into a hash join, which the planner otherwise prefers for a few hundred keys against a
    // table of tens of thousands of rows (a whole-table scan per batch).
    format!(
        "SELECT {}, f.status AS finding_status, f.local_status, f.local_status_at
           FROM UNNEST($1::uuid[], $2::uuid[], $3::text[])
                WITH ORDINALITY AS k(tenant_id, integration_id, external_id, ord)
          CROSS JOIN LATERAL (
                SELECT * FROM ticket_links l
                 WHERE l.tenant_id = k.tenant_id AND l.integration_id = k.integration_id
                   AND l.external_id = k.external_id AND l.state = 'live'
                 LIMIT 1
                   FOR UPDATE) l
          CROSS JOIN LATERAL (
                SELECT f.status, f.local_status, f.local_status_at FROM findings f
                 WHERE f.tenant_id = l.tenant_id AND f.id = l.finding_id
                   FOR UPDATE) f
          ORDER BY k.ord",
        qualified(link_columns!(), "l")
    )
});

static DUPLICATES_SQL: LazyLock<String> = LazyLock::new(|| {
    // One probe of the (tenant, finding, at, id) index per event, newest first.
    format!(
        "SELECT k.ord, a.*
           FROM UNNEST($1::uuid[], $2::uuid[], $3::text[]) WITH ORDINALITY AS k(tenant_id, finding_id, event_id, ord)
          CROSS JOIN LATERAL (
                SELECT {} FROM activity a
                 WHERE a.tenant_id = k.tenant_id AND a.finding_id = k.finding_id
                   AND a.details->>'event_id' = k.event_id
                 ORDER BY a.at DESC, a.id DESC
                 LIMIT 1) a",
        qualified(activity_columns_local!(), "a")
    )
});

impl InboundBatch<'_> {
    /// The tenant's live integrations among `keys`, each with the mapping rules it works with
    /// (stored, or the vendor's defaults). Missing and deleted integrations are absent.
    pub async fn integrations(
        mut self,
        keys: &[(TenantId, IntegrationId)],
    ) -> StoreResult<HashMap<(TenantId, IntegrationId), (IntegrationRecord, MappingRules)>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let (tenants, ids): (Vec<Uuid>, Vec<Uuid>) =
            keys.iter().map(|(t, i)| (t.as_uuid(), i.as_uuid())).unzip();
        let mut c = self.conn.acquire().await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            integration_columns!(),
            ", (SELECT m.rules FROM mapping_rules m
                 WHERE m.tenant_id = integrations.tenant_id AND m.integration_id = integrations.id) AS mapping_rules
               FROM integrations
              WHERE (tenant_id, id) IN (SELECT * FROM UNNEST($1::uuid[], $2::uuid[]))
                AND deleted_at IS NULL"
        ))
        .bind(&tenants)
        .bind(&ids)
        .fetch_all(&mut *c)
        .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in rows {
            let record = IntegrationRecord::from_row(&r)?;
            let rules: Option<sqlx::types::Json<serde_json::Value>> = r.try_get("mapping_rules")?;
            let rules = rules
                .map(|v| serde_json::from_value::<MappingRules>(v.0))
                .transpose()
                .map_err(|e| sqlx::Error::ColumnDecode {
                    index: "mapping_rules".to_owned(),
                    source: Box::new(e),
                })?;
            let rules = crate::mapping::or_defaults(rules, record.vendor);
            out.insert((record.tenant_id, record.id), (record, rules));
        }
        Ok(out)
    }

    /// Writes the inbox rows of `consumer` for the events whose ticket has a live link, in one
    /// statement, and says for each event (in the order given) whether it is new. An event id
    /// given twice is new the first time and a duplicate after. Concurrent deliveries of one event
    /// serialize on the inbox key, as with [`Inbox::insert_if_absent`](crate::Inbox).
    pub async fn claim(
        mut self,
        consumer: &str,
        events: &[InboxClaim<'_>],
    ) -> StoreResult<Vec<Claimed>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let tenants: Vec<Uuid> = events.iter().map(|e| e.tenant.as_uuid()).collect();
        let integrations: Vec<Uuid> = events.iter().map(|e| e.integration.as_uuid()).collect();
        let external: Vec<&str> = events.iter().map(|e| e.external_id).collect();
        let event_ids: Vec<&str> = events.iter().map(|e| e.event_id).collect();
        let mut c = self.conn.acquire().await?;
        let rows = sqlx::query(
            "WITH k AS (
                 SELECT * FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], $5::text[])
                          WITH ORDINALITY AS k(tenant_id, integration_id, external_id, event_id, ord)),
             linked AS (
                 SELECT k.ord, k.tenant_id, k.event_id, l.finding_id FROM k
                  CROSS JOIN LATERAL (
                        SELECT l.finding_id FROM ticket_links l
                         WHERE l.tenant_id = k.tenant_id AND l.integration_id = k.integration_id
                           AND l.external_id = k.external_id AND l.state = 'live'
                         LIMIT 1) l),
             ins AS (
                 INSERT INTO inbox (consumer, event_id, tenant_id)
                 SELECT $1, event_id, tenant_id
                   FROM (SELECT DISTINCT ON (event_id) event_id, tenant_id, ord FROM linked
                          ORDER BY event_id, ord) first
                  ORDER BY ord
                 ON CONFLICT DO NOTHING
                 RETURNING event_id)
             -- Two kinds of rows, matched up below: a membership test in SQL (`IN (SELECT ...
             -- FROM ins)`) is planned as a rescan of `ins` per linked row, quadratic in the batch.
             SELECT ord, finding_id, NULL::text AS inserted_event FROM linked
             UNION ALL
             SELECT NULL, NULL, event_id FROM ins",
        )
        .bind(consumer)
        .bind(&tenants)
        .bind(&integrations)
        .bind(&external)
        .bind(&event_ids)
        .fetch_all(&mut *c)
        .await?;
        let mut inserted = std::collections::HashSet::new();
        let mut linked = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(event_id) = r.try_get::<Option<String>, _>("inserted_event")? {
                inserted.insert(event_id);
                continue;
            }
            let ord: i64 = r.try_get("ord")?;
            let i = usize::try_from(ord - 1).map_err(|_| StoreError::Corrupt {
                what: format!("inbox claim returned ordinal {ord}"),
            })?;
            linked.push((i, row::id(&r, "finding_id", FindingId::from_uuid)?));
        }
        linked.sort_unstable_by_key(|(i, _)| *i);
        let mut out = vec![Claimed::Unlinked; events.len()];
        for (i, finding) in linked {
            let Some(slot) = out.get_mut(i) else { continue };
            // The first event of the batch with an id the inbox took is new; any other is a
            // duplicate (of an earlier delivery, or of that first event).
            *slot = if inserted.remove(events[i].event_id) {
                Claimed::New { finding }
            } else {
                Claimed::Duplicate { finding }
            };
        }
        Ok(out)
    }

    /// Locks the live links of `tickets` and their findings until the transaction ends, in ticket
    /// order, and returns them with the findings' statuses. Tickets without a live link (any more)
    /// are absent.
    pub async fn lock_live_links(
        mut self,
        tickets: &[TicketLookup<'_>],
    ) -> StoreResult<HashMap<(TenantId, IntegrationId, String), LockedLink>> {
        if tickets.is_empty() {
            return Ok(HashMap::new());
        }
        // The statement locks in the order given; one order for every batch (uuids and external
        // ids compare bytewise here as in PostgreSQL) makes concurrent batches queue, not deadlock.
        let mut tickets = tickets.to_vec();
        tickets.sort_unstable();
        tickets.dedup();
        let tenants: Vec<Uuid> = tickets.iter().map(|t| t.0.as_uuid()).collect();
        let integrations: Vec<Uuid> = tickets.iter().map(|t| t.1.as_uuid()).collect();
        let external: Vec<&str> = tickets.iter().map(|t| t.2).collect();
        let mut c = self.conn.acquire().await?;
        let rows = sqlx::query(LOCK_SQL.as_str())
            .bind(&tenants)
            .bind(&integrations)
            .bind(&external)
            .fetch_all(&mut *c)
            .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in rows {
            let link = TicketLinkRecord::from_row(&r)?;
            let locked = LockedLink {
                finding_status: row::vocab(&r, "finding_status")?,
                local: LocalStatus {
                    status: row::vocab(&r, "local_status")?,
                    set_at: r.try_get("local_status_at")?,
                },
                link,
            };
            let Some(external_id) = locked.link.external_id.as_ref() else {
                continue;
            };
            out.insert(
                (
                    locked.link.tenant_id,
                    locked.link.integration_id,
                    external_id.as_str().to_owned(),
                ),
                locked,
            );
        }
        Ok(out)
    }

    /// Applies `writes` with three statements and returns the activity rows written, in the order
    /// given. A link whose version guard fails, or a finding whose status is not the expected one,
    /// is `Conflict` (something changed concurrently): roll back and retry.
    pub async fn write(mut self, writes: &BatchWrites) -> StoreResult<Vec<ActivityRecord>> {
        let mut c = self.conn.acquire().await?;
        if !writes.links.is_empty() {
            let l = &writes.links;
            let updated = sqlx::query(
                "UPDATE ticket_links l
                    SET vendor_state = u.state, vendor_updated_at = u.at, vendor_sequence = u.seq,
                        last_sync_channel = u.channel, last_synced_at = now(), updated_at = now()
                   FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::int8[], $6::text[],
                               $7::timestamptz[], $8::int8[])
                        AS u(tenant_id, id, state, at, seq, channel, replaces_at, replaces_seq)
                  WHERE l.id = ANY($2) AND l.tenant_id = u.tenant_id AND l.id = u.id AND l.state = 'live'
                    AND CASE WHEN u.replaces_at IS NULL
                             THEN l.vendor_updated_at IS NULL
                                  OR (l.vendor_updated_at, l.vendor_sequence) < (u.at, u.seq)
                             ELSE (l.vendor_updated_at, l.vendor_sequence) = (u.replaces_at, u.replaces_seq)
                        END",
            )
            .bind(l.iter().map(|w| w.tenant.as_uuid()).collect::<Vec<_>>())
            .bind(l.iter().map(|w| w.link.as_uuid()).collect::<Vec<_>>())
            .bind(l.iter().map(|w| w.snapshot.state.as_str()).collect::<Vec<_>>())
            .bind(l.iter().map(|w| w.snapshot.version.updated_at()).collect::<Vec<_>>())
            .bind(l.iter().map(|w| w.snapshot.version.sequence()).collect::<Vec<_>>())
            .bind(l.iter().map(|w| w.channel.as_str()).collect::<Vec<_>>())
            .bind(l.iter().map(|w| w.replaces.map(|v| v.updated_at())).collect::<Vec<_>>())
            .bind(l.iter().map(|w| w.replaces.map(|v| v.sequence())).collect::<Vec<_>>())
            .execute(&mut *c)
            .await?
            .rows_affected();
            if updated != l.len() as u64 {
                return Err(StoreError::conflict(format!(
                    "{} of {} ticket links changed concurrently; try again",
                    l.len() as u64 - updated,
                    l.len()
                )));
            }
        }
        if !writes.findings.is_empty() {
            let f = &writes.findings;
            let updated = sqlx::query(
                "UPDATE findings f SET status = u.to_status, updated_at = now()
                   FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[])
                        AS u(tenant_id, id, expected, to_status)
                  WHERE f.id = ANY($2) AND f.tenant_id = u.tenant_id AND f.id = u.id
                    AND f.status = u.expected",
            )
            .bind(f.iter().map(|w| w.tenant.as_uuid()).collect::<Vec<_>>())
            .bind(f.iter().map(|w| w.finding.as_uuid()).collect::<Vec<_>>())
            .bind(f.iter().map(|w| w.expected.as_str()).collect::<Vec<_>>())
            .bind(f.iter().map(|w| w.to.as_str()).collect::<Vec<_>>())
            .execute(&mut *c)
            .await?
            .rows_affected();
            if updated != f.len() as u64 {
                return Err(StoreError::conflict(format!(
                    "{} of {} findings changed concurrently; try again",
                    f.len() as u64 - updated,
                    f.len()
                )));
            }
        }
        if writes.activity.is_empty() {
            return Ok(Vec::new());
        }
        let a = &writes.activity;
        let ids: Vec<Uuid> = a.iter().map(|_| ActivityId::new().as_uuid()).collect();
        let details = a
            .iter()
            .map(|(_, e)| serde_json::to_string(&e.details))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Invalid {
                what: format!("activity details: {e}"),
            })?;
        // Only what the database chooses comes back (the row's time); the rest of each record is
        // what was sent. Returning whole rows made PostgreSQL render every `details` document
        // and the applier parse it again, for each event.
        let rows: Vec<(Uuid, OffsetDateTime)> = sqlx::query_as(
            "INSERT INTO activity (id, tenant_id, finding_id, channel, actor, kind, from_status, to_status,
                                   message, details)
             SELECT u.id, f.tenant_id, f.id, u.channel, u.actor, u.kind, u.from_status, u.to_status,
                    u.message, u.details::jsonb
               FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                           $7::text[], $8::text[], $9::text[], $10::text[])
                    WITH ORDINALITY AS u(id, tenant_id, finding_id, channel, actor, kind, from_status,
                                         to_status, message, details, ord)
               JOIN findings f ON f.id = ANY($3) AND f.tenant_id = u.tenant_id AND f.id = u.finding_id
              ORDER BY u.ord
             RETURNING id, at",
        )
        .bind(&ids)
        .bind(a.iter().map(|(t, _)| t.as_uuid()).collect::<Vec<_>>())
        .bind(a.iter().map(|(_, e)| e.finding_id.as_uuid()).collect::<Vec<_>>())
        .bind(a.iter().map(|(_, e)| e.channel.as_str()).collect::<Vec<_>>())
        .bind(a.iter().map(|(_, e)| e.actor.as_str()).collect::<Vec<_>>())
        .bind(a.iter().map(|(_, e)| e.kind.as_str()).collect::<Vec<_>>())
        .bind(a.iter().map(|(_, e)| e.from_status.map(|s| s.as_str())).collect::<Vec<_>>())
        .bind(a.iter().map(|(_, e)| e.to_status.map(|s| s.as_str())).collect::<Vec<_>>())
        .bind(a.iter().map(|(_, e)| e.message.as_str()).collect::<Vec<_>>())
        .bind(&details)
        .fetch_all(&mut *c)
        .await?;
        let at: HashMap<Uuid, OffsetDateTime> = rows.into_iter().collect();
        ids.iter()
            .zip(a)
            .map(|(id, (tenant, e))| {
                let at = at
                    .get(id)
                    .ok_or_else(|| StoreError::not_found("finding", e.finding_id))?;
                Ok(ActivityRecord {
                    id: ActivityId::from_uuid(*id),
                    tenant_id: *tenant,
                    finding_id: e.finding_id,
                    at: *at,
                    channel: e.channel,
                    actor: e.actor.clone(),
                    kind: e.kind,
                    from_status: e.from_status,
                    to_status: e.to_status,
                    message: e.message.clone(),
                    details: e.details.clone(),
                })
            })
            .collect()
    }

    /// For each (tenant, finding, event id), the newest activity row written for that event (the
    /// batch form of [`Activity::find_by_event`](crate::Activity::find_by_event)), in the order
    /// given.
    pub async fn activity_for_events(
        mut self,
        events: &[(TenantId, FindingId, &str)],
    ) -> StoreResult<Vec<Option<ActivityRecord>>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.conn.acquire().await?;
        let rows = sqlx::query(DUPLICATES_SQL.as_str())
            .bind(events.iter().map(|e| e.0.as_uuid()).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.1.as_uuid()).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.2).collect::<Vec<_>>())
            .fetch_all(&mut *c)
            .await?;
        let mut out = vec![None; events.len()];
        for r in rows {
            let ord: i64 = r.try_get("ord")?;
            if let Some(slot) = usize::try_from(ord - 1).ok().and_then(|i| out.get_mut(i)) {
                *slot = Some(ActivityRecord::from_row(&r)?);
            }
        }
        Ok(out)
    }
}
