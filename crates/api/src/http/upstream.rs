//! The services the HTTP API reaches over gRPC: `TicketService` (ticket-writer) and
//! `SyncService` (poller). Their routes call them with the caller's credential forwarded, so
//! they authenticate, check roles and scope the tenant themselves, exactly as for a gRPC client.

use lockstep_proto::v1::sync_service_client::SyncServiceClient;
use lockstep_proto::v1::ticket_service_client::TicketServiceClient;
use serde::{Deserialize, Serialize};
use tonic::transport::{Channel, Endpoint};

/// `[upstream]`: where the api finds ticket-writer and the poller (`lockstep up` fills these in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamConfig {
    /// ticket-writer's gRPC address, e.g. `http://ticket-writer:50052`.
    pub ticket_writer: String,
    /// The poller's gRPC address, e.g. `http://poller:50053`.
    pub poller: String,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            ticket_writer: "http://127.0.0.1:50052".to_owned(),
            poller: "http://127.0.0.1:50053".to_owned(),
        }
    }
}

/// Lazily connected clients: the api starts whether or not the others are up yet; a call while
/// one is down is UNAVAILABLE (503), and the next call reconnects.
#[derive(Clone, Debug)]
pub struct Upstream {
    tickets: TicketServiceClient<Channel>,
    sync: SyncServiceClient<Channel>,
}

fn channel(key: &str, url: &str) -> Result<Channel, String> {
    Endpoint::from_shared(url.trim().to_owned())
        .map(|e| {
            e.connect_timeout(std::time::Duration::from_secs(5))
                .connect_lazy()
        })
        .map_err(|e| {
            format!("upstream.{key} = {url:?} is not a usable address ({e}); use http://host:port")
        })
}

impl Upstream {
    pub fn new(config: &UpstreamConfig) -> Result<Self, String> {
        Ok(Upstream {
            tickets: TicketServiceClient::new(channel("ticket_writer", &config.ticket_writer)?),
            sync: SyncServiceClient::new(channel("poller", &config.poller)?),
        })
    }

    pub fn tickets(&self) -> TicketServiceClient<Channel> {
        self.tickets.clone()
    }

    pub fn sync(&self) -> SyncServiceClient<Channel> {
        self.sync.clone()
    }
}
