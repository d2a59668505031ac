//! Channels and authenticated requests.

use std::path::Path;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::{Cli, Failure, Result};

/// The server refuses longer tokens too (`lockstep_service_kit::auth::MAX_TOKEN_CHARS`).
const MAX_TOKEN_CHARS: usize = 256;

async fn connect(cli: &Cli, url: &str, what: &str) -> Result<Channel> {
    let mut endpoint = Channel::from_shared(url.to_owned())
        .map_err(|e| Failure::usage(format!("{what} address {url:?} is not a URL: {e}")))?;
    if url.starts_with("https://") {
        endpoint = with_tls(cli, endpoint, what)?;
    }
    endpoint.connect().await.map_err(|e| Failure {
        code: 6,
        message: format!(
            "cannot reach the {what} at {url} ({}); is it running (`lockstep up`)?",
            error_chain(&e)
        ),
    })
}

/// TLS for an `https://` address: the servers' CA from `--ca-file` (the CLI carries no public
/// roots: Lockstep's gRPC servers are internal and their certificates come from a private CA), and
/// a client certificate when the servers ask for one.
fn with_tls(cli: &Cli, endpoint: Endpoint, what: &str) -> Result<Endpoint> {
    let ca = cli.ca_file.as_deref().ok_or_else(|| {
        Failure::usage(format!(
            "the {what} address is https://, so name the CA that signed its certificate: \
             --ca-file <pem> or LOCKSTEP_CA_FILE"
        ))
    })?;
    let mut tls =
        ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca, "--ca-file")?));
    if let (Some(cert), Some(key)) = (&cli.client_cert, &cli.client_key) {
        tls = tls.identity(Identity::from_pem(
            read(cert, "--client-cert")?,
            read(key, "--client-key")?,
        ));
    }
    endpoint
        .tls_config(tls)
        .map_err(|e| Failure::usage(format!("TLS settings for the {what}: {e}")))
}

fn read(path: &Path, flag: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Failure::usage(format!("{flag} {}: cannot read it ({e})", path.display())))
}

/// tonic's transport error says only "transport error"; the cause (refused, TLS) is in its sources.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub async fn api(cli: &Cli) -> Result<Channel> {
    connect(cli, &cli.server, "api").await
}

pub async fn writer(cli: &Cli) -> Result<Channel> {
    connect(cli, &cli.writer, "ticket-writer").await
}

pub async fn poller(cli: &Cli) -> Result<Channel> {
    connect(cli, &cli.poller, "poller").await
}

/// A request with the caller's bearer token.
pub fn req<T>(cli: &Cli, message: T) -> Result<tonic::Request<T>> {
    let token = cli.token.as_deref().map(str::trim).filter(|t| !t.is_empty()).ok_or(Failure {
        code: 4,
        message: "no API token: set LOCKSTEP_TOKEN or pass --token (create one with `lockstep admin create-token`)".into(),
    })?;
    // A token is ~47 characters; a huge one would only make the HTTP/2 layer fail obscurely.
    if token.len() > MAX_TOKEN_CHARS {
        return Err(Failure {
            code: 4,
            message: format!(
                "the API token is {} characters long, but Lockstep tokens have fewer than \
                 {MAX_TOKEN_CHARS}; check LOCKSTEP_TOKEN or --token",
                token.len()
            ),
        });
    }
    let mut request = tonic::Request::new(message);
    let value = format!("Bearer {token}")
        .parse()
        .map_err(|_| Failure::usage("the token holds characters a header cannot carry"))?;
    request.metadata_mut().insert("authorization", value);
    crate::tracing::inject(&mut request);
    Ok(request)
}
