//! The poller's gRPC surface: `SyncService`.

mod reset;
mod sync;

pub use sync::SyncApi;
