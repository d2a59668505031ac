//! The poller's gRPC surface: `SyncService`.

mod sync;

pub use sync::SyncApi;
