//! The JQL a sync needs: clauses on project, key/issuekey/id, status, statusCategory, issuetype,
//! priority, resolution, labels, assignee/reporter, parent, summary (`~`), created/updated/
//! resolutiondate; `=`, `!=`, `<`, `<=`, `>`, `>=`, `~`, `IN`, `NOT IN`, `IS [NOT] EMPTY`;
//! `AND`/`OR`/`NOT` and parentheses; `ORDER BY` up to 7 fields. Date literals follow reference A5:
//! `yyyy/MM/dd HH:mm`, `yyyy-MM-dd HH:mm`, `yyyy/MM/dd`, `yyyy-MM-dd` in the *searching user's* time
//! zone (minute granularity), relative periods (`-5m`, `-2h`, `-1d`, `-1w`), `now()`, and an
//! unquoted number read as epoch milliseconds (compared exactly; whether Jira compares epoch
//! values to the millisecond is unconfirmed).

pub mod eval;
mod lexer;

use lexer::{Tok, lex};

#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    /// Quoted.
    Str(String),
    /// Unquoted (numbers, keys, relative dates).
    Word(String),
    Func(String),
}

impl Lit {
    pub fn text(&self) -> &str {
        match self {
            Lit::Str(s) | Lit::Word(s) | Lit::Func(s) => s,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    NotLike,
    In,
    NotIn,
    Is,
    IsNot,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    One(Lit),
    List(Vec<Lit>),
    Empty,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Clause {
        field: String,
        op: Op,
        value: Operand,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub filter: Option<Expr>,
    /// (field, descending)
    pub order: Vec<(String, bool)>,
}

pub const MAX_ORDER_FIELDS: usize = 7;

pub fn parse(jql: &str) -> Result<Query, String> {
    let toks = lex(jql)?;
    let mut p = Parser { toks, pos: 0 };
    let filter = if p.peek_kw("order") || p.peek().is_none() {
        None
    } else {
        Some(p.or()?)
    };
    let mut order = Vec::new();
    if p.peek_kw("order") {
        p.pos += 1;
        p.expect_kw("by")?;
        loop {
            let field = match p.next() {
                Some(Tok::Word(w)) | Some(Tok::Str(w)) => w.to_ascii_lowercase(),
                other => {
                    return Err(format!(
                        "Expecting a field name after 'order by' but got {other:?}."
                    ));
                }
            };
            let desc = if p.peek_kw("desc") {
                p.pos += 1;
                true
            } else {
                if p.peek_kw("asc") {
                    p.pos += 1;
                }
                false
            };
            order.push((field, desc));
            if p.peek() == Some(&Tok::Comma) {
                p.pos += 1;
            } else {
                break;
            }
        }
        if order.len() > MAX_ORDER_FIELDS {
            return Err(format!(
                "The ORDER BY clause names {} fields; at most {MAX_ORDER_FIELDS} are allowed.",
                order.len()
            ));
        }
    }
    if let Some(t) = p.peek() {
        return Err(format!(
            "Expecting either 'OR' or 'AND' but got '{}'.",
            t.text()
        ));
    }
    Ok(Query { filter, order })
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn expect_kw(&mut self, kw: &str) -> Result<(), String> {
        if self.peek_kw(kw) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("Expecting '{kw}'."))
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek_kw("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek_kw("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_kw("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            if self.next() != Some(Tok::RParen) {
                return Err("Expecting ')'.".into());
            }
            return Ok(e);
        }
        self.clause()
    }

    fn clause(&mut self) -> Result<Expr, String> {
        let field = match self.next() {
            Some(Tok::Word(w)) | Some(Tok::Str(w)) => w.to_ascii_lowercase(),
            other => {
                return Err(format!(
                    "Expecting a field name but got {}.",
                    other.map_or("the end of the query".into(), |t| format!("'{}'", t.text()))
                ));
            }
        };
        let op = match self.next() {
            Some(Tok::Op(o)) => match o.as_str() {
                "=" => Op::Eq,
                "!=" => Op::Ne,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "<" => Op::Lt,
                "<=" => Op::Le,
                "~" => Op::Like,
                "!~" => Op::NotLike,
                other => return Err(format!("Unknown operator '{other}'.")),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => Op::In,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") => {
                self.expect_kw("in")?;
                Op::NotIn
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("is") => {
                if self.peek_kw("not") {
                    self.pos += 1;
                    Op::IsNot
                } else {
                    Op::Is
                }
            }
            _ => return Err(format!("Expecting an operator after the field '{field}'.")),
        };
        let value = self.operand()?;
        Ok(Expr::Clause { field, op, value })
    }

    fn operand(&mut self) -> Result<Operand, String> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let mut list = Vec::new();
            loop {
                list.push(self.lit()?);
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::RParen) => break,
                    _ => return Err("Expecting ',' or ')' in a list of values.".into()),
                }
            }
            return Ok(Operand::List(list));
        }
        if self.peek_kw("empty") || self.peek_kw("null") {
            self.pos += 1;
            return Ok(Operand::Empty);
        }
        Ok(Operand::One(self.lit()?))
    }

    fn lit(&mut self) -> Result<Lit, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Word(w)) => {
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    // Function arguments are not needed by the functions we support.
                    while !matches!(self.next(), Some(Tok::RParen) | None) {}
                    return Ok(Lit::Func(w.to_ascii_lowercase()));
                }
                Ok(Lit::Word(w))
            }
            other => Err(format!(
                "Expecting a value but got {}.",
                other.map_or("the end of the query".into(), |t| format!("'{}'", t.text()))
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_sync_query() {
        let q = parse(
            r#"project = SEC AND updated >= "2026-01-05 12:00" ORDER BY updated ASC, id ASC"#,
        )
        .expect("parses");
        assert_eq!(
            q.order,
            vec![("updated".into(), false), ("id".into(), false)]
        );
        let Some(Expr::And(l, r)) = q.filter else {
            panic!("and expected")
        };
        assert_eq!(
            *l,
            Expr::Clause {
                field: "project".into(),
                op: Op::Eq,
                value: Operand::One(Lit::Word("SEC".into()))
            }
        );
        assert_eq!(
            *r,
            Expr::Clause {
                field: "updated".into(),
                op: Op::Ge,
                value: Operand::One(Lit::Str("2026-01-05 12:00".into()))
            }
        );
    }

    #[test]
    fn lists_functions_and_precedence() {
        let q = parse(
            "status IN (Open, \"In Progress\") OR assignee = currentUser() AND resolution IS EMPTY",
        )
        .expect("parses");
        let Some(Expr::Or(_, r)) = q.filter else {
            panic!("or binds loosest")
        };
        assert!(matches!(*r, Expr::And(_, _)));
        assert!(parse("updated >= -5m").expect("relative").filter.is_some());
    }

    #[test]
    fn only_order_by_has_no_filter_and_order_is_bounded() {
        assert_eq!(parse("order by key desc").expect("parses").filter, None);
        let eight = "project = A ORDER BY a, b, c, d, e, f, g, h";
        assert!(parse(eight).unwrap_err().contains("at most 7"));
        assert!(parse("project = ").is_err());
        assert!(parse("project = A B").is_err());
    }
}
