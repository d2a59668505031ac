//! NATS JetStream for Lockstep: the `LOCKSTEP` stream and its subjects, typed publishing of protobuf
//! events with `Nats-Msg-Id` dedupe and W3C trace context, and durable pull consumers with explicit
//! acknowledgement. Exactly-once *effect* is the consumer's job (the store's inbox), not the bus's:
//! JetStream delivers at least once.

mod connect;
mod consume;
mod error;
mod event;
mod publish;
mod stream;
mod subjects;
mod trace;

pub use consume::{ConsumerSettings, Delivery, EventConsumer};
pub use error::BusError;
pub use event::{Event, finding_changes, webhook_batch};
pub use publish::Published;
pub use stream::StreamSettings;
pub use subjects::Subjects;

use async_nats::jetstream;
use lockstep_platform::config::NatsConfig;

/// A connection to JetStream scoped to one subject prefix (`lockstep` in production; a unique one per
/// test so parallel tests never see each other's events).
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    js: jetstream::Context,
    subjects: Subjects,
}

impl Bus {
    /// Connects as `[nats]` says: URL, credentials (`.creds` file or NKey seed file) and TLS,
    /// scoping every subject and the stream name to `subject_prefix`.
    pub async fn connect_with(config: &NatsConfig) -> Result<Self, BusError> {
        let options = connect::options(config).await?;
        let client = connect::connect(options, &config.url).await?;
        Self::from_client(client, &config.subject_prefix)
    }

    /// Connects to `url` without credentials or TLS settings (tests and tools against a local
    /// server) and scopes every subject and the stream name to `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BusError> {
        let url = lockstep_platform::config::NatsUrl::new(url);
        let client = connect::connect(async_nats::ConnectOptions::new(), &url).await?;
        Self::from_client(client, prefix)
    }

    /// Wraps an existing client (tests share one connection between several buses).
    pub fn from_client(client: async_nats::Client, prefix: &str) -> Result<Self, BusError> {
        let subjects = Subjects::new(prefix)?;
        let js = jetstream::new(client.clone());
        Ok(Self {
            client,
            js,
            subjects,
        })
    }

    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }
}
