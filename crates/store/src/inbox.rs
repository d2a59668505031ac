//! The inbox: ids of events a consumer has already applied.
//!
//! Use it inside the transaction that applies the event: `insert_if_absent` first, and apply the
//! event only when it returns `true`. A redelivery (JetStream is at-least-once) then finds the id,
//! gets `false`, and is acknowledged without a second effect. Because the row and the effect commit
//! together, a crash can never record one without the other.

use lockstep_domain::TenantId;
use time::OffsetDateTime;

use crate::conn::area_handle;
use crate::error::StoreResult;

area_handle!(
    /// The consumer inbox (`store.inbox()` / `tx.inbox()`).
    Inbox
);

impl Inbox<'_> {
    /// Records that `consumer` processed `event_id`; `false` if it already had.
    ///
    /// Two concurrent deliveries of one event serialize on the primary key: the second waits for
    /// the first transaction and then gets `false` (or `true` if the first rolled back).
    pub async fn insert_if_absent(
        mut self,
        tenant: TenantId,
        consumer: &str,
        event_id: &str,
    ) -> StoreResult<bool> {
        let mut c = self.conn.acquire().await?;
        let inserted = sqlx::query(
            "INSERT INTO inbox (consumer, event_id, tenant_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(consumer)
        .bind(event_id)
        .bind(tenant.as_uuid())
        .execute(&mut *c)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Maintenance: forgets ids processed before `cutoff`, which must be older than the longest
    /// time an event can be redelivered (JetStream's duplicate window, vendors' retry horizon).
    /// It reads nothing and spans all tenants, like any retention job. Returns the rows removed.
    pub async fn prune_processed_before(mut self, cutoff: OffsetDateTime) -> StoreResult<u64> {
        let mut c = self.conn.acquire().await?;
        let done = sqlx::query("DELETE FROM inbox WHERE processed_at < $1")
            .bind(cutoff)
            .execute(&mut *c)
            .await?;
        Ok(done.rows_affected())
    }
}
