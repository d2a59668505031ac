//! The schedule: claim due integrations as polling slots free up, poll each in its own task.
//!
//! A replica never holds more than `max_concurrent_polls` leases, claims only as many as it has
//! free slots (so a busy replica leaves due work to idle ones), and a slow or failing vendor
//! occupies one slot for at most `poll_timeout` while the others keep being polled.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lockstep_domain::{IntegrationId, TenantId};
use lockstep_platform::Shutdown;
use lockstep_store::{ClaimedPoll, StoreError};
use tokio::task::JoinHandle;

use crate::poll::PollReport;
use crate::{Poller, metrics};

/// How often the `integrations failing` gauge is refreshed.
const FAILING_GAUGE_EVERY: Duration = Duration::from_secs(15);

/// What [`Poller::run_due_once`] did.
#[derive(Debug, Clone, Default)]
pub struct CycleReport {
    pub reports: Vec<PollReport>,
    pub took: Duration,
}

impl CycleReport {
    pub fn polled(&self) -> usize {
        self.reports.len()
    }

    pub fn failed(&self) -> usize {
        self.reports.iter().filter(|r| r.outcome.is_err()).count()
    }

    pub fn tickets_changed(&self) -> usize {
        self.ok().map(|s| s.tickets_changed).sum()
    }

    pub fn tickets_read(&self) -> usize {
        self.ok().map(|s| s.tickets_read).sum()
    }

    pub fn feed_pages(&self) -> u64 {
        self.ok().map(|s| u64::from(s.feed_pages)).sum()
    }

    pub fn report(&self, tenant: TenantId, integration: IntegrationId) -> Option<&PollReport> {
        self.reports
            .iter()
            .find(|r| r.tenant == tenant && r.integration == integration)
    }

    fn ok(&self) -> impl Iterator<Item = &crate::PollSuccess> {
        self.reports.iter().filter_map(|r| r.outcome.as_ref().ok())
    }
}

impl Poller {
    /// Polls every integration due now (claiming in slots of `max_concurrent_polls`) and returns
    /// when all are done: one cycle, for tests, benchmarks and `lockstep up`'s first pass.
    pub async fn run_due_once(&self) -> Result<CycleReport, StoreError> {
        let started = Instant::now();
        let mut running: FuturesUnordered<JoinHandle<PollReport>> = FuturesUnordered::new();
        let mut reports = Vec::new();
        let mut exhausted = false;
        loop {
            if !exhausted {
                let claimed = self.claim_free_slots(running.len()).await?;
                exhausted = claimed.is_empty() && running.is_empty();
                for task in self.spawn_polls(claimed) {
                    running.push(task);
                }
            }
            match running.next().await {
                Some(Ok(report)) => reports.push(report),
                Some(Err(e)) => tracing::error!(error = %e, "a poll task panicked"),
                None if exhausted => break,
                None => exhausted = true,
            }
        }
        Ok(CycleReport {
            reports,
            took: started.elapsed(),
        })
    }

    /// Runs the schedule until `shutdown`, then waits (at most `poll_timeout`) for the polls in
    /// flight so their outcomes are recorded and their leases released.
    pub async fn run(&self, shutdown: Shutdown) {
        let mut running: FuturesUnordered<JoinHandle<PollReport>> = FuturesUnordered::new();
        let mut gauge_at = Instant::now() - FAILING_GAUGE_EVERY;
        let tick = self.inner.settings.tick;
        tracing::info!(owner = self.owner(), "poll scheduler started");
        while !shutdown.is_triggered() {
            match self.claim_free_slots(running.len()).await {
                Ok(claimed) => {
                    for task in self.spawn_polls(claimed) {
                        running.push(task);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming due integrations failed"),
            }
            if gauge_at.elapsed() >= FAILING_GAUGE_EVERY {
                gauge_at = Instant::now();
                self.refresh_failing_gauge().await;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(_) = running.next(), if !running.is_empty() => {}
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(tick) => {}
            }
        }
        let drain = async { while running.next().await.is_some() {} };
        if tokio::time::timeout(self.inner.settings.poll_timeout, drain)
            .await
            .is_err()
        {
            tracing::warn!("polls still running at shutdown were abandoned; their leases expire");
        }
        tracing::info!("poll scheduler stopped");
    }

    async fn refresh_failing_gauge(&self) {
        match self
            .inner
            .store
            .poll_state()
            .count_failing_across_tenants()
            .await
        {
            Ok(n) => ::metrics::gauge!(metrics::INTEGRATIONS_FAILING).set(n as f64),
            Err(e) => tracing::warn!(error = %e, "counting failing integrations failed"),
        }
    }

    /// Claims as many due integrations as there are free slots.
    async fn claim_free_slots(&self, busy: usize) -> Result<Vec<ClaimedPoll>, StoreError> {
        let settings = &self.inner.settings;
        let free = settings.max_concurrent_polls.saturating_sub(busy);
        if free == 0 {
            return Ok(Vec::new());
        }
        self.inner
            .store
            .poll_state()
            .claim_due_across_tenants(
                self.owner(),
                settings.lease_ttl,
                u32::try_from(free).unwrap_or(u32::MAX),
            )
            .await
    }

    fn spawn_polls(&self, claimed: Vec<ClaimedPoll>) -> Vec<JoinHandle<PollReport>> {
        claimed
            .into_iter()
            .map(|c| {
                let poller = self.clone();
                tokio::spawn(async move { poller.poll_claimed(c).await })
            })
            .collect()
    }
}
