//! The applier's error type: start-up failures. Per-event failures are
//! [`crate::apply::Failure`], which the worker turns into a retry or a dead letter.

#[derive(Debug, thiserror::Error)]
pub enum ApplierError {
    #[error(transparent)]
    Platform(#[from] lockstep_platform::Error),
    #[error(transparent)]
    Bus(#[from] lockstep_bus::BusError),
    #[error(transparent)]
    Store(#[from] lockstep_store::StoreError),
}
