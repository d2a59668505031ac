//! Binding a parsed query to a table and evaluating it against records.
//!
//! Binding drops every term whose field does not exist (the platform silently ignores them, so
//! `not_a_real_field=x` returns the whole table, §1.6) and resolves script values once per request.
//! Evaluation follows the platform's SQL semantics where they show: an empty value is NULL, so it
//! never satisfies `!=`, `NOT IN`, `NOT LIKE` or an ordering comparison. Values are compared
//! case-sensitively, as the reference states for column names, operators and values.

use std::borrow::Cow;
use std::cmp::Ordering;

use time::OffsetDateTime;

use super::parser::{Clause, Condition, Group, Join, Op, Order, Query, RelatedList, Term};
use super::values::{ScriptEnv, relative_instant, relative_unit, resolve};
use crate::clock::parse_utc;
use crate::servicenow::db::{Db, Record, Table};
use crate::servicenow::schema::{Field, Kind, TableDef, table};

/// The dynamic filter "Me".
const DYNAMIC_ME: &str = "90d1921e5f510100a9ad2572f2b477fe";

/// A query bound to a table: only real fields left, script values resolved.
#[derive(Clone, Debug)]
pub struct Bound {
    pub query: Query,
    /// Something was dropped (unknown field, unparseable term).
    pub dropped: bool,
    pub user_id: String,
    pub now: OffsetDateTime,
}

/// The field a (possibly dot-walked) path ends at, by schema alone.
pub fn path_field(def: &'static TableDef, path: &str) -> Option<&'static Field> {
    let mut current = def;
    let mut segments = path.split('.').peekable();
    while let Some(seg) = segments.next() {
        let field = current.field(seg).or_else(|| {
            // A reference to `task` may land on any task table.
            (current.name == "incident")
                .then(|| table("change_request").and_then(|c| c.field(seg)))
                .flatten()
        })?;
        if segments.peek().is_none() {
            return Some(field);
        }
        match field.kind {
            Kind::Ref(t) => {
                current = if t == "task" {
                    table("incident")?
                } else {
                    table(t)?
                }
            }
            _ => return None,
        }
    }
    None
}

/// The value at a (possibly dot-walked) path; empty when a reference on the way is empty.
pub fn value_at<'a>(
    db: &'a Db,
    def: &'static TableDef,
    rec: &'a Record,
    path: &str,
) -> Cow<'a, str> {
    match path.split_once('.') {
        None => Cow::Borrowed(rec.get(def, path)),
        Some((head, rest)) => match def.field(head).map(|f| f.kind) {
            Some(Kind::Ref(t)) => match db.resolve_ref(t, rec.get(def, head)) {
                Some((next_def, next)) => value_at(db, next_def, next, rest),
                None => Cow::Borrowed(""),
            },
            _ => Cow::Borrowed(""),
        },
    }
}

pub fn bind(q: &Query, def: &'static TableDef, env: &ScriptEnv<'_>) -> Bound {
    let mut dropped = false;
    let query = bind_query(q, def, env, &mut dropped);
    Bound {
        query,
        dropped,
        user_id: env.user_id.to_string(),
        now: env.now,
    }
}

fn bind_query(q: &Query, def: &'static TableDef, env: &ScriptEnv<'_>, dropped: &mut bool) -> Query {
    let groups: Vec<Group> = q
        .groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|clause| {
                    clause
                        .iter()
                        .filter_map(|t| bind_term(t, def, env, dropped))
                        .collect::<Clause>()
                })
                .filter(|c| !c.is_empty())
                .collect::<Group>()
        })
        .filter(|g| !g.is_empty())
        .collect();
    let order = q
        .order
        .iter()
        .filter(|o| {
            let ok = path_field(def, &o.field).is_some();
            *dropped |= !ok;
            ok
        })
        .cloned()
        .collect::<Vec<Order>>();
    Query { groups, order }
}

fn bind_term(
    t: &Term,
    def: &'static TableDef,
    env: &ScriptEnv<'_>,
    dropped: &mut bool,
) -> Option<Term> {
    match t {
        Term::Invalid(_) => {
            *dropped = true;
            None
        }
        Term::Cond(c) => {
            if path_field(def, &c.field).is_none() {
                *dropped = true;
                return None;
            }
            let value = match c.op {
                Op::In | Op::NotIn => c
                    .value
                    .split(',')
                    .map(|v| resolve(v, env))
                    .collect::<Vec<_>>()
                    .join(","),
                Op::Between | Op::On | Op::NotOn => c
                    .value
                    .split('@')
                    .map(|v| resolve(v, env))
                    .collect::<Vec<_>>()
                    .join("@"),
                _ => resolve(&c.value, env),
            };
            Some(Term::Cond(Condition {
                field: c.field.clone(),
                op: c.op.clone(),
                value,
                slot: if c.field.contains('.') {
                    None
                } else {
                    def.idx(&c.field)
                },
            }))
        }
        Term::Related(rl) => {
            let related = table(&rl.table).filter(|r| r.has(&rl.field));
            match related {
                Some(rdef) => Some(Term::Related(Box::new(RelatedList {
                    sub: bind_query(&rl.sub, rdef, env, dropped),
                    ..(**rl).clone()
                }))),
                None => {
                    *dropped = true;
                    None
                }
            }
        }
        Term::Join(j) => {
            let joined =
                table(&j.join_table).filter(|jt| jt.has(&j.join_field) && def.has(&j.field));
            match joined {
                Some(jdef) => Some(Term::Join(Box::new(Join {
                    sub: bind_query(&j.sub, jdef, env, dropped),
                    ..(**j).clone()
                }))),
                None => {
                    *dropped = true;
                    None
                }
            }
        }
    }
}

/// Top-level field names a bound query filters or orders on (for field-level read checks).
pub fn fields_used(q: &Query) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for term in q.groups.iter().flatten().flatten() {
        if let Term::Cond(c) = term {
            out.push(c.field.split('.').next().unwrap_or(""));
        }
    }
    out.extend(
        q.order
            .iter()
            .map(|o| o.field.split('.').next().unwrap_or("")),
    );
    out
}

/// Narrows the rows to scan with an index when one AND-ed condition is `indexed_field=value` or
/// `indexed_fieldINa,b`; `None` means scan everything. Results keep insertion order.
pub fn candidates<'a>(b: &Bound, table: &'a Table) -> Option<Vec<&'a Record>> {
    let [group] = b.query.groups.as_slice() else {
        return None;
    };
    group.iter().find_map(|clause| {
        let [Term::Cond(c)] = clause.as_slice() else {
            return None;
        };
        let slot = c.slot.filter(|s| table.is_indexed(*s))?;
        let values: Vec<&str> = match c.op {
            Op::Eq => vec![c.value.as_str()],
            Op::In => c.value.split(',').collect(),
            _ => return None,
        };
        let mut rows: Vec<&Record> = Vec::new();
        for v in values {
            if slot == 0 {
                rows.extend(table.get(v));
            } else {
                rows.extend(table.lookup(slot, v)?);
            }
        }
        if rows.len() > 1 {
            rows.sort_by_key(|r| table.position(r.sys_id()));
            rows.dedup_by(|a, b| a.sys_id() == b.sys_id());
        }
        Some(rows)
    })
}

pub fn matches(b: &Bound, db: &Db, def: &'static TableDef, rec: &Record) -> bool {
    query_matches(&b.query, b, db, def, rec)
}

fn query_matches(q: &Query, b: &Bound, db: &Db, def: &'static TableDef, rec: &Record) -> bool {
    q.groups.is_empty()
        || q.groups.iter().any(|g| {
            g.iter()
                .all(|clause| clause.iter().any(|t| term_matches(t, b, db, def, rec)))
        })
}

fn term_matches(t: &Term, b: &Bound, db: &Db, def: &'static TableDef, rec: &Record) -> bool {
    match t {
        Term::Cond(c) => cond_matches(c, b, db, def, rec),
        Term::Related(rl) => {
            let Some(rdef) = table(&rl.table) else {
                return false;
            };
            let n = db
                .rows(rdef.name)
                .iter()
                .filter(|r| {
                    r.get(rdef, &rl.field) == rec.sys_id() && query_matches(&rl.sub, b, db, rdef, r)
                })
                .count() as i64;
            ordering_holds(&rl.op, n.cmp(&rl.count))
        }
        Term::Join(j) => {
            let Some(jdef) = table(&j.join_table) else {
                return false;
            };
            let key = rec.get(def, &j.field);
            !key.is_empty()
                && db.rows(jdef.name).iter().any(|r| {
                    r.get(jdef, &j.join_field) == key && query_matches(&j.sub, b, db, jdef, r)
                })
        }
        Term::Invalid(_) => false,
    }
}

fn ordering_holds(op: &Op, o: Ordering) -> bool {
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

pub(super) fn numeric(kind: Kind) -> bool {
    matches!(kind, Kind::Int | Kind::Choice)
}

fn values_equal(kind: Kind, a: &str, b: &str) -> bool {
    if numeric(kind)
        && let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>())
    {
        return x == y;
    }
    a == b
}

fn values_cmp(kind: Kind, a: &str, b: &str) -> Option<Ordering> {
    if numeric(kind) {
        match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => return x.partial_cmp(&y),
            _ if kind == Kind::Int => return None,
            _ => {}
        }
    }
    Some(a.cmp(b))
}

fn cond_matches(c: &Condition, b: &Bound, db: &Db, def: &'static TableDef, rec: &Record) -> bool {
    let (kind, v) = match c.slot {
        Some(i) => (def.fields[i].kind, Cow::Borrowed(rec.0[i].as_str())),
        None => match path_field(def, &c.field) {
            Some(field) => (field.kind, value_at(db, def, rec, &c.field)),
            None => return false,
        },
    };
    let v = v.as_ref();
    let target = c.value.as_str();
    match &c.op {
        Op::Eq => values_equal(kind, v, target),
        Op::Ne => !v.is_empty() && !values_equal(kind, v, target),
        Op::Gt | Op::Ge | Op::Lt | Op::Le => {
            !v.is_empty() && values_cmp(kind, v, target).is_some_and(|o| ordering_holds(&c.op, o))
        }
        Op::Like => v.contains(target),
        Op::NotLike => !v.is_empty() && !v.contains(target),
        Op::StartsWith => v.starts_with(target),
        Op::EndsWith => v.ends_with(target),
        Op::In => target.split(',').any(|t| values_equal(kind, v, t)),
        Op::NotIn => !v.is_empty() && !target.split(',').any(|t| values_equal(kind, v, t)),
        Op::IsEmpty | Op::EmptyString => v.is_empty(),
        Op::IsNotEmpty => !v.is_empty(),
        Op::Anything => true,
        Op::Between => match target.split_once('@') {
            Some((lo, hi)) => {
                !v.is_empty()
                    && values_cmp(kind, v, lo).is_some_and(|o| o != Ordering::Less)
                    && values_cmp(kind, v, hi).is_some_and(|o| o != Ordering::Greater)
            }
            None => false,
        },
        Op::SameAs | Op::NSameAs => {
            let other = path_field(def, target).map(|_| value_at(db, def, rec, target));
            let same = other.as_ref().is_some_and(|o| values_equal(kind, v, o));
            if c.op == Op::SameAs {
                same
            } else {
                other.is_some() && !same
            }
        }
        Op::On | Op::NotOn => {
            let on = on_day(v, target);
            if c.op == Op::On {
                on
            } else {
                !v.is_empty() && !on
            }
        }
        Op::RelativeGt | Op::RelativeLt | Op::RelativeGe | Op::RelativeLe | Op::RelativeEe => {
            let (Some(at), Some(reference)) = (parse_utc(v), relative_instant(target, b.now))
            else {
                return false;
            };
            match c.op {
                Op::RelativeGt => at > reference,
                Op::RelativeLt => at < reference,
                Op::RelativeGe => at >= reference,
                Op::RelativeLe => at <= reference,
                _ => (at - reference).abs() < relative_unit(target),
            }
        }
        Op::Dynamic => target == DYNAMIC_ME && !b.user_id.is_empty() && v == b.user_id,
        Op::Unsupported(_) => false,
    }
}

/// `ON<label>@<start>@<end>`, or `ON<YYYY-MM-DD>` for a whole (UTC) day.
fn on_day(v: &str, spec: &str) -> bool {
    let parts: Vec<&str> = spec.split('@').collect();
    if v.is_empty() {
        return false;
    }
    match parts.as_slice() {
        [_, start, end, ..] => v >= *start && v <= *end,
        [day] => v.starts_with(day),
        _ => false,
    }
}
