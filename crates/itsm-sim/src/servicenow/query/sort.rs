//! `ORDERBY`/`ORDERBYDESC`: empty values first, numbers numerically, ties in insertion order.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::eval::{numeric, path_field, value_at};
use super::parser::Order;
use crate::servicenow::db::{Db, Record};
use crate::servicenow::schema::{Kind, TableDef};

const PREFIX: usize = 24;

/// A text key keeps its first bytes inline: most comparisons are decided there, without touching
/// the record's heap string (sorting large tables is bound by cache misses otherwise).
#[derive(Clone, Copy)]
enum SortKey<'a> {
    Empty,
    Num(f64),
    Text([u8; PREFIX], &'a str),
}

fn text_key(v: &str) -> SortKey<'_> {
    let mut prefix = [0u8; PREFIX];
    let n = v.len().min(PREFIX);
    prefix[..n].copy_from_slice(&v.as_bytes()[..n]);
    SortKey::Text(prefix, v)
}

fn sort_key<'a>(
    db: &'a Db,
    def: &'static TableDef,
    rec: &'a Record,
    path: &str,
    slot: Option<usize>,
    kind: Kind,
) -> SortKey<'a> {
    let v = match slot {
        Some(i) => rec.0[i].as_str(),
        None => match value_at(db, def, rec, path) {
            Cow::Borrowed(v) => v,
            Cow::Owned(_) => "",
        },
    };
    if v.is_empty() {
        return SortKey::Empty;
    }
    if numeric(kind)
        && let Ok(n) = v.parse::<f64>()
    {
        return SortKey::Num(n);
    }
    text_key(v)
}

fn cmp_keys(a: &SortKey<'_>, b: &SortKey<'_>) -> Ordering {
    match (a, b) {
        (SortKey::Empty, SortKey::Empty) => Ordering::Equal,
        (SortKey::Empty, _) => Ordering::Less,
        (_, SortKey::Empty) => Ordering::Greater,
        (SortKey::Num(x), SortKey::Num(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (SortKey::Num(_), SortKey::Text(..)) => Ordering::Less,
        (SortKey::Text(..), SortKey::Num(_)) => Ordering::Greater,
        (SortKey::Text(px, x), SortKey::Text(py, y)) => match px.cmp(py) {
            Ordering::Equal if x.len() > PREFIX || y.len() > PREFIX => x.cmp(y),
            o => o,
        },
    }
}

/// One row's sort keys (the first two inline, the rest only when a query orders by more) plus its
/// position, the tie-breaker that keeps the order stable with unstable algorithms.
struct Keyed<'a> {
    first: SortKey<'a>,
    second: SortKey<'a>,
    rest: Vec<SortKey<'a>>,
    pos: usize,
    rec: &'a Record,
}

/// Sorts for `ORDERBY`/`ORDERBYDESC`: empty values first, numbers numerically, stable otherwise.
/// Keys are extracted once per record. With `keep`, only the first `keep` rows are needed (offset
/// plus limit of a page): they are selected first and only they are sorted; the rest is dropped.
pub fn sort_records<'a>(
    db: &'a Db,
    def: &'static TableDef,
    order: &[Order],
    rows: &mut Vec<&'a Record>,
    keep: Option<usize>,
) {
    if order.is_empty() {
        return;
    }
    let kinds: Vec<Kind> = order
        .iter()
        .map(|o| {
            path_field(def, &o.field)
                .map(|f| f.kind)
                .unwrap_or(Kind::Str)
        })
        .collect();
    let slots: Vec<Option<usize>> = order
        .iter()
        .map(|o| {
            if o.field.contains('.') {
                None
            } else {
                def.idx(&o.field)
            }
        })
        .collect();
    let key = |r: &'a Record, i: usize| match order.get(i) {
        Some(o) => sort_key(db, def, r, &o.field, slots[i], kinds[i]),
        None => SortKey::Empty,
    };
    let mut keyed: Vec<Keyed<'a>> = rows
        .iter()
        .enumerate()
        .map(|(pos, r)| Keyed {
            first: key(r, 0),
            second: key(r, 1),
            rest: (2..order.len()).map(|i| key(r, i)).collect(),
            pos,
            rec: r,
        })
        .collect();
    let desc = |i: usize, o: Ordering| {
        if order.get(i).is_some_and(|o| o.desc) {
            o.reverse()
        } else {
            o
        }
    };
    let cmp = |a: &Keyed<'a>, b: &Keyed<'a>| {
        desc(0, cmp_keys(&a.first, &b.first))
            .then_with(|| desc(1, cmp_keys(&a.second, &b.second)))
            .then_with(|| {
                a.rest
                    .iter()
                    .zip(&b.rest)
                    .enumerate()
                    .map(|(i, (x, y))| desc(i + 2, cmp_keys(x, y)))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal)
            })
            .then_with(|| a.pos.cmp(&b.pos))
    };
    if let Some(k) = keep.filter(|k| *k < keyed.len()) {
        if k == 0 {
            keyed.clear();
        } else {
            keyed.select_nth_unstable_by(k - 1, cmp);
            keyed.truncate(k);
        }
    }
    keyed.sort_unstable_by(cmp);
    *rows = keyed.into_iter().map(|k| k.rec).collect();
}
