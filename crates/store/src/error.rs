//! The one error type of the store, and the single place where PostgreSQL errors are classified.
//!
//! Callers match on the variant: `NotFound` and `Conflict` become user-facing answers (gRPC
//! `NOT_FOUND` / `ALREADY_EXISTS` / `FAILED_PRECONDITION`), `AlreadyLinked` carries the link a
//! pre-flight reports, and `Database` is an infrastructure failure that `is_retryable` classifies.

use crate::links::TicketLinkRecord;

/// SQLSTATE codes the store reacts to (PostgreSQL appendix A).
pub(crate) mod pg_codes {
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    pub const CHECK_VIOLATION: &str = "23514";
    pub const NOT_NULL_VIOLATION: &str = "23502";
    pub const RESTRICT_VIOLATION: &str = "23001";
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    pub const STRING_DATA_RIGHT_TRUNCATION: &str = "22001";
    /// "invalid byte sequence for encoding UTF8: 0x00": a NUL in a text parameter.
    pub const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
    /// `\u0000` in a jsonb value.
    pub const UNTRANSLATABLE_CHARACTER: &str = "22P05";
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const DEADLOCK_DETECTED: &str = "40P01";
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist for this tenant. Rows of other tenants are reported exactly like rows
    /// that do not exist, so the error never reveals another tenant's data.
    #[error("{what} not found")]
    NotFound { what: String },

    /// The finding already has a pending or live ticket link on this integration.
    #[error(
        "finding {} already has a {} ticket link on integration {}{}",
        existing.finding_id,
        existing.state,
        existing.integration_id,
        existing.ticket_key.as_ref().map(|k| format!(" ({k})")).unwrap_or_default()
    )]
    AlreadyLinked { existing: Box<TicketLinkRecord> },

    /// The write contradicts the current state: a duplicate name, a compare-and-set whose
    /// expectation no longer holds, a link that is not in the state the operation needs.
    #[error("{what}")]
    Conflict { what: String },

    /// The input breaks a rule of the schema (empty name, unknown vocabulary, bad URL…).
    #[error("invalid input: {what}")]
    Invalid { what: String },

    /// A row holds data the current code cannot read (an unknown vocabulary value, malformed JSON
    /// or sealed bytes): a bug or a bad manual edit, never a user error.
    #[error("stored data is corrupt: {what}")]
    Corrupt { what: String },

    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),

    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub(crate) fn not_found(kind: &str, id: impl std::fmt::Display) -> Self {
        StoreError::NotFound {
            what: format!("{kind} {id}"),
        }
    }

    pub(crate) fn conflict(what: impl Into<String>) -> Self {
        StoreError::Conflict { what: what.into() }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        StoreError::Corrupt { what: what.into() }
    }

    /// Whether running the same operation again may succeed: lost connections, pool timeouts,
    /// serialization failures and deadlocks. Event consumers `nak` these and `term` the rest.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Database(err) => match err {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Protocol(_)
                | sqlx::Error::Tls(_) => true,
                sqlx::Error::Database(db) => matches!(
                    db.code().as_deref(),
                    Some(pg_codes::SERIALIZATION_FAILURE | pg_codes::DEADLOCK_DETECTED)
                ),
                _ => false,
            },
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        classify(err)
    }
}

/// Turns a sqlx error into the variant a caller can act on, by SQLSTATE and constraint name.
fn classify(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::ColumnDecode { index, source } => {
            StoreError::corrupt(format!("column {index}: {source}"))
        }
        sqlx::Error::Decode(source) => StoreError::corrupt(source.to_string()),
        sqlx::Error::RowNotFound => StoreError::NotFound {
            what: "row".to_owned(),
        },
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned());
            let constraint = db.constraint().unwrap_or_default().to_owned();
            match code.as_deref() {
                Some(pg_codes::UNIQUE_VIOLATION) => {
                    StoreError::conflict(unique_violation_message(&constraint))
                }
                Some(pg_codes::FOREIGN_KEY_VIOLATION) => StoreError::NotFound {
                    what: foreign_key_target(&constraint).to_owned(),
                },
                Some(pg_codes::CHECK_VIOLATION) => StoreError::Invalid {
                    what: check_violation_message(&constraint),
                },
                Some(
                    pg_codes::NOT_NULL_VIOLATION
                    | pg_codes::INVALID_TEXT_REPRESENTATION
                    | pg_codes::STRING_DATA_RIGHT_TRUNCATION,
                ) => StoreError::Invalid {
                    what: db.message().to_owned(),
                },
                // The edges refuse NUL in the fields they know; this catches any they miss, so
                // it is still the caller's error rather than an internal one.
                Some(
                    pg_codes::CHARACTER_NOT_IN_REPERTOIRE | pg_codes::UNTRANSLATABLE_CHARACTER,
                ) => StoreError::Invalid {
                    what: "a text value holds a NUL character (\\u0000), which cannot be stored; \
                           remove it"
                        .to_owned(),
                },
                Some(pg_codes::RESTRICT_VIOLATION) => StoreError::conflict(db.message().to_owned()),
                _ => StoreError::Database(sqlx::Error::Database(db)),
            }
        }
        other => StoreError::Database(other),
    }
}

fn unique_violation_message(constraint: &str) -> String {
    match constraint {
        "integrations_name_key" => "an integration with this name already exists".to_owned(),
        "presets_name_key" => "a preset with this name already exists".to_owned(),
        "api_tokens_active_name_key" => {
            "an active API token with this name already exists".to_owned()
        }
        "api_tokens_token_hash_key" => "this API token is already registered".to_owned(),
        "ticket_links_external_key" => {
            "this ticket is already linked to another finding of the integration".to_owned()
        }
        "ticket_links_one_active_key" => {
            "the finding already has a pending or live ticket link on this integration".to_owned()
        }
        "findings_scanner_key_key" => "a finding with this scanner key already exists".to_owned(),
        "" => "the row already exists".to_owned(),
        other => format!("the row already exists (constraint {other})"),
    }
}

fn foreign_key_target(constraint: &str) -> &'static str {
    match constraint {
        "ticket_links_finding_fkey" | "activity_finding_fkey" => "finding",
        "ticket_links_integration_fkey"
        | "mapping_rules_integration_fkey"
        | "poll_state_integration_fkey" => "integration",
        c if c.ends_with("tenant_id_fkey") => "tenant",
        _ => "referenced row",
    }
}

fn check_violation_message(constraint: &str) -> String {
    let rule = match constraint {
        "tenants_name_check"
        | "api_tokens_name_check"
        | "integrations_name_check"
        | "presets_name_check" => "name must be 1 to 200 characters and not blank",
        "api_tokens_token_hash_check" => "token hash must be a 32-byte SHA-256 digest",
        "findings_scanner_key_check" => "scanner key must be 1 to 255 characters",
        "findings_title_check" => "title must be 1 to 1000 characters and not blank",
        "integrations_base_url_check" => "base URL must start with http:// or https://",
        "presets_fields_check" => "preset fields must be a JSON object",
        "integrations_settings_check" => "integration settings must be a JSON object",
        "ticket_links_table_or_project_check" => "table or project must be 1 to 200 characters",
        "ticket_links_live_has_ticket_check" => {
            "a live ticket link needs an external id and a ticket key"
        }
        "ticket_links_version_check" => {
            "a vendor snapshot needs its state, time and sequence together"
        }
        "mapping_rules_rules_check" => "mapping rules must be a JSON object",
        "activity_kind_check" => "activity kind must be a lowercase slug such as status_changed",
        "findings_seen_order_check" => "first seen must not be after last seen",
        _ => "",
    };
    if rule.is_empty() {
        format!("value breaks the rule {constraint}")
    } else {
        rule.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_constraints_still_name_the_rule() {
        assert_eq!(
            check_violation_message("something_check"),
            "value breaks the rule something_check"
        );
        assert!(unique_violation_message("x_key").contains("x_key"));
    }

    #[test]
    fn pool_timeouts_are_retryable_and_logic_errors_are_not() {
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_retryable());
        assert!(!StoreError::conflict("x").is_retryable());
        assert!(!StoreError::not_found("finding", "1").is_retryable());
    }
}
