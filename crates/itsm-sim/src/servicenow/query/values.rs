//! Query values that are scripts (`javascript:gs.getUserID()` and friends, §1.6). Date helpers work
//! in the calling user's time zone and yield UTC values, as the platform's do.

use time::{Duration, OffsetDateTime, Time, UtcOffset};

use crate::clock::{format_utc, parse_in};

/// Who is asking and when: what a script value needs.
#[derive(Clone, Debug)]
pub struct ScriptEnv<'a> {
    pub user_id: &'a str,
    pub user_name: &'a str,
    pub tz: UtcOffset,
    pub now: OffsetDateTime,
}

/// Resolves `javascript:…` values; anything else is returned unchanged. Unknown scripts come back
/// unchanged too, so they simply match nothing.
pub fn resolve(value: &str, env: &ScriptEnv<'_>) -> String {
    let Some(script) = value.trim().strip_prefix("javascript:") else {
        return value.to_string();
    };
    let script = script.trim().trim_end_matches(';');
    let (name, args) = match script.split_once('(') {
        Some((name, rest)) => (name.trim(), rest.trim_end_matches(')')),
        None => return value.to_string(),
    };
    let args: Vec<String> = args
        .split(',')
        .map(|a| a.trim().trim_matches('\'').trim_matches('"').to_string())
        .filter(|a| !a.is_empty())
        .collect();
    let n = |i: usize| args.get(i).and_then(|a| a.parse::<i64>().ok()).unwrap_or(0);
    let local_midnight = |days_ago: i64| {
        let local = env.now.to_offset(env.tz) - Duration::days(days_ago);
        local.replace_time(Time::MIDNIGHT)
    };
    match name {
        "gs.getUserID" => env.user_id.to_string(),
        "gs.getUserName" => env.user_name.to_string(),
        "gs.nowDateTime" | "gs.nowNoTZ" => format_utc(env.now),
        "gs.daysAgo" => format_utc(env.now - Duration::days(n(0))),
        "gs.daysAgoStart" => format_utc(local_midnight(n(0))),
        "gs.daysAgoEnd" => {
            format_utc(local_midnight(n(0)) + Duration::days(1) - Duration::seconds(1))
        }
        "gs.beginningOfToday" => format_utc(local_midnight(0)),
        "gs.endOfToday" => format_utc(local_midnight(0) + Duration::days(1) - Duration::seconds(1)),
        "gs.beginningOfYesterday" => format_utc(local_midnight(1)),
        "gs.endOfYesterday" => format_utc(local_midnight(0) - Duration::seconds(1)),
        "gs.hoursAgo" => format_utc(env.now - Duration::hours(n(0))),
        "gs.minutesAgo" => format_utc(env.now - Duration::minutes(n(0))),
        "gs.dateGenerate" => {
            let date = args.first().cloned().unwrap_or_default();
            let time = match args.get(1).map(String::as_str) {
                Some("start") | None => "00:00:00".to_string(),
                Some("end") => "23:59:59".to_string(),
                Some(t) => t.to_string(),
            };
            match parse_in(&format!("{date} {time}"), env.tz) {
                Some(t) => format_utc(t),
                None => value.to_string(),
            }
        }
        _ => value.to_string(),
    }
}

/// `@hour@ago@1` → the instant the RELATIVE operators compare against.
pub fn relative_instant(spec: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let mut parts = spec.trim_start_matches('@').split('@');
    let unit = parts.next()?;
    let direction = parts.next()?;
    let n: i64 = parts.next()?.trim().parse().ok()?;
    let span = match unit {
        "second" => Duration::seconds(n),
        "minute" => Duration::minutes(n),
        "hour" => Duration::hours(n),
        "day" | "dayofweek" => Duration::days(n),
        "week" => Duration::weeks(n),
        "month" => Duration::days(30 * n),
        "quarter" => Duration::days(91 * n),
        "year" => Duration::days(365 * n),
        _ => return None,
    };
    match direction {
        "ago" => Some(now - span),
        "ahead" => Some(now + span),
        _ => None,
    }
}

/// The unit length of a RELATIVE spec (for `RELATIVEEE`, "within the same unit").
pub fn relative_unit(spec: &str) -> Duration {
    match spec.trim_start_matches('@').split('@').next().unwrap_or("") {
        "second" => Duration::seconds(1),
        "minute" => Duration::minutes(1),
        "hour" => Duration::hours(1),
        "week" => Duration::weeks(1),
        "month" => Duration::days(30),
        "quarter" => Duration::days(91),
        "year" => Duration::days(365),
        _ => Duration::days(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{parse_utc, zone_offset};

    fn env(tz: &str) -> ScriptEnv<'static> {
        ScriptEnv {
            user_id: "6816f79cc0a8016401c5a33be04be441",
            user_name: "admin",
            tz: zone_offset(tz),
            now: parse_utc("2026-03-10 12:30:00").expect("valid"),
        }
    }

    #[test]
    fn user_scripts() {
        assert_eq!(
            resolve("javascript:gs.getUserID()", &env("UTC")),
            "6816f79cc0a8016401c5a33be04be441"
        );
        assert_eq!(resolve("javascript:gs.getUserName()", &env("UTC")), "admin");
        assert_eq!(resolve("plain", &env("UTC")), "plain");
        assert_eq!(
            resolve("javascript:gs.unknown()", &env("UTC")),
            "javascript:gs.unknown()"
        );
    }

    #[test]
    fn date_generate_reads_the_users_zone() {
        // US/Pacific (standard time, UTC-8 here): 10:11:41 local is 18:11:41 UTC.
        let v = resolve(
            "javascript:gs.dateGenerate('2015-06-26','10:11:41')",
            &env("US/Pacific"),
        );
        assert_eq!(v, "2015-06-26 18:11:41");
        assert_eq!(
            resolve(
                "javascript:gs.dateGenerate('2015-06-26','end')",
                &env("UTC")
            ),
            "2015-06-26 23:59:59"
        );
    }

    #[test]
    fn days_ago_start_and_end_are_local_midnights() {
        assert_eq!(
            resolve("javascript:gs.daysAgoStart(0)", &env("UTC")),
            "2026-03-10 00:00:00"
        );
        assert_eq!(
            resolve("javascript:gs.daysAgoEnd(1)", &env("UTC")),
            "2026-03-09 23:59:59"
        );
        assert_eq!(
            resolve("javascript:gs.beginningOfToday()", &env("Europe/Berlin")),
            "2026-03-09 23:00:00"
        );
        assert_eq!(
            resolve("javascript:gs.hoursAgo(2)", &env("UTC")),
            "2026-03-10 10:30:00"
        );
    }

    #[test]
    fn relative_specs() {
        let now = parse_utc("2026-03-10 12:30:00").expect("valid");
        assert_eq!(
            relative_instant("@hour@ago@1", now),
            parse_utc("2026-03-10 11:30:00")
        );
        assert_eq!(
            relative_instant("@day@ahead@2", now),
            parse_utc("2026-03-12 12:30:00")
        );
        assert_eq!(relative_instant("@fortnight@ago@1", now), None);
        assert_eq!(relative_unit("@minute@ago@5"), Duration::minutes(1));
    }
}
