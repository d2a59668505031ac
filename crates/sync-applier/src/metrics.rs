//! The metrics this service records.

pub fn describe() {
    metrics::describe_counter!(
        "lockstep_events_total",
        "Events handled by a consumer, by outcome: applied, duplicate, stale, refused, ignored, retried, dead_lettered"
    );
    metrics::describe_counter!(
        "lockstep_vendor_versions_refused_total",
        "Observations refused because their vendor version lies more than applier.max_clock_skew ahead of the clock, by channel"
    );
    metrics::describe_histogram!(
        "lockstep_sync_lag_seconds",
        metrics::Unit::Seconds,
        "From the vendor's change (its update time) to the change being committed, by channel"
    );
    metrics::describe_histogram!(
        "lockstep_applier_batch_seconds",
        metrics::Unit::Seconds,
        "Time to apply, commit, publish and acknowledge one fetched batch"
    );
}
