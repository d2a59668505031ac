//! The metrics this service records.

pub fn describe() {
    metrics::describe_counter!(
        "lockstep_events_total",
        "Events handled by a consumer, by outcome: applied, duplicate, stale, ignored, retried, dead_lettered"
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
