//! Turning `[nats]` into connect options. Every file the configuration names is read here, at
//! start, so a missing or unreadable one stops the service with a message naming the key.

use async_nats::{ConnectErrorKind, ConnectOptions};
use lockstep_platform::config::{NatsConfig, NatsUrl};

use crate::BusError;

pub(crate) async fn options(config: &NatsConfig) -> Result<ConnectOptions, BusError> {
    let mut options = ConnectOptions::new();
    if let Some(path) = &config.credentials_file {
        options = options
            .credentials_file(path)
            .await
            .map_err(|source| BusError::Credentials {
                key: "nats.credentials_file",
                path: path.clone(),
                source: Box::new(source),
            })?;
    }
    if let Some(path) = &config.nkey_file {
        let seed =
            tokio::fs::read_to_string(path)
                .await
                .map_err(|source| BusError::Credentials {
                    key: "nats.nkey_file",
                    path: path.clone(),
                    source: Box::new(source),
                })?;
        options = options.nkey(seed.trim().to_owned());
    }
    let tls = &config.tls;
    if tls.required {
        options = options.require_tls(true);
    }
    if let Some(ca) = &tls.ca_file {
        readable(ca, "nats.tls.ca_file")?;
        options = options.add_root_certificates(ca.clone());
    }
    match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            readable(cert, "nats.tls.cert_file")?;
            readable(key, "nats.tls.key_file")?;
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        (None, None) => {}
        _ => {
            return Err(BusError::Config(
                "nats.tls.cert_file and nats.tls.key_file go together: set both or neither".into(),
            ));
        }
    }
    Ok(options)
}

fn readable(path: &std::path::Path, key: &'static str) -> Result<(), BusError> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|source| BusError::Credentials {
            key,
            path: path.to_owned(),
            source: Box::new(source),
        })
}

/// Connects; an authentication failure says which keys provide credentials.
pub(crate) async fn connect(
    options: ConnectOptions,
    url: &NatsUrl,
) -> Result<async_nats::Client, BusError> {
    options
        .name("lockstep")
        .connect(url.expose())
        .await
        .map_err(|e| {
            if matches!(
                e.kind(),
                ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication
            ) {
                BusError::Unauthorized {
                    url: url.masked(),
                    source: Box::new(e),
                }
            } else {
                BusError::Connect {
                    url: url.masked(),
                    source: Box::new(e),
                }
            }
        })
}
