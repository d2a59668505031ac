//! `google.protobuf.Timestamp` ⇄ `time::OffsetDateTime`.

use time::OffsetDateTime;

pub fn to_timestamp(at: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        // Always in 0..1e9, so the conversion cannot fail.
        nanos: i32::try_from(at.nanosecond()).unwrap_or(0),
    }
}

/// Converts a protobuf timestamp, refusing values outside the range `time` can represent.
pub fn from_timestamp(ts: &prost_types::Timestamp) -> Option<OffsetDateTime> {
    let nanos = i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn round_trips_to_the_nanosecond() {
        let at = datetime!(2026-11-23 06:42:36.123456789 UTC);
        assert_eq!(from_timestamp(&to_timestamp(at)), Some(at));
    }

    #[test]
    fn out_of_range_is_refused() {
        let ts = prost_types::Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert_eq!(from_timestamp(&ts), None);
    }
}
