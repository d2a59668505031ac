//! The metrics this service records.

/// Registers descriptions (shown as `# HELP` on `/metrics`).
pub fn describe() {
    metrics::describe_counter!(
        "lockstep_webhook_requests_total",
        "Webhook deliveries by vendor, outcome (accepted, rejected, invalid, throttled, unavailable) and reason"
    );
    metrics::describe_histogram!(
        "lockstep_webhook_response_seconds",
        metrics::Unit::Seconds,
        "Time from request to answer, by outcome"
    );
    metrics::describe_histogram!(
        "lockstep_webhook_group_deliveries",
        metrics::Unit::Count,
        "Deliveries stored together in one JetStream message (group commit)"
    );
}
