//! Decides what telemetry to set up from the config and the standard `OTEL_*` variables.
//!
//! Kept free of side effects so every branch is unit-tested with an injected environment. The
//! Rust SDK reads most `OTEL_*` variables itself (headers, timeout, sampler, batch sizes,
//! resource attributes), but not `OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER` or
//! `OTEL_PROPAGATORS`; those are honoured here, and the exporter protocol is checked because
//! this build speaks OTLP over gRPC only.

use crate::Error;
use crate::config::TelemetryConfig;

/// Where spans go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Export {
    /// `OTEL_SDK_DISABLED=true`: no OpenTelemetry at all (no trace ids, no propagation).
    Disabled,
    /// No endpoint (or `OTEL_TRACES_EXPORTER=none`): spans get trace ids that propagate and
    /// appear in logs, but nothing is exported and no exporter connection is attempted.
    Local,
    /// OTLP/gRPC to this endpoint.
    Otlp { endpoint: String },
}

/// W3C propagators to install globally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Propagator {
    TraceContext,
    Baggage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub export: Export,
    /// `service.name` to set, unless the operator set one through the standard variables.
    pub service_name: Option<String>,
    pub propagators: Vec<Propagator>,
    /// Filter directives and where they came from (for error messages).
    pub filter: (String, &'static str),
}

pub(crate) fn plan(
    config: &TelemetryConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, Error> {
    let var = |name: &str| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };

    let filter = match var("RUST_LOG") {
        Some(directives) => (directives, "RUST_LOG"),
        None => (config.filter.clone(), "telemetry.filter"),
    };

    let sdk_disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let export = if sdk_disabled {
        Export::Disabled
    } else {
        match var("OTEL_TRACES_EXPORTER")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("otlp") => {
                match var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                    .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"))
                {
                    Some(endpoint) => {
                        check_protocol(&var)?;
                        Export::Otlp { endpoint }
                    }
                    None => Export::Local,
                }
            }
            Some("none") => Export::Local,
            Some(other) => {
                return Err(Error::Telemetry(format!(
                    "OTEL_TRACES_EXPORTER={other} is not supported; use `otlp` (with \
                     OTEL_EXPORTER_OTLP_ENDPOINT) or `none`"
                )));
            }
        }
    };

    let operator_named_service = var("OTEL_SERVICE_NAME").is_some()
        || var("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|attrs| {
            attrs
                .split(',')
                .any(|kv| kv.trim_start().starts_with("service.name="))
        });
    let service_name = (!operator_named_service).then(|| config.service_name.clone());

    let propagators = match var("OTEL_PROPAGATORS") {
        None => vec![Propagator::TraceContext, Propagator::Baggage],
        Some(list) => parse_propagators(&list)?,
    };

    Ok(Plan {
        export,
        service_name,
        propagators,
        filter,
    })
}

fn check_protocol(var: &dyn Fn(&str) -> Option<String>) -> Result<(), Error> {
    let (name, protocol) = match var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") {
        Some(p) => ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", p),
        None => match var("OTEL_EXPORTER_OTLP_PROTOCOL") {
            Some(p) => ("OTEL_EXPORTER_OTLP_PROTOCOL", p),
            None => return Ok(()),
        },
    };
    if protocol.eq_ignore_ascii_case("grpc") {
        Ok(())
    } else {
        Err(Error::Telemetry(format!(
            "{name}={protocol} is not supported: Lockstep exports OTLP over gRPC only; set it to \
             `grpc` and point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's gRPC port (usually 4317)"
        )))
    }
}

fn parse_propagators(list: &str) -> Result<Vec<Propagator>, Error> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name.to_ascii_lowercase().as_str() {
            "tracecontext" => out.push(Propagator::TraceContext),
            "baggage" => out.push(Propagator::Baggage),
            "none" => return Ok(Vec::new()),
            other => {
                return Err(Error::Telemetry(format!(
                    "OTEL_PROPAGATORS contains `{other}`, which is not supported; use \
                     tracecontext, baggage or none"
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_with(pairs: &[(&str, &str)]) -> Result<Plan, Error> {
        let config = TelemetryConfig {
            service_name: "poller".into(),
            ..TelemetryConfig::default()
        };
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        plan(&config, &|name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn without_an_endpoint_nothing_is_exported() {
        let plan = plan_with(&[]).unwrap();
        assert_eq!(plan.export, Export::Local);
        assert_eq!(plan.service_name.as_deref(), Some("poller"));
        assert_eq!(
            plan.propagators,
            [Propagator::TraceContext, Propagator::Baggage]
        );
        assert_eq!(plan.filter, ("info".to_owned(), "telemetry.filter"));
        // An empty endpoint is the same as none.
        assert_eq!(
            plan_with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])
                .unwrap()
                .export,
            Export::Local
        );
    }

    #[test]
    fn endpoint_enables_otlp_and_the_signal_specific_one_wins() {
        let plan = plan_with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")]).unwrap();
        assert_eq!(
            plan.export,
            Export::Otlp {
                endpoint: "http://collector:4317".into()
            }
        );
        let plan = plan_with(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .unwrap();
        assert_eq!(
            plan.export,
            Export::Otlp {
                endpoint: "http://traces:4317".into()
            }
        );
    }

    #[test]
    fn operators_can_switch_export_off() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317");
        assert_eq!(
            plan_with(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")])
                .unwrap()
                .export,
            Export::Local
        );
        assert_eq!(
            plan_with(&[endpoint, ("OTEL_SDK_DISABLED", "TRUE")])
                .unwrap()
                .export,
            Export::Disabled
        );
        assert_eq!(
            plan_with(&[endpoint, ("OTEL_SDK_DISABLED", "false")])
                .unwrap()
                .export,
            Export::Otlp {
                endpoint: "http://collector:4317".into()
            }
        );
    }

    #[test]
    fn unsupported_settings_fail_with_a_fix() {
        let err = plan_with(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf") && err.contains("4317"),
            "{err}"
        );
        let err = plan_with(&[("OTEL_TRACES_EXPORTER", "zipkin")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("zipkin"), "{err}");
        let err = plan_with(&[("OTEL_PROPAGATORS", "tracecontext,b3")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`b3`"), "{err}");
    }

    #[test]
    fn standard_variables_take_precedence_over_config() {
        let plan = plan_with(&[
            ("OTEL_SERVICE_NAME", "custom"),
            ("RUST_LOG", "debug,h2=warn"),
        ])
        .unwrap();
        assert_eq!(plan.service_name, None);
        assert_eq!(plan.filter, ("debug,h2=warn".to_owned(), "RUST_LOG"));
        let plan = plan_with(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=prod, service.name=x",
        )])
        .unwrap();
        assert_eq!(plan.service_name, None);
        assert_eq!(
            plan_with(&[("OTEL_PROPAGATORS", "tracecontext")])
                .unwrap()
                .propagators,
            [Propagator::TraceContext]
        );
        assert!(
            plan_with(&[("OTEL_PROPAGATORS", "none")])
                .unwrap()
                .propagators
                .is_empty()
        );
    }
}
