//! The one error type of the platform crate. Every message says what to change.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Errors of configuration, telemetry, metrics, signals and serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--config` or `LOCKSTEP_CONFIG` names a file that does not exist.
    #[error("config file {} does not exist (named by --config or LOCKSTEP_CONFIG)", path.display())]
    ConfigFileNotFound { path: PathBuf },

    /// One or more keys have unusable values; each problem names its key.
    #[error("{}", render_problems(problems))]
    Config { problems: Vec<String> },

    /// Logging or tracing could not be set up.
    #[error("telemetry: {0}")]
    Telemetry(String),

    /// The Prometheus recorder could not be installed.
    #[error("metrics: {0}")]
    Metrics(String),

    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },

    /// A signal handler could not be installed.
    #[error("cannot install the {signal} handler: {source}")]
    Signal {
        signal: &'static str,
        source: std::io::Error,
    },

    /// A server stopped with an I/O error.
    #[error("server on {addr} failed: {source}")]
    Serve {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

fn render_problems(problems: &[String]) -> String {
    match problems {
        [one] => format!("invalid configuration: {one}"),
        many => {
            let mut out = format!("invalid configuration ({} problems):", many.len());
            for problem in many {
                out.push_str("\n  - ");
                out.push_str(problem);
            }
            out
        }
    }
}
