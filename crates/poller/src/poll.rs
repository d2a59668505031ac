//! One integration's poll, from a held lease to a recorded outcome.
//!
//! 1. Read the change feed since `watermark − overlap`, only in the tables the integration has
//!    links in (no links, no vendor call).
//! 2. Keep the news: tickets with a live link whose stored vendor version is older than the one
//!    read, or lies in the future (so the applier can repair it); re-reads inside the overlap
//!    window and tickets Lockstep does not track are dropped.
//! 3. Read the SLAs of the changed tickets (vendor requests scale with changes, not tickets) and
//!    store them on the links; an SLA failure is logged and counted, never fatal.
//! 4. Publish every change to `observed.<tenant>.<integration>` with a stable event id and wait
//!    for every acknowledgement.
//! 5. Only then record success, which moves the watermark forward, schedules the next poll and
//!    releases the lease. Any failure before that leaves the watermark where it was: the next
//!    attempt reads the same changes again, and their stable ids make the re-publish harmless.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use lockstep_connectors::{ConnectorError, FeedBatch};
use lockstep_domain::{
    IntegrationId, TenantId, TicketLinkId, TicketObservation, TicketTarget, VendorVersion,
};
use lockstep_proto::v1;
use lockstep_service_kit::vendor;
use lockstep_store::{ClaimedPoll, StoreError};
use time::OffsetDateTime;
use tracing::Instrument;

use crate::Poller;
use crate::backoff::retry_delay;
use crate::metrics;
use crate::sla;

/// Where the first poll of an integration starts, before its creation (clock skew margin).
pub const FIRST_POLL_LOOKBACK: Duration = Duration::from_secs(3600);

/// What one poll did.
#[derive(Debug, Clone, PartialEq)]
pub struct PollReport {
    pub tenant: TenantId,
    pub integration: IntegrationId,
    pub outcome: Result<PollSuccess, PollFailure>,
    pub took: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PollSuccess {
    /// Tickets the change feed returned.
    pub tickets_read: usize,
    /// Tickets whose state was news; one observation published each.
    pub tickets_changed: usize,
    /// Links whose SLA was written.
    pub slas_updated: usize,
    /// The watermark recorded.
    pub watermark: Option<OffsetDateTime>,
    /// Vendor requests made by the change feed (pages).
    pub feed_pages: u32,
    /// The lease expired before the outcome was recorded (another replica may have polled too;
    /// the stable event ids make that harmless).
    pub lease_lost: bool,
}

/// Why a poll failed. The watermark stays where it was; the next attempt reads the same changes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PollFailure {
    /// The integration cannot be used as stored (inactive, credentials unreadable, ...).
    #[error("{0}")]
    Integration(ConnectorError),
    /// A link names a table or project its vendor does not have (a corrupt row: it is reported
    /// rather than skipped, so no ticket silently stops syncing).
    #[error("a ticket link names {container:?}, which this integration cannot poll: {reason}")]
    Container { container: String, reason: String },
    #[error("vendor: {0}")]
    Vendor(ConnectorError),
    #[error("database: {0}")]
    Database(String),
    #[error("publishing observations: {0}")]
    Publish(String),
    #[error("the poll did not finish within {0:?} (slow vendor?)")]
    Timeout(Duration),
    #[error("recording the poll failed: {0}")]
    Record(String),
}

impl PollFailure {
    /// How long the vendor asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PollFailure::Vendor(e) => e.retry_after(),
            _ => None,
        }
    }
}

impl From<ConnectorError> for PollFailure {
    fn from(e: ConnectorError) -> Self {
        PollFailure::Vendor(e)
    }
}

impl From<StoreError> for PollFailure {
    fn from(e: StoreError) -> Self {
        PollFailure::Database(e.to_string())
    }
}

/// The dedupe id of an observation: the same ticket version read by any replica, any number of
/// times, gets the same id (`Nats-Msg-Id` and the applier's inbox key).
pub fn event_id(integration: IntegrationId, obs: &TicketObservation) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(integration.as_uuid().as_bytes());
    ctx.update(obs.ticket.external_id().as_str().as_bytes());
    ctx.update(&[0]);
    ctx.update(
        &obs.version
            .updated_at()
            .unix_timestamp_nanos()
            .to_be_bytes(),
    );
    ctx.update(&obs.version.sequence().to_be_bytes());
    format!("poll-{}", hex::encode(&ctx.finish().as_ref()[..16]))
}

/// The watermark to store after a feed run: the newest change read, or — when the run was complete
/// and that is older — the whole second before `read_started − overlap`. Without that floor a
/// quiet integration would re-read its last changes forever (each poll reads from `watermark −
/// overlap`); with it, a poll re-reads at most two overlaps plus the interval. It assumes our
/// clock is within one overlap of the vendor's (NTP).
fn next_watermark(
    batch: &FeedBatch,
    read_started: OffsetDateTime,
    overlap: Duration,
) -> OffsetDateTime {
    if !batch.complete {
        return batch.next_watermark;
    }
    let floor = read_started - overlap - Duration::from_secs(1);
    let floor = floor.replace_nanosecond(0).unwrap_or(floor);
    batch.next_watermark.max(floor)
}

/// Whether a reading of `read` is news to a link holding `held`: the link holds no version yet,
/// an older one, or one lying after `now` (frozen by a version from the future, which the
/// applier repairs from a read of the vendor's record).
pub(crate) fn is_news(
    held: Option<VendorVersion>,
    read: VendorVersion,
    now: OffsetDateTime,
) -> bool {
    held.is_none_or(|held| read > held || held.lies_after(now))
}

/// The newest observation per ticket whose live link holds an older version (or none yet), or a
/// version that lies after `now`: a link frozen by a version from the future is repaired by a poll
/// observation (the sync-applier decides, under its clock-skew setting; see
/// `lockstep_domain::transition`).
fn news(
    observations: Vec<TicketObservation>,
    live: &HashMap<String, lockstep_store::LiveVersion>,
    now: OffsetDateTime,
) -> Vec<(TicketObservation, TicketLinkId)> {
    let mut newest: HashMap<String, (TicketObservation, TicketLinkId)> = HashMap::new();
    for obs in observations {
        let external = obs.ticket.external_id().as_str();
        let Some(link) = live.get(external) else {
            continue;
        };
        if !is_news(link.version, obs.version, now) {
            continue;
        }
        match newest.get(external) {
            Some((seen, _)) if seen.version >= obs.version => {}
            _ => {
                newest.insert(external.to_owned(), (obs, link.link_id));
            }
        }
    }
    let mut out: Vec<_> = newest.into_values().collect();
    out.sort_by_key(|(obs, _)| obs.version);
    out
}

impl Poller {
    /// Polls an integration whose lease this replica holds, within the poll timeout, and records
    /// the outcome (which releases the lease).
    pub async fn poll_claimed(&self, claimed: ClaimedPoll) -> PollReport {
        let started = Instant::now();
        let rec = &claimed.integration;
        let (tenant, integration) = (rec.tenant_id, rec.id);
        let settings = &self.inner.settings;
        let span = tracing::info_span!("poll", %tenant, %integration, name = %rec.name);
        let body = self.poll_body(&claimed).instrument(span);
        let result = match tokio::time::timeout(settings.poll_timeout, body).await {
            Ok(result) => result,
            Err(_) => Err(PollFailure::Timeout(settings.poll_timeout)),
        };
        let now = OffsetDateTime::now_utc();
        let store = &self.inner.store;
        let owner = self.owner();
        let outcome = match result {
            Ok(mut success) => {
                let next = now + rec.settings.poll_interval();
                match store
                    .poll_state()
                    .record_success(tenant, integration, owner, success.watermark, next)
                    .await
                {
                    Ok(held) => {
                        success.lease_lost = !held;
                        if !held {
                            ::metrics::counter!(metrics::LEASES_LOST).increment(1);
                            tracing::warn!(%integration, "the lease expired before the poll was recorded");
                        }
                        Ok(success)
                    }
                    Err(e) => Err(PollFailure::Record(e.to_string())),
                }
            }
            Err(err) => {
                let failures = u32::try_from(claimed.consecutive_failures.max(0)).unwrap_or(0) + 1;
                let delay = retry_delay(
                    failures,
                    settings.backoff_base,
                    settings.backoff_max,
                    err.retry_after(),
                    rand::random::<f64>(),
                );
                tracing::warn!(%integration, failures, retry_in = ?delay, error = %err, "poll failed");
                if let Err(e) = store
                    .poll_state()
                    .record_failure(tenant, integration, owner, &err.to_string(), now + delay)
                    .await
                {
                    tracing::error!(%integration, error = %e, "recording a failed poll failed");
                }
                Err(err)
            }
        };
        let took = started.elapsed();
        match &outcome {
            Ok(s) => {
                metrics::poll_finished("ok", took, s.tickets_changed, s.tickets_read);
                tracing::debug!(%integration, read = s.tickets_read, changed = s.tickets_changed, ?took, "polled");
            }
            Err(_) => metrics::poll_finished("failed", took, 0, 0),
        }
        PollReport {
            tenant,
            integration,
            outcome,
            took,
        }
    }

    async fn poll_body(&self, claimed: &ClaimedPoll) -> Result<PollSuccess, PollFailure> {
        let rec = &claimed.integration;
        let (tenant, integration) = (rec.tenant_id, rec.id);
        let store = &self.inner.store;
        let connectors = &self.inner.connectors;
        let client = connectors
            .connector(&vendor::access(rec))
            .map_err(PollFailure::Integration)?;
        let spec = connectors
            .registry()
            .spec(rec.vendor)
            .map_err(PollFailure::Integration)?;
        let tables: Vec<TicketTarget> = store
            .links()
            .active_containers(tenant, integration)
            .await?
            .iter()
            .map(|c| {
                spec.parse_container(c).map_err(|e| PollFailure::Container {
                    container: c.clone(),
                    reason: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        let mut success = PollSuccess {
            watermark: claimed.watermark,
            ..PollSuccess::default()
        };
        if tables.is_empty() {
            return Ok(success);
        }
        let since = claimed
            .watermark
            .unwrap_or(rec.created_at - FIRST_POLL_LOOKBACK);
        let overlap = self.inner.settings.overlap;
        let read_started = OffsetDateTime::now_utc();
        let batch = client.changes_since(since, overlap, &tables).await?;
        success.tickets_read = batch.observations.len();
        success.feed_pages = batch.pages;
        let ids: Vec<&str> = batch
            .observations
            .iter()
            .map(|o| o.ticket.external_id().as_str())
            .collect();
        let live = store
            .links()
            .live_versions(tenant, integration, &ids)
            .await?;
        let mut changes = news(batch.observations.clone(), &live, read_started);
        success.tickets_changed = changes.len();
        if let Some(slas) = client.sla() {
            success.slas_updated +=
                sla::refresh_changed(self, slas, tenant, integration, &mut changes).await;
        }
        self.publish(tenant, integration, &changes).await?;
        if let Some(slas) = client.sla() {
            success.slas_updated += sla::sweep_if_due(self, slas, tenant, integration).await;
        }
        success.watermark = Some(next_watermark(&batch, read_started, overlap));
        Ok(success)
    }

    /// Publishes every change and waits for every acknowledgement; the first failure fails the
    /// poll (the watermark then stays, so nothing is lost).
    async fn publish(
        &self,
        tenant: TenantId,
        integration: IntegrationId,
        changes: &[(TicketObservation, TicketLinkId)],
    ) -> Result<(), PollFailure> {
        let bus = &self.inner.bus;
        let subject = bus.subjects().observed(tenant, integration);
        // Owned futures: each one holds its event, the subject and a bus handle.
        let publishes: Vec<_> = changes
            .iter()
            .map(|(obs, _)| {
                let event = v1::TicketObserved {
                    event_id: event_id(integration, obs),
                    tenant_id: tenant.to_string(),
                    integration_id: integration.to_string(),
                    observation: Some(obs.into()),
                    channel: String::new(),
                };
                let (bus, subject) = (bus.clone(), subject.clone());
                async move { bus.publish(&subject, &event).await }
            })
            .collect();
        stream::iter(publishes)
            .buffer_unordered(self.inner.settings.publish_concurrency)
            .try_for_each(|_| async { Ok(()) })
            .await
            .map_err(|e| PollFailure::Publish(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_domain::{ObservedFields, TicketRef, Vendor, VendorVersion};
    use lockstep_store::LiveVersion;
    use time::macros::datetime;

    fn obs(external_id: &str, secs: i64, seq: i64) -> TicketObservation {
        TicketObservation {
            ticket: TicketRef::parse(Vendor::ServiceNow, "incident", external_id, "INC0010001")
                .unwrap(),
            vendor_state: "2".into(),
            vendor_state_label: None,
            vendor_state_category: None,
            resolution: None,
            version: VendorVersion::new(
                datetime!(2026-11-01 10:00 UTC) + time::Duration::seconds(secs),
                seq,
            ),
            actor: None,
            observed_at: datetime!(2026-11-01 10:05 UTC),
            fields: ObservedFields::default(),
        }
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "cccccccccccccccccccccccccccccccc";

    #[test]
    fn event_ids_are_stable_per_ticket_version_and_integration() {
        let i = IntegrationId::new();
        assert_eq!(event_id(i, &obs(A, 0, 1)), event_id(i, &obs(A, 0, 1)));
        assert_ne!(event_id(i, &obs(A, 0, 1)), event_id(i, &obs(A, 0, 2)));
        assert_ne!(event_id(i, &obs(A, 0, 1)), event_id(i, &obs(A, 1, 1)));
        assert_ne!(event_id(i, &obs(A, 0, 1)), event_id(i, &obs(B, 0, 1)));
        assert_ne!(
            event_id(i, &obs(A, 0, 1)),
            event_id(IntegrationId::new(), &obs(A, 0, 1))
        );
        assert!(event_id(i, &obs(A, 0, 1)).starts_with("poll-"));
    }

    #[test]
    fn news_keeps_the_newest_unseen_version_of_tracked_tickets() {
        let (la, lb) = (TicketLinkId::new(), TicketLinkId::new());
        let live = HashMap::from([
            (
                A.to_owned(),
                LiveVersion {
                    link_id: la,
                    version: Some(obs(A, 5, 3).version),
                },
            ),
            (
                B.to_owned(),
                LiveVersion {
                    link_id: lb,
                    version: None,
                },
            ),
        ]);
        let got = news(
            vec![
                obs(A, 5, 3), // what we hold: a re-read
                obs(A, 5, 4), // same second, newer sequence: news
                obs(B, 1, 1),
                obs(B, 2, 2), // the newest of B wins
                obs(C, 9, 9), // untracked
            ],
            &live,
            datetime!(2026-11-01 10:05 UTC),
        );
        let got: Vec<_> = got
            .iter()
            .map(|(o, l)| {
                (
                    o.ticket.external_id().as_str().to_owned(),
                    o.version.sequence(),
                    *l,
                )
            })
            .collect();
        assert_eq!(got, vec![(B.to_owned(), 2, lb), (A.to_owned(), 4, la)]);
    }

    #[test]
    fn news_keeps_older_readings_of_a_ticket_whose_link_holds_a_version_from_the_future() {
        let link = TicketLinkId::new();
        let frozen = VendorVersion::new(datetime!(2099-01-01 00:00 UTC), 0);
        let live = HashMap::from([(
            A.to_owned(),
            LiveVersion {
                link_id: link,
                version: Some(frozen),
            },
        )]);
        let now = datetime!(2026-11-01 10:05 UTC);
        let got = news(vec![obs(A, 60, 7)], &live, now);
        assert_eq!(
            got.len(),
            1,
            "the poll reading goes to the applier to repair the link"
        );
        // Once the link holds a version of the past again, an older reading is a re-read.
        let live = HashMap::from([(
            A.to_owned(),
            LiveVersion {
                link_id: link,
                version: Some(obs(A, 60, 7).version),
            },
        )]);
        assert!(news(vec![obs(A, 60, 7)], &live, now).is_empty());
    }
}
