//! Channels and authenticated requests.

use tonic::transport::Channel;

use crate::{Cli, Failure, Result};

pub async fn connect(url: &str, what: &str) -> Result<Channel> {
    let endpoint = Channel::from_shared(url.to_owned())
        .map_err(|e| Failure::usage(format!("{what} address {url:?} is not a URL: {e}")))?;
    endpoint.connect().await.map_err(|e| Failure {
        code: 6,
        message: format!("cannot reach the {what} at {url} ({e}); is it running (`lockstep up`)?"),
    })
}

pub async fn api(cli: &Cli) -> Result<Channel> {
    connect(&cli.server, "api").await
}

pub async fn writer(cli: &Cli) -> Result<Channel> {
    connect(&cli.writer, "ticket-writer").await
}

pub async fn poller(cli: &Cli) -> Result<Channel> {
    connect(&cli.poller, "poller").await
}

/// A request with the caller's bearer token.
pub fn req<T>(cli: &Cli, message: T) -> Result<tonic::Request<T>> {
    let token = cli.token.as_deref().map(str::trim).filter(|t| !t.is_empty()).ok_or(Failure {
        code: 4,
        message: "no API token: set LOCKSTEP_TOKEN or pass --token (create one with `lockstep admin create-token`)".into(),
    })?;
    let mut request = tonic::Request::new(message);
    let value = format!("Bearer {token}")
        .parse()
        .map_err(|_| Failure::usage("the token holds characters a header cannot carry"))?;
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}
