//! Table and field definitions: what a column is (string, choice, reference…), its label, default
//! and who may read or write the table. The concrete tables are in `tables.rs`.

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Bool,
    /// A choice list; labels come from `sys_choice` rows with `name` = table, `element` = field.
    Choice,
    /// A reference to a record of the named table (`task` means incident or change_request).
    Ref(&'static str),
    /// UTC `YYYY-MM-DD HH:MM:SS`.
    DateTime,
    /// glide_duration: an epoch offset, `1970-01-01 00:02:17`.
    Duration,
    /// Write-only journal (`work_notes`, `comments`): writes append `sys_journal_field` rows.
    Journal,
    /// Never returned, never written through the Table API (`sys_user.user_password`).
    Password,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub default: &'static str,
    /// Set by the platform only; writes through the API are silently ignored.
    pub read_only: bool,
    /// Choice values outside the list are dropped on write (measured for `close_code`, §1.7).
    pub strict_choice: bool,
    /// Roles that may read this column, on top of the table's read roles; everyone when empty.
    pub read_roles: &'static [&'static str],
}

impl Field {
    pub const fn new(name: &'static str, label: &'static str, kind: Kind) -> Self {
        Self {
            name,
            label,
            kind,
            default: "",
            read_only: false,
            strict_choice: false,
            read_roles: &[],
        }
    }
    pub const fn def(mut self, default: &'static str) -> Self {
        self.default = default;
        self
    }
    pub const fn ro(mut self) -> Self {
        self.read_only = true;
        self
    }
    pub const fn strict(mut self) -> Self {
        self.strict_choice = true;
        self
    }
    pub const fn readable_by(mut self, roles: &'static [&'static str]) -> Self {
        self.read_roles = roles;
        self
    }
}

/// What a user without the table's read role sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadDenial {
    /// Row-level ACLs: 200 with an empty result (incident, change_request…, measured §1.8).
    Rows,
    /// Table-level ACL: 403 `Insufficient rights to query records` (sys_db_object, §11).
    Table,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowScope {
    All,
    /// Users without `admin`/`user_admin` see only rows whose `user` is themselves.
    OwnUserRows,
}

#[derive(Clone, Debug)]
pub struct Acl {
    /// Roles that may read; `*` = any authenticated user. `admin` always may.
    pub read: &'static [&'static str],
    pub denial: ReadDenial,
    pub scope: RowScope,
    pub create: &'static [&'static str],
    pub write: &'static [&'static str],
    pub delete: &'static [&'static str],
}

#[derive(Debug)]
pub struct TableDef {
    pub name: &'static str,
    pub label: &'static str,
    /// Number prefix and first number (`INC`, 10001 → `INC0010001`).
    pub number: Option<(&'static str, u64)>,
    pub display_field: &'static str,
    pub fields: Vec<Field>,
    pub acl: Acl,
    index: HashMap<&'static str, usize>,
}

impl TableDef {
    pub fn new(
        name: &'static str,
        label: &'static str,
        number: Option<(&'static str, u64)>,
        display_field: &'static str,
        fields: Vec<Field>,
        acl: Acl,
    ) -> Self {
        let index = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name, i))
            .collect();
        Self {
            name,
            label,
            number,
            display_field,
            fields,
            acl,
            index,
        }
    }

    pub fn idx(&self, field: &str) -> Option<usize> {
        self.index.get(field).copied()
    }

    pub fn field(&self, field: &str) -> Option<&Field> {
        self.idx(field).map(|i| &self.fields[i])
    }

    pub fn has(&self, field: &str) -> bool {
        self.index.contains_key(field)
    }
}

pub struct Schema {
    tables: HashMap<&'static str, TableDef>,
}

impl Schema {
    pub fn tables(&self) -> impl Iterator<Item = &TableDef> {
        self.tables.values()
    }
}

pub static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema {
    tables: super::tables::all()
        .into_iter()
        .map(|t| (t.name, t))
        .collect(),
});

pub fn schema() -> &'static Schema {
    &SCHEMA
}

pub fn table(name: &str) -> Option<&'static TableDef> {
    SCHEMA.tables.get(name)
}
