//! The CLI's part of a trace: one client span per command, continuing `TRACEPARENT` from the
//! environment when a caller (a CI job, a script that traces) sets it, and the W3C `traceparent`
//! of that span on every gRPC request, so the services' spans of the command share its trace id.
//! Spans are exported only when the standard `OTEL_*` variables name a collector; either way the
//! trace id travels to the services.

use ::tracing::Span;
use lockstep_platform::telemetry::{self, TelemetryGuard, propagation};

use crate::Command;

/// The environment variable a caller's trace context arrives in (OpenTelemetry's convention for
/// processes started by a traced parent).
const TRACEPARENT_ENV: &str = "TRACEPARENT";

/// The command's span, and the guard that flushes its export when dropped (hold it until the
/// command ends). Telemetry that cannot start (a bad `OTEL_*` value) leaves the command
/// untraced rather than failing it.
pub fn command_span(command: &Command) -> (Span, Option<TelemetryGuard>) {
    let guard = match telemetry::init_client("lockstep-cli") {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("lockstep: tracing is off: {e}");
            None
        }
    };
    let span = ::tracing::info_span!(
        "lockstep",
        otel.name = %format_args!("lockstep {}", name(command)),
        otel.kind = "client",
    );
    if let Some(parent) = std::env::var(TRACEPARENT_ENV)
        .ok()
        .and_then(|v| propagation::from_traceparent(v.trim()))
    {
        propagation::continue_trace(&span, parent);
    }
    (span, guard)
}

/// Adds the current span's `traceparent` to a request's metadata (nothing when tracing is off).
pub fn inject<T>(request: &mut tonic::Request<T>) {
    let traceparent = propagation::traceparent(&Span::current());
    if !traceparent.is_empty()
        && let Ok(value) = traceparent.parse()
    {
        request
            .metadata_mut()
            .insert(propagation::TRACEPARENT, value);
    }
}

fn name(command: &Command) -> &'static str {
    match command {
        Command::Up(_) => "up",
        Command::Admin(_) => "admin",
        Command::Integrations(_) => "integrations",
        Command::Mappings(_) => "mappings",
        Command::Presets(_) => "presets",
        Command::Findings(_) => "findings",
        Command::Tickets(_) => "tickets",
        Command::Sync(_) => "sync",
        Command::Tokens(_) => "tokens",
    }
}
