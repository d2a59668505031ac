//! The one stream, `LOCKSTEP` over `lockstep.>`, created or updated idempotently at start-up by any
//! service that publishes or consumes.

use std::time::Duration;

use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};

use crate::{Bus, BusError};

/// How the stream is kept. The defaults are the production ones.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// How long `Nats-Msg-Id` values are remembered; a vendor retry inside it is dropped by the
    /// server. The store's inbox covers anything older.
    pub duplicate_window: Duration,
    /// Events older than this are removed; consumers must keep up well within it.
    pub max_age: Duration,
    pub replicas: usize,
    /// File storage survives a server restart; memory storage is only for throwaway benchmarks.
    pub file_storage: bool,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            duplicate_window: Duration::from_secs(120),
            max_age: Duration::from_secs(7 * 24 * 3600),
            replicas: 1,
            file_storage: true,
        }
    }
}

impl Bus {
    /// Creates the stream, or brings an existing one's settings in line.
    pub async fn ensure_stream(&self, settings: &StreamSettings) -> Result<(), BusError> {
        let name = self.subjects.stream_name();
        let config = Config {
            name: name.clone(),
            subjects: vec![self.subjects.all()],
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            storage: if settings.file_storage {
                StorageType::File
            } else {
                StorageType::Memory
            },
            num_replicas: settings.replicas,
            duplicate_window: settings.duplicate_window,
            max_age: settings.max_age,
            ..Default::default()
        };
        let stream_err = |e: Box<dyn std::error::Error + Send + Sync>| BusError::Stream {
            stream: name.clone(),
            source: e,
        };
        match self.js.get_stream(&name).await {
            Ok(_) => {
                self.js
                    .update_stream(config)
                    .await
                    .map_err(|e| stream_err(Box::new(e)))?;
            }
            Err(_) => {
                self.js
                    .get_or_create_stream(config)
                    .await
                    .map_err(|e| stream_err(Box::new(e)))?;
            }
        }
        Ok(())
    }
}
