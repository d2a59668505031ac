//! The one place where the errors of the layers below become gRPC statuses. Messages say what to
//! fix; infrastructure failures are logged in full and answered without internals.

use lockstep_connectors::{ConnectorError, ErrorClass};
use lockstep_domain::DomainError;
use lockstep_store::StoreError;
use tonic::{Code, Status};

/// A store error as a status. Rows of other tenants are NOT_FOUND exactly like missing rows.
pub fn from_store(err: StoreError) -> Status {
    match err {
        StoreError::NotFound { what } => Status::not_found(format!(
            "{what} (check the id; it may belong to another tenant or have been deleted)"
        )),
        err @ StoreError::AlreadyLinked { .. } => Status::already_exists(err.to_string()),
        StoreError::Conflict { what } => Status::failed_precondition(what),
        StoreError::Invalid { what } => Status::invalid_argument(what),
        err if err.is_retryable() => {
            tracing::warn!(error = %err, "database temporarily unavailable");
            Status::unavailable("the database is temporarily unavailable; try again shortly")
        }
        err => internal(&err),
    }
}

/// A rejected value or request: always the caller's to fix.
pub fn from_domain(err: DomainError) -> Status {
    Status::invalid_argument(err.to_string())
}

/// A vendor call's failure, by the connector's error class.
pub fn from_connector(err: &ConnectorError) -> Status {
    Status::new(connector_code(err), err.to_string())
}

pub fn connector_code(err: &ConnectorError) -> Code {
    match err.class() {
        ErrorClass::InvalidArgument => Code::InvalidArgument,
        // The vendor refused *our* stored credentials: the caller is fine, the integration is not.
        ErrorClass::Unauthenticated | ErrorClass::PermissionDenied => Code::FailedPrecondition,
        ErrorClass::NotFound => Code::NotFound,
        ErrorClass::FailedPrecondition => Code::FailedPrecondition,
        ErrorClass::ResourceExhausted => Code::ResourceExhausted,
        ErrorClass::DeadlineExceeded => Code::DeadlineExceeded,
        ErrorClass::Unavailable => Code::Unavailable,
        ErrorClass::Internal => Code::Unavailable,
    }
}

/// INTERNAL with a reference the operator finds in the logs; the details stay in the logs.
pub fn internal(err: &dyn std::fmt::Display) -> Status {
    let reference = uuid::Uuid::new_v4().simple().to_string();
    let reference = &reference[..12];
    tracing::error!(error = %err, reference, "internal error");
    Status::internal(format!(
        "internal error (reference {reference}); the server log has the details"
    ))
}

/// The code's canonical name (`NOT_FOUND`), for per-item results in bulk answers.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_codes_that_say_what_to_fix() {
        let s = from_store(StoreError::NotFound {
            what: "finding 1".into(),
        });
        assert_eq!(s.code(), Code::NotFound);
        assert!(s.message().contains("another tenant"));
        let s = from_store(StoreError::Invalid {
            what: "name is empty".into(),
        });
        assert_eq!(s.code(), Code::InvalidArgument);
        let s = from_store(StoreError::Conflict { what: "x".into() });
        assert_eq!(s.code(), Code::FailedPrecondition);
        let s = from_store(StoreError::Corrupt {
            what: "secret detail".into(),
        });
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("secret detail"));
    }

    #[test]
    fn vendor_errors_keep_their_class() {
        let rate = ConnectorError::RateLimited {
            retry_after: None,
            message: "slow down".into(),
        };
        assert_eq!(from_connector(&rate).code(), Code::ResourceExhausted);
        let auth = ConnectorError::NotFound {
            message: "gone".into(),
        };
        assert_eq!(from_connector(&auth).code(), Code::NotFound);
        assert_eq!(code_name(Code::FailedPrecondition), "FAILED_PRECONDITION");
        let bulk = DomainError::BulkTooLarge {
            count: 501,
            limit: 500,
        };
        assert_eq!(from_domain(bulk).code(), Code::InvalidArgument);
    }
}
