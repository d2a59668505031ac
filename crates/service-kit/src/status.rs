//! The one place where the errors of the layers below become gRPC statuses. Messages say what to
//! fix; infrastructure failures are logged in full and answered without internals.
//!
//! A status message travels in an HTTP/2 header, and clients refuse header blocks over 16 KiB
//! ("h2 protocol error"), so every message is bounded ([`bounded`]): the mappings here bound
//! what they build, and [`bound_response`] (a layer of every server) bounds any other status.

use lockstep_connectors::{ConnectorError, ErrorClass};
use lockstep_domain::DomainError;
use lockstep_store::StoreError;
use tonic::{Code, Status};

/// A store error as a status. Rows of other tenants are NOT_FOUND exactly like missing rows.
pub fn from_store(err: StoreError) -> Status {
    match err {
        StoreError::NotFound { what } => Status::not_found(bounded(&format!(
            "{what} (check the id; it may belong to another tenant or have been deleted)"
        ))),
        err @ StoreError::AlreadyLinked { .. } => Status::already_exists(bounded(&err.to_string())),
        StoreError::Conflict { what } => Status::failed_precondition(bounded(&what)),
        StoreError::Invalid { what } => Status::invalid_argument(bounded(&what)),
        err if err.is_retryable() => {
            tracing::warn!(error = %err, "database temporarily unavailable");
            Status::unavailable("the database is temporarily unavailable; try again shortly")
        }
        err => internal(&err),
    }
}

/// A rejected value or request: always the caller's to fix.
pub fn from_domain(err: DomainError) -> Status {
    Status::invalid_argument(bounded(&err.to_string()))
}

/// A vendor call's failure, by the connector's error class.
pub fn from_connector(err: &ConnectorError) -> Status {
    Status::new(connector_code(err), bounded(&err.to_string()))
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

/// At most this many bytes of a status message. Percent-encoding (non-ASCII bytes become `%XX`)
/// at most triples it, which keeps the header well under HTTP/2's usual 16 KiB limit.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// `message` cut to [`MAX_MESSAGE_BYTES`] on a character boundary, with an ellipsis when cut.
pub fn bounded(message: &str) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.to_owned();
    }
    const MORE: &str = "… (message shortened)";
    let mut cut = MAX_MESSAGE_BYTES - MORE.len();
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{MORE}", &message[..cut])
}

/// Bounds the status message of a response whose status travels in its headers (every error a
/// handler returns). A server layer, so no status of any service can exceed the bound.
pub fn bound_response<B>(mut response: http::Response<B>) -> http::Response<B> {
    let too_long = response
        .headers()
        .get("grpc-message")
        .is_some_and(|m| m.len() > MAX_MESSAGE_BYTES);
    if !too_long {
        return response;
    }
    if let Some(status) = Status::from_header_map(response.headers()) {
        let short = Status::new(status.code(), bounded(status.message()));
        if short.add_header(response.headers_mut()).is_err() {
            response.headers_mut().remove("grpc-message");
        }
    }
    response
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
    fn messages_are_bounded_on_a_character_boundary() {
        assert_eq!(bounded("short"), "short");
        let long = "é".repeat(100_000);
        let cut = bounded(&long);
        assert!(cut.len() <= MAX_MESSAGE_BYTES, "{}", cut.len());
        assert!(cut.ends_with("… (message shortened)"));
        let s = from_store(StoreError::Invalid { what: long });
        assert!(s.message().len() <= MAX_MESSAGE_BYTES);
    }

    #[test]
    fn the_server_layer_bounds_statuses_built_anywhere() {
        let status = Status::invalid_argument(format!("key {:?} is bad", "k".repeat(100_000)));
        let response = bound_response(status.into_http::<()>());
        let header = response.headers().get("grpc-message").unwrap();
        assert!(header.len() <= 3 * MAX_MESSAGE_BYTES, "{}", header.len());
        let back = Status::from_header_map(response.headers()).unwrap();
        assert_eq!(back.code(), Code::InvalidArgument);
        assert!(
            back.message().starts_with("key \"kkk"),
            "{}",
            &back.message()[..20]
        );
        let small = bound_response(Status::not_found("x").into_http::<()>());
        assert_eq!(
            Status::from_header_map(small.headers()).unwrap().message(),
            "x"
        );
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
