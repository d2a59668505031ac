//! Who may do what: the caller's identity and roles, and the table and field checks (§1.8, §11).
//! `admin` passes every check.

use std::collections::HashSet;

use time::{OffsetDateTime, UtcOffset};

use super::db::{Record, UserInfo};
use super::errors::SnError;
use super::query::values::ScriptEnv;
use super::schema::{Field, ReadDenial, RowScope, TableDef};

#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: String,
    pub user_name: String,
    pub name: String,
    pub roles: HashSet<String>,
    pub tz: UtcOffset,
}

impl Caller {
    pub fn from_user(u: &UserInfo) -> Self {
        Self {
            user_id: u.sys_id.clone(),
            user_name: u.user_name.clone(),
            name: u.name.clone(),
            roles: u.roles.clone(),
            tz: u.tz(),
        }
    }

    /// The platform itself (SLA conditions, control-API reads).
    pub fn system() -> Self {
        Self {
            user_id: String::new(),
            user_name: "system".into(),
            name: "System".into(),
            roles: HashSet::from(["admin".to_string()]),
            tz: UtcOffset::UTC,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.roles.contains("admin")
    }

    pub fn has_any(&self, roles: &[&str]) -> bool {
        self.is_admin() || roles.iter().any(|r| *r == "*" || self.roles.contains(*r))
    }

    pub fn env(&self, now: OffsetDateTime) -> ScriptEnv<'_> {
        ScriptEnv {
            user_id: &self.user_id,
            user_name: &self.user_name,
            tz: self.tz,
            now,
        }
    }
}

/// Read access to a table: `Ok(true)` rows visible, `Ok(false)` every row hidden (200/empty),
/// `Err` for a table-level denial (403).
pub fn table_readable(def: &TableDef, caller: &Caller) -> Result<bool, SnError> {
    if caller.has_any(def.acl.read) {
        return Ok(true);
    }
    match def.acl.denial {
        ReadDenial::Rows => Ok(false),
        ReadDenial::Table => Err(SnError::query_denied()),
    }
}

pub fn row_visible(def: &TableDef, rec: &Record, caller: &Caller, table_ok: bool) -> bool {
    if !table_ok {
        return false;
    }
    match def.acl.scope {
        RowScope::All => true,
        RowScope::OwnUserRows => {
            caller.has_any(&["user_admin"]) || rec.get(def, "user") == caller.user_id
        }
    }
}

pub fn field_readable(field: &Field, caller: &Caller, field_acls: bool) -> bool {
    !field_acls || field.read_roles.is_empty() || caller.has_any(field.read_roles)
}
