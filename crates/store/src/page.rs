//! Keyset pagination shared by the finding list and the activity feed.
//!
//! Pages are ordered newest first by `(timestamp, id)`, and the cursor is the key of the last row
//! returned. Unlike OFFSET, a keyset cursor visits every row exactly once even while rows are being
//! inserted, and costs the same on page 1 and page 10 000.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreError;

/// The most rows one page returns, whatever the caller asks for (the workbench limit).
pub const MAX_PAGE_SIZE: u32 = 200;

/// The position after which the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: OffsetDateTime,
    pub id: Uuid,
}

impl Cursor {
    /// An opaque text form for API clients: `<unix nanoseconds>_<uuid>`.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.at.unix_timestamp_nanos(), self.id.simple())
    }

    pub fn decode(token: &str) -> Result<Self, StoreError> {
        let invalid = || StoreError::Invalid {
            what: format!("page token {token:?} is not one this server issued"),
        };
        let (nanos, id) = token.trim().split_once('_').ok_or_else(invalid)?;
        let nanos: i128 = nanos.parse().map_err(|_| invalid())?;
        let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| invalid())?;
        let id = Uuid::parse_str(id).map_err(|_| invalid())?;
        Ok(Cursor { at, id })
    }
}

/// Which page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted; clamped to `1..=MAX_PAGE_SIZE`.
    pub limit: u32,
    /// Start after this cursor; `None` for the first page.
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        PageRequest { limit, after: None }
    }

    pub fn after(limit: u32, cursor: Cursor) -> Self {
        PageRequest {
            limit,
            after: Some(cursor),
        }
    }

    pub(crate) fn clamped_limit(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE_SIZE) as usize
    }
}

/// One page of rows, and the cursor of the next page when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only proves a next page exists.
    pub(crate) fn from_overfetch(
        mut rows: Vec<T>,
        limit: usize,
        key: impl Fn(&T) -> Cursor,
    ) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(key) } else { None };
        Page { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_foreign_tokens() {
        let cursor = Cursor {
            at: OffsetDateTime::from_unix_timestamp_nanos(1_763_880_000_123_456_000).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in [
            "",
            "abc",
            "12_notauuid",
            "x_0190a0c2-7e4b-7cc1-9f2e-3c1d2b4a5e6f",
        ] {
            assert!(
                matches!(Cursor::decode(bad), Err(StoreError::Invalid { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn limits_are_clamped_and_overfetch_sets_next() {
        assert_eq!(PageRequest::first(0).clamped_limit(), 1);
        assert_eq!(
            PageRequest::first(10_000).clamped_limit(),
            MAX_PAGE_SIZE as usize
        );
        let key = |n: &i64| Cursor {
            at: OffsetDateTime::UNIX_EPOCH,
            id: Uuid::from_u128(*n as u128),
        };
        let page = Page::from_overfetch(vec![1, 2, 3], 2, key);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next.unwrap().id, Uuid::from_u128(2));
        assert!(Page::from_overfetch(vec![1, 2], 2, key).next.is_none());
    }
}
