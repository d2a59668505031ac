//! The poller's gRPC surface: `SyncService`.

mod reset;
mod sync;
mod ticket;

pub use sync::SyncApi;
