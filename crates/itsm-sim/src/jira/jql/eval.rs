//! Evaluating a parsed query against issues, and ordering the matches.

use std::cmp::Ordering;

use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::{Expr, Lit, Op, Operand, Query};
use crate::jira::db::JiraDb;
use crate::jira::model::Issue;

pub struct Ctx<'a> {
    pub db: &'a JiraDb,
    /// The searching user (for `currentUser()`) and the zone date literals are read in.
    pub account_id: &'a str,
    pub tz: UtcOffset,
    pub now: OffsetDateTime,
}

const FIELDS: &[&str] = &[
    "project",
    "key",
    "issuekey",
    "id",
    "status",
    "statuscategory",
    "issuetype",
    "type",
    "priority",
    "resolution",
    "labels",
    "assignee",
    "reporter",
    "parent",
    "summary",
    "text",
    "created",
    "createddate",
    "updated",
    "updateddate",
    "resolutiondate",
    "resolved",
];

fn date_field(f: &str) -> bool {
    matches!(
        f,
        "created" | "createddate" | "updated" | "updateddate" | "resolutiondate" | "resolved"
    )
}

fn bad_date(v: &str, field: &str) -> String {
    format!(
        "Date value '{v}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', \
         'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )
}

impl Ctx<'_> {
    /// Rejects unknown fields and malformed dates before any issue is looked at.
    pub fn validate(&self, e: &Expr) -> Result<(), String> {
        match e {
            Expr::And(a, b) | Expr::Or(a, b) => {
                self.validate(a)?;
                self.validate(b)
            }
            Expr::Not(a) => self.validate(a),
            Expr::Clause { field, value, .. } => {
                if !FIELDS.contains(&field.as_str()) && !field.starts_with("cf[") {
                    return Err(format!(
                        "Field '{field}' does not exist or you do not have permission to view it."
                    ));
                }
                if date_field(field) {
                    let lits: Vec<&Lit> = match value {
                        Operand::One(l) => vec![l],
                        Operand::List(l) => l.iter().collect(),
                        Operand::Empty => vec![],
                    };
                    for l in lits {
                        self.instant(l).ok_or_else(|| bad_date(l.text(), field))?;
                    }
                }
                Ok(())
            }
        }
    }

    /// A date literal as an instant: zone-less literals are in the searching user's zone.
    pub fn instant(&self, lit: &Lit) -> Option<OffsetDateTime> {
        let text = lit.text().trim();
        if let Lit::Func(f) = lit {
            return match f.as_str() {
                "now" => Some(self.now),
                "startofday" => Some(
                    self.now
                        .to_offset(self.tz)
                        .replace_time(time::Time::MIDNIGHT),
                ),
                _ => None,
            };
        }
        if let (Lit::Word(_), Ok(ms)) = (lit, text.parse::<i64>()) {
            return OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok();
        }
        if let Some(d) = relative(text) {
            return Some(self.now + d);
        }
        let norm = text.replace('/', "-");
        let with_time = PrimitiveDateTime::parse(
            &norm,
            format_description!("[year]-[month]-[day] [hour]:[minute]"),
        );
        let date_only = time::Date::parse(&norm, format_description!("[year]-[month]-[day]"))
            .map(|d| d.midnight());
        with_time
            .or(date_only)
            .ok()
            .map(|p| p.assume_offset(self.tz))
    }

    pub fn matches(&self, e: &Expr, i: &Issue) -> bool {
        match e {
            Expr::And(a, b) => self.matches(a, i) && self.matches(b, i),
            Expr::Or(a, b) => self.matches(a, i) || self.matches(b, i),
            Expr::Not(a) => !self.matches(a, i),
            Expr::Clause { field, op, value } => self.clause(field, *op, value, i),
        }
    }

    fn clause(&self, field: &str, op: Op, value: &Operand, i: &Issue) -> bool {
        if date_field(field) {
            return self.date_clause(field, op, value, i);
        }
        let actual = self.values_of(field, i);
        let is = |lit: &Lit| actual.iter().any(|a| self.equal(field, a, lit));
        match (op, value) {
            (Op::Is, Operand::Empty) => actual.is_empty(),
            (Op::IsNot, Operand::Empty) => !actual.is_empty(),
            (Op::Eq, Operand::One(l)) => is(l),
            (Op::Ne, Operand::One(l)) => !is(l),
            (Op::In, Operand::List(ls)) => ls.iter().any(is),
            (Op::NotIn, Operand::List(ls)) => !ls.iter().any(is),
            (Op::Like, Operand::One(l)) => actual
                .iter()
                .any(|a| a.to_lowercase().contains(&l.text().to_lowercase())),
            (Op::NotLike, Operand::One(l)) => !actual
                .iter()
                .any(|a| a.to_lowercase().contains(&l.text().to_lowercase())),
            (Op::Gt | Op::Ge | Op::Lt | Op::Le, Operand::One(l))
                if matches!(field, "id" | "key" | "issuekey") =>
            {
                let target = self
                    .db
                    .issue_id(l.text())
                    .map(|id| self.db.issues[&id].id)
                    .unwrap_or(0);
                cmp_op(op, i.id.cmp(&target))
            }
            _ => false,
        }
    }

    fn equal(&self, field: &str, actual: &str, lit: &Lit) -> bool {
        let want = match lit {
            Lit::Func(f) if f == "currentuser" => self.account_id,
            other => other.text(),
        };
        match field {
            "key" | "issuekey" | "id" | "parent" => self
                .db
                .issue_id(want)
                .is_some_and(|id| self.db.issues[&id].key == actual),
            _ => actual.eq_ignore_ascii_case(want),
        }
    }

    /// Every string a clause value may equal for this issue (key, id, name, …).
    fn values_of(&self, field: &str, i: &Issue) -> Vec<String> {
        let db = self.db;
        match field {
            "project" => db
                .project_by_id(&i.project_id)
                .map(|p| vec![p.key.clone(), p.id.clone(), p.name.clone()])
                .unwrap_or_default(),
            "key" | "issuekey" | "id" => vec![i.key.clone()],
            "status" => db
                .status(&i.status_id)
                .map(|s| vec![s.name.clone(), s.id.clone()])
                .unwrap_or_default(),
            "statuscategory" => db
                .status(&i.status_id)
                .map(|s| {
                    let c = s.category;
                    vec![
                        c.key().to_string(),
                        c.name().to_string(),
                        c.id().to_string(),
                    ]
                })
                .unwrap_or_default(),
            "issuetype" | "type" => db
                .issue_type(&i.issuetype_id)
                .map(|t| vec![t.name.clone(), t.id.clone()])
                .unwrap_or_default(),
            "priority" => db
                .priority(&i.priority_id)
                .map(|p| vec![p.name.clone(), p.id.clone()])
                .unwrap_or_default(),
            "resolution" => match i.resolution_id.as_deref().and_then(|r| db.resolution(r)) {
                Some(r) => vec![r.name.clone(), r.id.clone()],
                None => vec![],
            },
            "labels" => i.labels.clone(),
            "assignee" => i.assignee.iter().cloned().collect(),
            "reporter" => i.reporter.iter().cloned().collect(),
            "parent" => i
                .parent
                .and_then(|p| db.issues.get(&p))
                .map(|p| vec![p.key.clone()])
                .unwrap_or_default(),
            "summary" | "text" => vec![i.summary.clone()],
            cf => {
                let id = cf.trim_start_matches("cf[").trim_end_matches(']');
                match i.custom.get(&format!("customfield_{id}")) {
                    Some(serde_json::Value::String(s)) => vec![s.clone()],
                    Some(v) => v
                        .get("value")
                        .and_then(|x| x.as_str())
                        .map(|s| vec![s.to_string()])
                        .unwrap_or_default(),
                    None => vec![],
                }
            }
        }
    }

    fn date_clause(&self, field: &str, op: Op, value: &Operand, i: &Issue) -> bool {
        let actual = match field {
            "created" | "createddate" => Some(i.created),
            "updated" | "updateddate" => Some(i.updated),
            _ => i.resolution_date,
        };
        match (op, value, actual) {
            (Op::Is, Operand::Empty, a) => a.is_none(),
            (Op::IsNot, Operand::Empty, a) => a.is_some(),
            (_, Operand::One(l), Some(a)) => self.instant(l).is_some_and(|t| cmp_op(op, a.cmp(&t))),
            _ => false,
        }
    }

    /// Orders matches by the query's ORDER BY (Jira's default order is not documented; the
    /// emulator uses `created DESC, id DESC` when none is given).
    pub fn sort(&self, q: &Query, issues: &mut [&Issue]) -> Result<(), String> {
        let order: Vec<(String, bool)> = if q.order.is_empty() {
            vec![("created".into(), true), ("id".into(), true)]
        } else {
            q.order.clone()
        };
        for (f, _) in &order {
            if !matches!(
                f.as_str(),
                "updated"
                    | "created"
                    | "id"
                    | "key"
                    | "issuekey"
                    | "priority"
                    | "status"
                    | "project"
                    | "summary"
                    | "resolutiondate"
            ) {
                return Err(format!("Not able to sort using field '{f}'."));
            }
        }
        issues.sort_by(|a, b| {
            for (f, desc) in &order {
                let o = self.cmp_field(f, a, b);
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        Ok(())
    }

    fn cmp_field(&self, f: &str, a: &Issue, b: &Issue) -> Ordering {
        let db = self.db;
        match f {
            "updated" => a.updated.cmp(&b.updated),
            "created" => a.created.cmp(&b.created),
            "resolutiondate" => a.resolution_date.cmp(&b.resolution_date),
            "id" => a.id.cmp(&b.id),
            "key" | "issuekey" => {
                let pk = |i: &Issue| db.project_by_id(&i.project_id).map(|p| p.key.clone());
                pk(a).cmp(&pk(b)).then(a.number().cmp(&b.number()))
            }
            "priority" => a
                .priority_id
                .parse::<u32>()
                .unwrap_or(0)
                .cmp(&b.priority_id.parse::<u32>().unwrap_or(0)),
            "status" => db
                .status(&a.status_id)
                .map(|s| &s.name)
                .cmp(&db.status(&b.status_id).map(|s| &s.name)),
            "project" => a.project_id.cmp(&b.project_id),
            _ => a.summary.cmp(&b.summary),
        }
    }
}

fn cmp_op(op: Op, o: Ordering) -> bool {
    match op {
        Op::Eq => o == Ordering::Equal,
        Op::Ne => o != Ordering::Equal,
        Op::Gt => o == Ordering::Greater,
        Op::Ge => o != Ordering::Less,
        Op::Lt => o == Ordering::Less,
        Op::Le => o != Ordering::Greater,
        _ => false,
    }
}

/// `-5m`, `+2h`, `-1d`, `-1w`, `4w 2d` style periods.
fn relative(s: &str) -> Option<Duration> {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let mut total = Duration::ZERO;
    let mut any = false;
    for part in rest.split_whitespace() {
        let (n, unit) = part.split_at(part.len().checked_sub(1)?);
        let n: i64 = n.parse().ok()?;
        total += match unit {
            "m" => Duration::minutes(n),
            "h" => Duration::hours(n),
            "d" => Duration::days(n),
            "w" => Duration::weeks(n),
            _ => return None,
        };
        any = true;
    }
    any.then_some(total * sign)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::jql::parse;
    use crate::jira::seed;

    fn ctx<'a>(db: &'a JiraDb, tz: UtcOffset, now: OffsetDateTime) -> Ctx<'a> {
        Ctx {
            db,
            account_id: seed::ADMIN,
            tz,
            now,
        }
    }

    #[test]
    fn literals_are_read_in_the_users_zone() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("valid");
        let db = seed::seed(now);
        let minus5 = UtcOffset::from_hms(-5, 0, 0).expect("offset");
        let c = ctx(&db, minus5, now);
        let t = c
            .instant(&Lit::Str("2026-01-05 12:00".into()))
            .expect("parses");
        assert_eq!(t.to_offset(UtcOffset::UTC).hour(), 17);
        let kolkata = UtcOffset::from_hms(5, 30, 0).expect("offset");
        let t = ctx(&db, kolkata, now)
            .instant(&Lit::Str("2026/01/05 12:00".into()))
            .expect("parses");
        assert_eq!(
            (
                t.to_offset(UtcOffset::UTC).hour(),
                t.to_offset(UtcOffset::UTC).minute()
            ),
            (6, 30)
        );
        assert_eq!(c.instant(&Lit::Word("1700000000000".into())), Some(now));
        assert_eq!(
            c.instant(&Lit::Word("-5m".into())),
            Some(now - Duration::minutes(5))
        );
        assert!(c.instant(&Lit::Str("05.01.2026".into())).is_none());
    }

    #[test]
    fn clauses_match_seeded_issues() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("valid");
        let db = seed::seed(now);
        let c = ctx(&db, UtcOffset::UTC, now);
        let run = |jql: &str| {
            let q = parse(jql).expect("parses");
            let f = q.filter.clone().expect("filter");
            c.validate(&f).expect("valid");
            let mut hits: Vec<&Issue> = db.issues.values().filter(|i| c.matches(&f, i)).collect();
            c.sort(&q, &mut hits).expect("sorts");
            hits.iter().map(|i| i.key.clone()).collect::<Vec<_>>()
        };
        assert_eq!(
            run("project = SEC ORDER BY key ASC"),
            vec!["SEC-1", "SEC-2"]
        );
        assert_eq!(
            run("statusCategory = new AND project IN (SEC, OPS) ORDER BY key"),
            vec!["OPS-1", "SEC-1"]
        );
        assert_eq!(
            run("updated >= -7h ORDER BY updated DESC"),
            vec!["HR-1", "OPS-2"]
        );
        assert_eq!(
            run("status = \"In Progress\" OR key = SEC-2 ORDER BY id"),
            vec!["SEC-2", "OPS-2"]
        );
        assert_eq!(
            run("resolution IS EMPTY AND project = OPS AND NOT status = Done ORDER BY id DESC"),
            vec!["OPS-2", "OPS-1"]
        );
        assert!(
            c.validate(&parse("nosuch = 1").expect("parses").filter.expect("f"))
                .is_err()
        );
        assert!(
            c.validate(
                &parse("updated >= \"yesterday\"")
                    .expect("p")
                    .filter
                    .expect("f")
            )
            .unwrap_err()
            .contains("Valid formats")
        );
    }
}
