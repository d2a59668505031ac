//! The emulator's clock: wall-clock UTC plus an offset that tests can move forward, so SLA breaches,
//! token expiry and rate-limit windows can be exercised without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// ServiceNow's stored and returned date-time format: UTC, `YYYY-MM-DD HH:MM:SS`, second precision.
pub const SN_DATETIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

#[derive(Debug, Default)]
pub struct SimClock {
    offset_secs: AtomicI64,
}

impl SimClock {
    pub fn now(&self) -> OffsetDateTime {
        let now =
            OffsetDateTime::now_utc() + Duration::seconds(self.offset_secs.load(Ordering::Relaxed));
        // Every timestamp the emulator hands out has second granularity, like the platform's.
        now.replace_nanosecond(0).unwrap_or(now)
    }

    pub fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }

    pub fn offset_secs(&self) -> i64 {
        self.offset_secs.load(Ordering::Relaxed)
    }

    pub fn reset(&self) {
        self.offset_secs.store(0, Ordering::Relaxed);
    }
}

/// Formats an instant as a ServiceNow UTC value (`2026-07-29 06:46:48`).
pub fn format_utc(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(SN_DATETIME)
        .unwrap_or_default()
}

/// Formats an instant in a user's zone (display values).
pub fn format_in(t: OffsetDateTime, offset: UtcOffset) -> String {
    t.to_offset(offset).format(SN_DATETIME).unwrap_or_default()
}

/// Parses a ServiceNow date-time value (`YYYY-MM-DD HH:MM:SS`) as UTC.
pub fn parse_utc(s: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(s.trim(), SN_DATETIME)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Parses a wall-clock date-time in the given offset (input display values, `gs.dateGenerate`).
pub fn parse_in(s: &str, offset: UtcOffset) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(s.trim(), SN_DATETIME)
        .ok()
        .map(|p| p.assume_offset(offset))
}

/// A glide_duration raw value is an offset from the epoch: `1970-01-01 00:02:17` is 2 min 17 s.
pub fn format_duration_value(secs: i64) -> String {
    format_utc(OffsetDateTime::UNIX_EPOCH + Duration::seconds(secs.max(0)))
}

pub fn parse_duration_value(s: &str) -> Option<i64> {
    parse_utc(s).map(|t| (t - OffsetDateTime::UNIX_EPOCH).whole_seconds())
}

/// Display form of a duration: `1 Day 2 Hours 3 Minutes`, zero parts left out.
pub fn format_duration_display(secs: i64) -> String {
    let secs = secs.max(0);
    let parts = [
        (secs / 86_400, "Day"),
        (secs % 86_400 / 3600, "Hour"),
        (secs % 3600 / 60, "Minute"),
        (secs % 60, "Second"),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| {
            if *n == 1 {
                format!("1 {unit}")
            } else {
                format!("{n} {unit}s")
            }
        })
        .collect();
    if text.is_empty() {
        "0 Seconds".to_string()
    } else {
        text.join(" ")
    }
}

/// Time zones a seeded user may carry. The emulator has no tz database, so named zones map to their
/// standard-time offset (no daylight saving); `Etc/GMT+7`-style names and `UTC`/`GMT` are exact.
pub fn zone_offset(zone: &str) -> UtcOffset {
    let hours: i8 = match zone {
        "" | "GMT" | "UTC" | "Etc/UTC" | "Europe/London" => 0,
        "US/Pacific" | "America/Los_Angeles" => -8,
        "US/Mountain" | "America/Denver" => -7,
        "US/Central" | "America/Chicago" => -6,
        "US/Eastern" | "America/New_York" => -5,
        "Europe/Berlin" | "Europe/Paris" | "Europe/Amsterdam" | "CET" => 1,
        "Asia/Kolkata" => return UtcOffset::from_hms(5, 30, 0).unwrap_or(UtcOffset::UTC),
        "Asia/Tokyo" => 9,
        "Australia/Sydney" => 10,
        other => match other.strip_prefix("Etc/GMT") {
            // POSIX sign convention: Etc/GMT+7 is seven hours *behind* UTC.
            Some(rest) => rest.parse::<i8>().map(|h| -h).unwrap_or(0),
            None => 0,
        },
    };
    UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_servicenow_datetimes() {
        let t = parse_utc("2025-04-16 15:52:19").expect("parses");
        assert_eq!(format_utc(t), "2025-04-16 15:52:19");
        assert_eq!(
            format_in(t, zone_offset("Europe/Berlin")),
            "2025-04-16 16:52:19"
        );
        assert_eq!(
            format_in(t, zone_offset("Etc/GMT+7")),
            "2025-04-16 08:52:19"
        );
        assert!(parse_utc("2025-04-16T15:52:19Z").is_none());
    }

    #[test]
    fn durations_are_epoch_offsets() {
        assert_eq!(format_duration_value(137), "1970-01-01 00:02:17");
        assert_eq!(parse_duration_value("1970-01-01 00:02:17"), Some(137));
        assert_eq!(format_duration_display(137), "2 Minutes 17 Seconds");
        assert_eq!(format_duration_display(86_400 + 3600), "1 Day 1 Hour");
    }

    #[test]
    fn advancing_moves_now() {
        let clock = SimClock::default();
        let before = clock.unix();
        clock.advance(3600);
        assert!(clock.unix() - before >= 3600);
        clock.reset();
        assert_eq!(clock.offset_secs(), 0);
    }
}
