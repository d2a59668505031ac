//! The vendor's version of a ticket, used to order observations so an older one never overwrites
//! a newer one, whichever channel (webhook or poll) delivered it first.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::error::DomainError;

/// When the vendor last changed a ticket, plus a tie-breaker for changes within the same instant.
/// Ordered by time, then sequence:
///
/// - ServiceNow: `sys_updated_on` (UTC, whole seconds) and `sys_mod_count`, which grows on every
///   update, so two updates in one second still order.
/// - Jira: `fields.updated` (milliseconds) and the changelog id when the payload has one, else 0.
/// - ServiceDesk Plus: `last_updated_time` (epoch milliseconds); sequence 0.
///
/// The time is kept in UTC and truncated to whole microseconds, the precision of PostgreSQL
/// `timestamptz`, so a version read back from the store compares equal to the one written. The
/// store keeps it as two columns, [`updated_at`](Self::updated_at) (`vendor_updated_at`) and
/// [`sequence`](Self::sequence) (`vendor_sequence`), and rebuilds it with [`VendorVersion::new`].
/// The text form (`2025-04-16T15:52:19Z#4`, see [`FromStr`]) is for events and logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "RawVersion", into = "RawVersion")]
pub struct VendorVersion {
    updated_at: OffsetDateTime,
    sequence: i64,
}

impl VendorVersion {
    pub fn new(updated_at: OffsetDateTime, sequence: i64) -> Self {
        let utc = updated_at.to_offset(UtcOffset::UTC);
        let micros = utc.microsecond();
        Self {
            updated_at: utc.replace_microsecond(micros).unwrap_or(utc),
            sequence,
        }
    }

    /// From a ServiceNow record's raw values: `sys_updated_on` (`2025-04-16 15:52:19`, UTC) and
    /// `sys_mod_count` (`"4"`). Never pass display values; they are in the user's time zone.
    pub fn servicenow(sys_updated_on: &str, sys_mod_count: &str) -> Result<Self, DomainError> {
        let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        let updated_at = PrimitiveDateTime::parse(sys_updated_on.trim(), format)
            .map_err(|_| {
                DomainError::invalid(
                    "sys_updated_on",
                    sys_updated_on,
                    "a UTC time such as 2025-04-16 15:52:19",
                )
            })?
            .assume_utc();
        let mod_count = sys_mod_count
            .trim()
            .parse::<u32>()
            .map_err(|_| DomainError::invalid("sys_mod_count", sys_mod_count, "a whole number"))?;
        Ok(Self::new(updated_at, i64::from(mod_count)))
    }

    /// From a Jira issue's `fields.updated` (`2024-10-08T16:38:03.790+0800`; RFC 3339 is accepted
    /// too) and the changelog id of the change: the webhook's `changelog.id`, or the newest
    /// history id when a poll expanded the changelog. Without one the sequence is 0, which only
    /// makes a poll of a change already seen by webhook compare as stale, never as newer.
    pub fn jira(updated: &str, changelog_id: Option<i64>) -> Result<Self, DomainError> {
        let jira_format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]"
        );
        let trimmed = updated.trim();
        let updated_at = OffsetDateTime::parse(trimmed, jira_format)
            .or_else(|_| OffsetDateTime::parse(trimmed, &Rfc3339))
            .map_err(|_| {
                DomainError::invalid(
                    "Jira updated time",
                    updated,
                    "a time such as 2024-10-08T16:38:03.790+0800",
                )
            })?;
        Ok(Self::new(updated_at, changelog_id.unwrap_or(0)))
    }

    /// From a ServiceDesk Plus request's `last_updated_time.value` (epoch milliseconds, sent as a
    /// string).
    pub fn manageengine(last_updated_time: &str) -> Result<Self, DomainError> {
        let invalid = || {
            DomainError::invalid(
                "last_updated_time",
                last_updated_time,
                "epoch milliseconds such as 1593000300679",
            )
        };
        let millis: i64 = last_updated_time.trim().parse().map_err(|_| invalid())?;
        let updated_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .map_err(|_| invalid())?;
        Ok(Self::new(updated_at, 0))
    }

    pub const fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }

    pub const fn sequence(&self) -> i64 {
        self.sequence
    }

    /// Whether the change this version stamps certainly happened no later than `at`. A time with
    /// no fraction of a second may come from a vendor that keeps whole seconds (ServiceNow's
    /// `sys_updated_on`): the change then happened somewhere in that second, so it counts as no
    /// later than `at` only when the whole second does. (A millisecond time that happens to fall
    /// on `.000` is read the same way: at worst a tie within that second goes to the vendor.)
    pub fn changed_no_later_than(&self, at: OffsetDateTime) -> bool {
        let latest = if self.updated_at.nanosecond() == 0 {
            self.updated_at + time::Duration::SECOND
        } else {
            self.updated_at
        };
        latest <= at
    }

    /// Whether the vendor's change time lies after `instant`: with `instant` the receiver's clock
    /// plus the allowed skew, a version from the future that must not be trusted (see
    /// `transition`).
    pub fn lies_after(&self, instant: OffsetDateTime) -> bool {
        self.updated_at > instant
    }
}

impl fmt::Display for VendorVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = self.updated_at.format(&Rfc3339).map_err(|_| fmt::Error)?;
        write!(f, "{time}#{}", self.sequence)
    }
}

impl fmt::Debug for VendorVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VendorVersion({self})")
    }
}

/// Parses the text form written by `Display`: an RFC 3339 time, `#`, and the sequence.
impl FromStr for VendorVersion {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            DomainError::invalid(
                "vendor version",
                s,
                "an RFC 3339 time, '#' and a sequence number, such as 2025-04-16T15:52:19Z#4",
            )
        };
        let (time, sequence) = s.trim().rsplit_once('#').ok_or_else(invalid)?;
        let updated_at = OffsetDateTime::parse(time, &Rfc3339).map_err(|_| invalid())?;
        let sequence = sequence.parse().map_err(|_| invalid())?;
        Ok(Self::new(updated_at, sequence))
    }
}

/// The JSON form: `{"updated_at": "<RFC 3339>", "sequence": 4}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    sequence: i64,
}

impl From<RawVersion> for VendorVersion {
    fn from(raw: RawVersion) -> Self {
        VendorVersion::new(raw.updated_at, raw.sequence)
    }
}

impl From<VendorVersion> for RawVersion {
    fn from(version: VendorVersion) -> Self {
        RawVersion {
            updated_at: version.updated_at,
            sequence: version.sequence,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_whole_second_time_covers_its_second() {
        let set_at = datetime!(2026-12-05 02:15:59.114 UTC);
        // ServiceNow says 02:15:59: the change may have been at .800, after set_at.
        let same_second = VendorVersion::servicenow("2026-12-05 02:15:59", "1").unwrap();
        assert!(!same_second.changed_no_later_than(set_at));
        let second_before = VendorVersion::servicenow("2026-12-05 02:15:58", "1").unwrap();
        assert!(second_before.changed_no_later_than(set_at));
        // Milliseconds (Jira, SDP) compare as they are.
        let earlier_ms = VendorVersion::new(datetime!(2026-12-05 02:15:59.100 UTC), 0);
        assert!(earlier_ms.changed_no_later_than(set_at));
        let later_ms = VendorVersion::new(datetime!(2026-12-05 02:15:59.200 UTC), 0);
        assert!(!later_ms.changed_no_later_than(set_at));
    }

    #[test]
    fn servicenow_versions_order_by_time_then_mod_count() {
        let a = VendorVersion::servicenow("2025-04-16 15:52:19", "4").unwrap();
        let b = VendorVersion::servicenow("2025-04-16 15:52:19", "5").unwrap();
        let c = VendorVersion::servicenow("2025-04-16 15:52:20", "0").unwrap();
        assert!(a < b && b < c);
        assert_eq!(a.updated_at(), datetime!(2025-04-16 15:52:19 UTC));
        assert!(VendorVersion::servicenow("16/04/2025 17:52:19", "4").is_err());
        assert!(VendorVersion::servicenow("2025-04-16 15:52:19", "-1").is_err());
    }

    #[test]
    fn jira_times_carry_their_offset() {
        let v = VendorVersion::jira("2024-10-08T16:38:03.790+0800", Some(10030)).unwrap();
        assert_eq!(v.updated_at(), datetime!(2024-10-08 08:38:03.790 UTC));
        assert_eq!(v.sequence(), 10030);
        let rfc = VendorVersion::jira("2024-10-08T08:38:03.790Z", None).unwrap();
        assert_eq!(rfc.updated_at(), v.updated_at());
        assert!(rfc < v);
        assert!(VendorVersion::jira("2024-10-08", None).is_err());
    }

    #[test]
    fn manageengine_times_are_epoch_millis() {
        let v = VendorVersion::manageengine("1593000300679").unwrap();
        assert_eq!(v.updated_at(), datetime!(2020-06-24 12:05:00.679 UTC));
        assert!(VendorVersion::manageengine("Jun 24, 2020").is_err());
    }

    #[test]
    fn versions_survive_the_store_and_text_forms() {
        let v = VendorVersion::new(datetime!(2026-01-05 12:00:00.123456789 +02:00), 7);
        assert_eq!(v.updated_at(), datetime!(2026-01-05 10:00:00.123456 UTC));
        assert_eq!(v.to_string(), "2026-01-05T10:00:00.123456Z#7");
        assert_eq!(v.to_string().parse::<VendorVersion>().unwrap(), v);
        assert_eq!(VendorVersion::new(v.updated_at(), v.sequence()), v);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(serde_json::from_str::<VendorVersion>(&json).unwrap(), v);
        assert!("2026-01-05T10:00:00Z".parse::<VendorVersion>().is_err());
    }
}
