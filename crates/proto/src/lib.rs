//! Protobuf messages and gRPC services generated from `proto/`, and their conversions to and from
//! `lockstep-domain` types. Generated code stays in `v1`; hand-written conversions live beside it.

mod observation;
mod time_convert;

pub use time_convert::{from_timestamp, to_timestamp};

/// Generated from `proto/lockstep/v1/*.proto`.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("lockstep.v1");
}

/// The encoded file descriptor set of every Lockstep proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("lockstep_descriptor");

/// A protobuf message that does not carry what its domain counterpart needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {message}.{field}: {problem}")]
pub struct ConversionError {
    pub message: &'static str,
    pub field: &'static str,
    pub problem: String,
}
