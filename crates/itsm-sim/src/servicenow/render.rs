//! Record → JSON in the six value/display shapes of §1.4. Every value is a string; empty is "".

use serde_json::{Map, Value, json};

use super::acl::{Caller, field_readable};
use super::db::{Db, Record};
use super::query::eval::path_field;
use super::schema::{Field, Kind, TableDef, table};
use crate::clock::{format_duration_display, format_in, parse_duration_value, parse_utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayMode {
    /// `sysparm_display_value=false` (default): raw values.
    Value,
    /// `true`: display values.
    Display,
    /// `all`: `{"display_value", "value"}` objects.
    All,
}

impl DisplayMode {
    pub fn parse(s: Option<&str>) -> Self {
        match s.map(str::to_ascii_lowercase).as_deref() {
            Some("true") => Self::Display,
            Some("all") => Self::All,
            _ => Self::Value,
        }
    }
}

pub struct RenderOpts<'a> {
    pub mode: DisplayMode,
    pub exclude_link: bool,
    /// `sysparm_fields`; all readable columns when `None`.
    pub fields: Option<&'a [String]>,
    pub base_url: &'a str,
    pub field_acls: bool,
}

pub fn render(
    db: &Db,
    def: &'static TableDef,
    rec: &Record,
    caller: &Caller,
    o: &RenderOpts<'_>,
) -> Map<String, Value> {
    let mut out = Map::new();
    match o.fields {
        Some(list) => {
            for name in list {
                let Some(field) = path_field(def, name) else {
                    continue;
                };
                let top = name.split('.').next().and_then(|f| def.field(f));
                if top.is_none_or(|f| !field_readable(f, caller, o.field_acls))
                    || field.kind == Kind::Password
                {
                    continue;
                }
                let value = match walk(db, def, rec, name) {
                    Some((d, r)) => shape(db, d, r, field, caller, o),
                    None => empty_shape(o.mode),
                };
                out.insert(name.clone(), value);
            }
        }
        None => {
            for field in &def.fields {
                if field.kind == Kind::Password || !field_readable(field, caller, o.field_acls) {
                    continue;
                }
                out.insert(
                    field.name.to_string(),
                    shape(db, def, rec, field, caller, o),
                );
            }
        }
    }
    out
}

/// Follows a dot-walked path to the record holding its last column.
fn walk<'a>(
    db: &'a Db,
    def: &'static TableDef,
    rec: &'a Record,
    path: &str,
) -> Option<(&'static TableDef, &'a Record)> {
    match path.split_once('.') {
        None => Some((def, rec)),
        Some((head, rest)) => match def.field(head)?.kind {
            Kind::Ref(t) => {
                let (d, r) = db.resolve_ref(t, rec.get(def, head))?;
                walk(db, d, r, rest)
            }
            _ => None,
        },
    }
}

fn empty_shape(mode: DisplayMode) -> Value {
    match mode {
        DisplayMode::All => json!({"display_value": "", "value": ""}),
        _ => Value::String(String::new()),
    }
}

fn shape(
    db: &Db,
    def: &'static TableDef,
    rec: &Record,
    field: &Field,
    caller: &Caller,
    o: &RenderOpts<'_>,
) -> Value {
    let raw = rec.get(def, field.name);
    let (value, link) = match field.kind {
        Kind::Journal => (String::new(), None),
        Kind::Ref(t) if !raw.is_empty() => (
            raw.to_string(),
            Some(format!("{}/api/now/table/{t}/{raw}", o.base_url)),
        ),
        _ => (raw.to_string(), None),
    };
    let link = link.filter(|_| !o.exclude_link);
    let display = || display_value(db, def, rec, field, caller);
    match (o.mode, link) {
        (DisplayMode::Value, None) => Value::String(value),
        (DisplayMode::Value, Some(link)) => json!({"link": link, "value": value}),
        (DisplayMode::Display, None) => Value::String(display()),
        (DisplayMode::Display, Some(link)) => json!({"display_value": display(), "link": link}),
        (DisplayMode::All, None) => json!({"display_value": display(), "value": value}),
        (DisplayMode::All, Some(link)) => {
            json!({"display_value": display(), "link": link, "value": value})
        }
    }
}

pub fn display_value(
    db: &Db,
    def: &TableDef,
    rec: &Record,
    field: &Field,
    caller: &Caller,
) -> String {
    let raw = rec.get(def, field.name);
    match field.kind {
        Kind::Choice => db
            .choice_label(def.name, field.name, raw)
            .unwrap_or(raw)
            .to_string(),
        Kind::Ref(t) => db
            .resolve_ref(t, raw)
            .map(|(d, r)| db.display_of(d, r))
            .unwrap_or_default(),
        Kind::DateTime => parse_utc(raw)
            .map(|t| format_in(t, caller.tz))
            .unwrap_or_else(|| raw.to_string()),
        Kind::Duration => match parse_duration_value(raw) {
            Some(secs) if !raw.is_empty() => format_duration_display(secs),
            _ => String::new(),
        },
        Kind::Journal => journal_display(db, def, rec, field, caller),
        Kind::Password => String::new(),
        _ => raw.to_string(),
    }
}

/// All entries, newest first: `"<date> - <User Name> (Work notes)\n<text>\n\n"` (§1.4).
fn journal_display(
    db: &Db,
    def: &TableDef,
    rec: &Record,
    field: &Field,
    caller: &Caller,
) -> String {
    let Some(jd) = table("sys_journal_field") else {
        return String::new();
    };
    let mut entries: Vec<&Record> = db
        .rows("sys_journal_field")
        .iter()
        .filter(|j| {
            j.get(jd, "element_id") == rec.sys_id()
                && j.get(jd, "element") == field.name
                && j.get(jd, "name") == def.name
        })
        .collect();
    entries.reverse();
    entries.sort_by(|a, b| b.get(jd, "sys_created_on").cmp(a.get(jd, "sys_created_on")));
    entries
        .iter()
        .map(|j| {
            let when = parse_utc(j.get(jd, "sys_created_on"))
                .map(|t| format_in(t, caller.tz))
                .unwrap_or_default();
            let who = j.get(jd, "sys_created_by");
            let who = db
                .user(who)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| who.to_string());
            format!(
                "{when} - {who} ({})\n{}\n\n",
                field.label,
                j.get(jd, "value")
            )
        })
        .collect()
}
