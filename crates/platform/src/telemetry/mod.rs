//! Logging and tracing set-up, once per process.
//!
//! - Logs: JSON lines (with `trace_id`/`span_id`) or human-readable text on stdout; `RUST_LOG`
//!   overrides `telemetry.filter`.
//! - Traces: `tracing` spans become OpenTelemetry spans. They are exported over OTLP/gRPC only
//!   when `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` is set; otherwise no exporter exists and no
//!   connection is attempted, but spans still get W3C trace ids so context propagates across
//!   HTTP, gRPC and NATS and log lines of one request share a `trace_id`.
//!   `OTEL_SDK_DISABLED=true` turns OpenTelemetry off entirely.
//! - The W3C trace-context (and baggage) propagator is installed globally; OpenTelemetry's
//!   default is a no-op propagator, which would silently break every cross-service trace.
//!   [`propagation`] moves the context in and out through it (HTTP/gRPC headers, one
//!   `traceparent` value inside a message).
//! - The log filter (`telemetry.filter`, `RUST_LOG`) decides which lines are logged, not which
//!   spans are traced: spans at INFO and above always reach OpenTelemetry (the sampler,
//!   `OTEL_TRACES_SAMPLER`, decides what is kept), so quieting the logs never cuts a trace.
//!
//! `lockstep up` and tests start many services in one process, each calling [`init`]; only the
//! first call installs anything, later ones return a guard that does nothing.

mod json;
mod plan;
pub mod propagation;

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer as _, Registry};

use self::plan::{Export, Plan, Propagator};
use crate::Error;
use crate::config::{LogFormat, TelemetryConfig};

/// How long dropping the guard waits for buffered spans to reach the collector.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Crates whose own spans must not be exported: the exporter's gRPC client uses them, so
/// exporting them would make every export produce more spans to export.
const EXPORTER_INTERNALS: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
];

static INSTALLED: Mutex<bool> = Mutex::new(false);

/// Keeps the tracer provider alive; dropping it flushes buffered spans and shuts the exporter
/// down. Hold it in `main` for the life of the process. Drop it while the Tokio runtime is still
/// running (a multi-thread runtime), since the gRPC exporter needs the runtime to send.
#[must_use = "dropping the guard shuts tracing down"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    exporting: bool,
}

impl TelemetryGuard {
    /// Whether spans are being exported to an OTLP collector by this guard's provider.
    pub fn is_exporting(&self) -> bool {
        self.exporting
    }

    /// Sends the spans buffered so far to the collector and waits for it (blocks: call it off
    /// the async runtime, e.g. in `spawn_blocking`). Nothing to do for an inert guard.
    pub fn force_flush(&self) -> Result<(), Error> {
        match &self.provider {
            Some(provider) => provider
                .force_flush()
                .map_err(|e| Error::Telemetry(format!("flushing spans failed: {e}"))),
            None => Ok(()),
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(err) = provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT)
        {
            // The subscriber may already be gone; stderr always works.
            eprintln!("lockstep: flushing traces at shutdown failed: {err}");
        }
    }
}

/// Installs logging and tracing for the process, reading `RUST_LOG` and `OTEL_*` from the
/// environment. Idempotent: later calls return `Ok` with an inert guard.
pub fn init(config: &TelemetryConfig) -> Result<TelemetryGuard, Error> {
    init_with_env(config, &|name| std::env::var(name).ok())
}

/// [`init`] with an injectable environment lookup.
pub fn init_with_env(
    config: &TelemetryConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<TelemetryGuard, Error> {
    install(config, env, true)
}

/// Tracing for a command-line client: spans only, no log lines (the command prints its own
/// output), exported when the `OTEL_*` variables say so, and the W3C propagator installed so
/// its calls carry `traceparent`. Idempotent like [`init`].
pub fn init_client(service_name: &str) -> Result<TelemetryGuard, Error> {
    let config = TelemetryConfig {
        service_name: service_name.to_owned(),
        ..TelemetryConfig::default()
    };
    install(&config, &|name| std::env::var(name).ok(), false)
}

fn install(
    config: &TelemetryConfig,
    env: &dyn Fn(&str) -> Option<String>,
    logs: bool,
) -> Result<TelemetryGuard, Error> {
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if *installed {
        return Ok(TelemetryGuard {
            provider: None,
            exporting: false,
        });
    }
    let plan = plan::plan(config, env)?;
    let filter = log_filter(&plan)?;
    let provider = tracer_provider(&plan)?;
    let exporting = matches!(plan.export, Export::Otlp { .. });

    let otel_layer = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("lockstep"))
            .with_filter(filter_fn(|meta| {
                *meta.level() <= tracing::Level::INFO && !is_exporter_internal(meta.target())
            }))
    });
    let dispatch = Arc::new(OnceLock::new());
    let fmt_layer = match config.format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .fmt_fields(JsonFields::new())
            .event_format(json::JsonWithTraceIds::new(Arc::clone(&dispatch)))
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stdout().is_terminal())
            .boxed(),
    };

    let installed_now = Registry::default()
        .with(logs.then(|| fmt_layer.with_filter(filter)))
        .with(otel_layer)
        .try_init();
    if installed_now.is_err() {
        // Someone else (a test harness, an embedding program) owns the global subscriber. Their
        // choice stands; we install nothing and export nothing.
        if let Some(provider) = provider {
            let _ = provider.shutdown();
        }
        return Ok(TelemetryGuard {
            provider: None,
            exporting: false,
        });
    }
    tracing::dispatcher::get_default(|current| {
        let _ = dispatch.set(current.downgrade());
    });
    // A callsite registered on another thread while the subscriber was being installed may have
    // cached the old "never" interest; ask every callsite again.
    tracing::callsite::rebuild_interest_cache();
    if let Some(provider) = &provider {
        opentelemetry::global::set_tracer_provider(provider.clone());
    }
    opentelemetry::global::set_text_map_propagator(propagator(&plan.propagators));
    *installed = true;
    Ok(TelemetryGuard {
        provider,
        exporting,
    })
}

fn log_filter(plan: &Plan) -> Result<EnvFilter, Error> {
    let (directives, origin) = &plan.filter;
    EnvFilter::try_new(directives).map_err(|e| {
        Error::Telemetry(format!(
            "invalid log filter {directives:?} (from {origin}): {e}"
        ))
    })
}

fn tracer_provider(plan: &Plan) -> Result<Option<SdkTracerProvider>, Error> {
    let mut resource = Resource::builder();
    if let Some(name) = &plan.service_name {
        resource = resource.with_service_name(name.clone());
    }
    let builder = SdkTracerProvider::builder().with_resource(resource.build());
    match &plan.export {
        Export::Disabled => Ok(None),
        Export::Local => Ok(Some(builder.build())),
        Export::Otlp { endpoint } => Ok(Some(
            builder
                .with_batch_exporter(otlp_exporter(endpoint)?)
                .build(),
        )),
    }
}

/// The OTLP/gRPC span exporter. Headers, timeout and compression come from the standard
/// `OTEL_EXPORTER_OTLP_*` variables, read by the exporter itself.
pub(crate) fn otlp_exporter(endpoint: &str) -> Result<opentelemetry_otlp::SpanExporter, Error> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(Error::Telemetry(
            "OTLP export needs a Tokio runtime: call telemetry::init inside #[tokio::main]".into(),
        ));
    }
    opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| {
            Error::Telemetry(format!(
                "cannot build the OTLP exporter for {endpoint}: {e}"
            ))
        })
}

fn propagator(kinds: &[Propagator]) -> TextMapCompositePropagator {
    let propagators: Vec<Box<dyn TextMapPropagator + Send + Sync>> = kinds
        .iter()
        .map(|kind| -> Box<dyn TextMapPropagator + Send + Sync> {
            match kind {
                Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
                Propagator::Baggage => Box::new(BaggagePropagator::new()),
            }
        })
        .collect();
    TextMapCompositePropagator::new(propagators)
}

fn is_exporter_internal(target: &str) -> bool {
    EXPORTER_INTERNALS.iter().any(|krate| {
        target == *krate
            || target
                .strip_prefix(krate)
                .is_some_and(|rest| rest.starts_with("::"))
    })
}

#[cfg(test)]
mod tests;
