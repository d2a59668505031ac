//! Encoded-query parser (`sysparm_query`), schema-agnostic: it only splits the string into groups,
//! clauses, terms and ordering. Which field names are real is decided when the query is bound to a
//! table (`eval.rs`), because an unknown field is silently dropped rather than rejected (§1.6).
//!
//! Grammar as the platform reads it:
//! - `^` separates conditions (AND); a condition starting with `OR` is OR-ed with the previous one;
//! - `^NQ` starts a new AND-group, OR-ed with the previous groups;
//! - `^EQ` is an end-of-query marker and ignored; `ORDERBY<f>` / `ORDERBYDESC<f>` may repeat;
//! - `RLQUERY<table>.<field>,<op><n>[,m2m][^cond…]^ENDRLQUERY` is a related-list condition;
//! - `JOIN<table>.<field>=<jtable>.<jfield>!<cond…>` takes the rest of the query as its sub-query.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    NotLike,
    StartsWith,
    EndsWith,
    In,
    NotIn,
    IsEmpty,
    IsNotEmpty,
    Anything,
    EmptyString,
    Between,
    SameAs,
    NSameAs,
    On,
    NotOn,
    RelativeGt,
    RelativeLt,
    RelativeGe,
    RelativeLe,
    RelativeEe,
    Dynamic,
    /// A real operator the emulator does not evaluate (`DATEPART`, `IN_HIERARCHY`, …), or a malformed
    /// one. Such a condition matches nothing, like `state==1` on a real instance.
    Unsupported(String),
}

/// Longest first, so `NOT LIKE` wins over `NOT IN`-prefixes and `IN_HIERARCHY` over `IN`.
const OPERATORS: &[(&str, Op)] = &[
    ("NOT LIKE", Op::NotLike),
    ("NOT IN", Op::NotIn),
    ("ISNOTEMPTY", Op::IsNotEmpty),
    ("ISEMPTY", Op::IsEmpty),
    ("ANYTHING", Op::Anything),
    ("EMPTYSTRING", Op::EmptyString),
    ("STARTSWITH", Op::StartsWith),
    ("ENDSWITH", Op::EndsWith),
    ("LIKE", Op::Like),
    ("NSAMEAS", Op::NSameAs),
    ("SAMEAS", Op::SameAs),
    ("BETWEEN", Op::Between),
    ("NOTON", Op::NotOn),
    ("RELATIVEGT", Op::RelativeGt),
    ("RELATIVELT", Op::RelativeLt),
    ("RELATIVEGE", Op::RelativeGe),
    ("RELATIVELE", Op::RelativeLe),
    ("RELATIVEEE", Op::RelativeEe),
    ("DYNAMIC", Op::Dynamic),
    ("!=", Op::Ne),
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("!*", Op::NotLike),
    ("=", Op::Eq),
    (">", Op::Gt),
    ("<", Op::Lt),
    ("*", Op::Like),
    ("%", Op::EndsWith),
];

/// Operators that exist on the platform but are not evaluated here.
const UNSUPPORTED: &[&str] = &[
    "IN_HIERARCHY",
    "INSTANCEOF",
    "DATEPART",
    "VALCHANGES",
    "CHANGESFROM",
    "CHANGESTO",
    "MORETHAN",
    "LESSTHAN",
    "GT_FIELD",
    "LT_FIELD",
    "GT_OR_EQUALS_FIELD",
    "LT_OR_EQUALS_FIELD",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub field: String,
    pub op: Op,
    pub value: String,
    /// Column position of a plain (not dot-walked) field, filled in when the query is bound.
    pub slot: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelatedList {
    pub table: String,
    pub field: String,
    pub op: Op,
    pub count: i64,
    pub sub: Query,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Join {
    pub table: String,
    pub field: String,
    pub join_table: String,
    pub join_field: String,
    pub sub: Query,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    Cond(Condition),
    Related(Box<RelatedList>),
    Join(Box<Join>),
    /// Could not be parsed at all (no operator after a field name, or no field name): dropped, like
    /// an unknown field.
    Invalid(String),
}

/// OR of terms.
pub type Clause = Vec<Term>;
/// AND of clauses.
pub type Group = Vec<Clause>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub field: String,
    pub desc: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// OR of groups (`^NQ`). A query without conditions has one empty group.
    pub groups: Vec<Group>,
    pub order: Vec<Order>,
}

impl Query {
    pub fn is_unconditional(&self) -> bool {
        self.groups.iter().all(|g| g.is_empty())
    }
}

/// Splits on `^`, keeping `RLQUERY…^ENDRLQUERY` together as one piece.
fn split_pieces(s: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        if rest.starts_with("RLQUERY")
            && let Some(end) = rest.find("^ENDRLQUERY")
        {
            let stop = end + "^ENDRLQUERY".len();
            pieces.push(&rest[..stop]);
            rest = rest[stop..].strip_prefix('^').unwrap_or(&rest[stop..]);
            continue;
        }
        match rest.find('^') {
            Some(i) => {
                pieces.push(&rest[..i]);
                rest = &rest[i + 1..];
            }
            None => {
                pieces.push(rest);
                rest = "";
            }
        }
    }
    pieces
}

pub fn parse(s: &str) -> Query {
    let mut q = Query {
        groups: vec![Vec::new()],
        order: Vec::new(),
    };
    let pieces = split_pieces(s);
    let mut i = 0;
    while i < pieces.len() {
        let mut piece = pieces[i];
        i += 1;
        if let Some(rest) = piece.strip_prefix("NQ") {
            q.groups.push(Vec::new());
            piece = rest;
        }
        if piece.is_empty() || piece == "EQ" {
            continue;
        }
        if let Some(field) = piece.strip_prefix("ORDERBYDESC") {
            q.order.push(Order {
                field: field.to_string(),
                desc: true,
            });
            continue;
        }
        if let Some(field) = piece.strip_prefix("ORDERBY") {
            q.order.push(Order {
                field: field.to_string(),
                desc: false,
            });
            continue;
        }
        if piece.starts_with("GROUPBY") {
            continue;
        }
        if piece.starts_with("JOIN") {
            // The join's sub-query runs to the end of the query; ordering terms stay top-level.
            let mut sub_pieces = Vec::new();
            while i < pieces.len() {
                if pieces[i].starts_with("ORDERBY") {
                    let p = pieces[i];
                    let (field, desc) = match p.strip_prefix("ORDERBYDESC") {
                        Some(f) => (f, true),
                        None => (&p["ORDERBY".len()..], false),
                    };
                    q.order.push(Order {
                        field: field.to_string(),
                        desc,
                    });
                } else {
                    sub_pieces.push(pieces[i]);
                }
                i += 1;
            }
            let term = parse_join(piece, &sub_pieces.join("^"));
            push_and(&mut q, term);
            continue;
        }
        let group = q.groups.last_mut().expect("at least one group");
        match piece.strip_prefix("OR") {
            Some(rest) if !group.is_empty() => {
                let term = parse_term(rest);
                group.last_mut().expect("non-empty group").push(term);
            }
            Some(rest) => group.push(vec![parse_term(rest)]),
            None => group.push(vec![parse_term(piece)]),
        }
    }
    q
}

fn push_and(q: &mut Query, term: Term) {
    q.groups
        .last_mut()
        .expect("at least one group")
        .push(vec![term]);
}

fn parse_term(piece: &str) -> Term {
    if let Some(rest) = piece.strip_prefix("RLQUERY") {
        return parse_related(rest).unwrap_or_else(|| Term::Invalid(piece.to_string()));
    }
    let field_len = piece
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '.'))
        .map(|(i, _)| i)
        .unwrap_or(piece.len());
    let (field, rest) = piece.split_at(field_len);
    if field.is_empty() {
        return Term::Invalid(piece.to_string());
    }
    if let Some(unsupported) = UNSUPPORTED.iter().find(|u| rest.starts_with(**u)) {
        return Term::Cond(Condition {
            field: field.to_string(),
            op: Op::Unsupported((*unsupported).to_string()),
            value: rest[unsupported.len()..].to_string(),
            slot: None,
        });
    }
    // `IN` is matched here rather than in OPERATORS so that it never shadows `IN_HIERARCHY`/`INSTANCEOF`.
    if let Some(value) = rest.strip_prefix("IN") {
        return Term::Cond(Condition {
            field: field.to_string(),
            op: Op::In,
            value: value.to_string(),
            slot: None,
        });
    }
    if let Some(value) = rest.strip_prefix("ON") {
        return Term::Cond(Condition {
            field: field.to_string(),
            op: Op::On,
            value: value.to_string(),
            slot: None,
        });
    }
    match OPERATORS.iter().find(|(text, _)| rest.starts_with(*text)) {
        Some((text, op)) => Term::Cond(Condition {
            field: field.to_string(),
            op: op.clone(),
            value: rest[text.len()..].to_string(),
            slot: None,
        }),
        None if rest.is_empty() => Term::Invalid(piece.to_string()),
        None => Term::Cond(Condition {
            field: field.to_string(),
            op: Op::Unsupported(rest.to_string()),
            value: String::new(),
            slot: None,
        }),
    }
}

/// `sys_user_has_role.user,>0[,m2m]^role=x^ENDRLQUERY`
fn parse_related(rest: &str) -> Option<Term> {
    let body = rest
        .strip_suffix("^ENDRLQUERY")
        .or_else(|| rest.strip_suffix("ENDRLQUERY"))?;
    let (head, sub) = match body.find('^') {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, ""),
    };
    let mut parts = head.split(',');
    let (table, field) = parts.next()?.split_once('.')?;
    let cond = parts.next()?;
    let (op, n) = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
    ]
    .into_iter()
    .find_map(|(t, op)| cond.strip_prefix(t).map(|n| (op, n)))?;
    Some(Term::Related(Box::new(RelatedList {
        table: table.to_string(),
        field: field.to_string(),
        op,
        count: n.trim().parse().ok()?,
        sub: parse(sub),
    })))
}

/// `JOINincident.caller_id=sys_user.sys_id!active=true`
fn parse_join(piece: &str, tail: &str) -> Term {
    let spec = &piece["JOIN".len()..];
    let (link, first_sub) = spec.split_once('!').unwrap_or((spec, ""));
    let parsed = link
        .split_once('=')
        .and_then(|(l, r)| Some((l.split_once('.')?, r.split_once('.')?)));
    match parsed {
        Some(((table, field), (join_table, join_field))) => {
            let sub = [first_sub, tail]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("^");
            Term::Join(Box::new(Join {
                table: table.to_string(),
                field: field.to_string(),
                join_table: join_table.to_string(),
                join_field: join_field.to_string(),
                sub: parse(&sub),
            }))
        }
        None => Term::Invalid(piece.to_string()),
    }
}
