//! Channels and authenticated requests.

use tonic::transport::Channel;

use crate::{Cli, Failure, Result};

/// The server refuses longer tokens too (`lockstep_service_kit::auth::MAX_TOKEN_CHARS`).
const MAX_TOKEN_CHARS: usize = 256;

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
    Ok(request)
}
