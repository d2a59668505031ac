//! Durations in configuration: `"250ms"`, `"5s"`, `"2m"`, `"1h"`, or a bare number of seconds.
//! Units are required in documentation examples; bare numbers are accepted because environment
//! variables and older configs often carry plain seconds.

/// `#[serde(with = "serde_duration")]` for `std::time::Duration` fields.
pub mod serde_duration {
    use std::fmt;
    use std::time::Duration;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }

    /// Writes whole seconds as `"Ns"` and anything finer as `"Nms"`, which reads back unchanged.
    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        if value.subsec_millis() == 0 {
            serializer.collect_str(&format_args!("{}s", value.as_secs()))
        } else {
            serializer.collect_str(&format_args!("{}ms", value.as_millis()))
        }
    }

    /// Parses `"250ms"`, `"5s"`, `"2m"`, `"1h"` or `"30"` (seconds).
    pub fn parse(text: &str) -> Result<Duration, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let invalid = || {
            format!(
                "{text:?} is not a duration; use a number with a unit such as 250ms, 5s, 2m or 1h"
            )
        };
        let number: u64 = number.parse().map_err(|_| invalid())?;
        let millis_per_unit: u64 = match unit.trim() {
            "ms" => 1,
            "" | "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(invalid()),
        };
        number
            .checked_mul(millis_per_unit)
            .map(Duration::from_millis)
            .ok_or_else(invalid)
    }

    struct DurationVisitor;

    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as \"5s\", \"250ms\", \"2m\" or a number of seconds")
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
            u64::try_from(v)
                .map(Duration::from_secs)
                .map_err(|_| E::custom(format!("a duration cannot be negative, got {v}")))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            parse(v).map_err(E::custom)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_units_and_bare_seconds() {
            assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
            assert_eq!(parse("5s"), Ok(Duration::from_secs(5)));
            assert_eq!(parse(" 2m "), Ok(Duration::from_secs(120)));
            assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
            assert_eq!(parse("30"), Ok(Duration::from_secs(30)));
            for bad in ["", "s", "5 parsecs", "-1s", "1.5s", "99999999999999999999h"] {
                let err = parse(bad).unwrap_err();
                assert!(err.contains("is not a duration"), "{bad}: {err}");
            }
        }
    }
}
