use std::time::Duration;

type Source = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong between Lockstep and JetStream.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error(
        "cannot connect to NATS at {url}: {source} (is nats-server running with -js? `make services-up` starts one)"
    )]
    Connect { url: String, source: Source },
    #[error(
        "NATS at {url} refused the connection's credentials: {source} (set nats.credentials_file to a .creds file, or nats.nkey_file, or user:password in nats.url, as the server requires)"
    )]
    Unauthorized { url: String, source: Source },
    #[error("cannot read {key} ({}): {source}", path.display())]
    Credentials {
        key: &'static str,
        path: std::path::PathBuf,
        source: Source,
    },
    #[error("configuration: {0}")]
    Config(String),
    #[error("subject prefix {0:?} is invalid: use letters, digits, '-' or '_' only")]
    InvalidPrefix(String),
    #[error("cannot create or update stream {stream}: {source}")]
    Stream { stream: String, source: Source },
    #[error("cannot create consumer {consumer} on stream {stream}: {source}")]
    Consumer {
        stream: String,
        consumer: String,
        source: Source,
    },
    #[error("publish to {subject} was not acknowledged by JetStream: {source}")]
    Publish { subject: String, source: Source },
    #[error("publish to {subject} was not acknowledged within {timeout:?}")]
    PublishTimeout { subject: String, timeout: Duration },
    #[error("cannot receive from consumer {consumer}: {source}")]
    Receive { consumer: String, source: Source },
    #[error("cannot acknowledge message {sequence}: {source}")]
    Ack { sequence: u64, source: Source },
    #[error("message on {subject} is not a valid {kind} event: {source}")]
    Decode {
        subject: String,
        kind: &'static str,
        source: prost::DecodeError,
    },
}

impl BusError {
    /// True when retrying the same operation later may succeed (the server or network is at fault,
    /// not the message).
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            BusError::InvalidPrefix(_)
                | BusError::Decode { .. }
                | BusError::Unauthorized { .. }
                | BusError::Credentials { .. }
                | BusError::Config(_)
        )
    }
}
