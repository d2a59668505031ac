//! The poller's metrics. Names carry their unit; labels stay low-cardinality except the SLA gauge,
//! which is per integration (one series per configured integration).

use std::time::Duration;

use lockstep_domain::{IntegrationId, TenantId};

pub const CYCLE_DURATION: &str = "lockstep_poll_cycle_duration_seconds";
pub const POLLS: &str = "lockstep_polls_total";
pub const OBSERVATIONS: &str = "lockstep_poll_observations_per_cycle";
pub const TICKETS_READ: &str = "lockstep_poll_tickets_read_total";
pub const TICKETS_CHANGED: &str = "lockstep_poll_tickets_changed_total";
pub const INTEGRATIONS_FAILING: &str = "lockstep_poll_integrations_failing";
pub const SLA_BREACHED: &str = "lockstep_sla_breached_links";
pub const SLA_REFRESH_ERRORS: &str = "lockstep_sla_refresh_errors_total";
pub const LEASES_LOST: &str = "lockstep_poll_leases_lost_total";

pub fn describe() {
    metrics::describe_histogram!(
        CYCLE_DURATION,
        metrics::Unit::Seconds,
        "Time of one integration's poll: change feed, SLA reads, publishing, recording"
    );
    metrics::describe_counter!(POLLS, "Integration polls by outcome (ok, failed, timeout)");
    metrics::describe_histogram!(
        OBSERVATIONS,
        "Observations published per integration poll (tickets changed since the last one)"
    );
    metrics::describe_counter!(TICKETS_READ, "Tickets the change feeds returned");
    metrics::describe_counter!(TICKETS_CHANGED, "Tickets whose vendor state was news");
    metrics::describe_gauge!(
        INTEGRATIONS_FAILING,
        "Active integrations whose last poll failed (all replicas)"
    );
    metrics::describe_gauge!(
        SLA_BREACHED,
        "Live ticket links with a breached SLA, per integration"
    );
    metrics::describe_counter!(
        SLA_REFRESH_ERRORS,
        "SLA reads that failed (the poll went on)"
    );
    metrics::describe_counter!(
        LEASES_LOST,
        "Polls whose lease expired before they recorded their outcome"
    );
}

pub fn poll_finished(outcome: &'static str, took: Duration, published: usize, read: usize) {
    metrics::counter!(POLLS, "outcome" => outcome).increment(1);
    metrics::histogram!(CYCLE_DURATION).record(took.as_secs_f64());
    if outcome == "ok" {
        metrics::histogram!(OBSERVATIONS).record(published as f64);
        metrics::counter!(TICKETS_READ).increment(read as u64);
        metrics::counter!(TICKETS_CHANGED).increment(published as u64);
    }
}

pub fn sla_breached(tenant: TenantId, integration: IntegrationId, count: i64) {
    metrics::gauge!(SLA_BREACHED, "tenant" => tenant.to_string(), "integration" => integration.to_string())
        .set(count as f64);
}
