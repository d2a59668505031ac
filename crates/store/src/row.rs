//! Decoding helpers for the hand-written `FromRow` impls. The domain types live in another crate,
//! so sqlx's `Type`/`Decode` cannot be implemented for them here (orphan rule); instead each record
//! reads plain columns and converts them with these helpers. A value the code cannot parse becomes
//! `sqlx::Error::ColumnDecode`, which `StoreError` reports as `Corrupt` with the column name.

use std::str::FromStr;

use lockstep_crypto::Sealed;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

pub(crate) fn decode_error(
    col: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: Box::new(source),
    }
}

/// A typed id column.
pub(crate) fn id<T>(row: &PgRow, col: &str, from_uuid: fn(Uuid) -> T) -> Result<T, sqlx::Error> {
    row.try_get::<Uuid, _>(col).map(from_uuid)
}

/// A NOT NULL vocabulary column (severity, status, vendor, ...).
pub(crate) fn vocab<T>(row: &PgRow, col: &str) -> Result<T, sqlx::Error>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.try_get(col)?;
    text.parse().map_err(|e| decode_error(col, e))
}

/// A nullable vocabulary column.
pub(crate) fn opt_vocab<T>(row: &PgRow, col: &str) -> Result<Option<T>, sqlx::Error>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| t.parse().map_err(|e| decode_error(col, e)))
        .transpose()
}

/// A NOT NULL text column holding a validated domain value (`ScannerKey::parse`, ...).
pub(crate) fn parsed<T, E>(
    row: &PgRow,
    col: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, sqlx::Error>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.try_get(col)?;
    parse(&text).map_err(|e| decode_error(col, e))
}

/// A nullable text column holding a validated domain value.
pub(crate) fn opt_parsed<T, E>(
    row: &PgRow,
    col: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, sqlx::Error>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| parse(&t).map_err(|e| decode_error(col, e)))
        .transpose()
}

/// A JSONB column in the serde form of `T`.
pub(crate) fn json<T: DeserializeOwned>(row: &PgRow, col: &str) -> Result<T, sqlx::Error> {
    let value: sqlx::types::Json<serde_json::Value> = row.try_get(col)?;
    serde_json::from_value(value.0).map_err(|e| decode_error(col, e))
}

/// A BYTEA column holding `Sealed::to_bytes()`.
pub(crate) fn sealed(row: &PgRow, col: &str) -> Result<Sealed, sqlx::Error> {
    let bytes: Vec<u8> = row.try_get(col)?;
    Sealed::from_bytes(&bytes).map_err(|e| decode_error(col, e))
}

pub(crate) fn opt_sealed(row: &PgRow, col: &str) -> Result<Option<Sealed>, sqlx::Error> {
    let bytes: Option<Vec<u8>> = row.try_get(col)?;
    bytes
        .map(|b| Sealed::from_bytes(&b).map_err(|e| decode_error(col, e)))
        .transpose()
}

/// Declares a closed vocabulary that only the store knows (auth kinds, roles, link states…),
/// spelled exactly like the matching CHECK constraint in `migrations/`.
macro_rules! store_vocabulary {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = lockstep_domain::ParseVocabError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(lockstep_domain::ParseVocabError {
                        kind: $kind,
                        value: s.to_owned(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }
    };
}

pub(crate) use store_vocabulary;
