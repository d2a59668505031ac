//! In-memory tables. A record is one string per column, in the table definition's column order:
//! the Table API only ever speaks strings, so that is also how values are stored. Derived indexes
//! (choice labels, users with their roles) are rebuilt after writes to the tables they come from.

use std::collections::{HashMap, HashSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::schema::{TableDef, table};
use crate::clock::zone_offset;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record(pub Vec<String>);

impl Record {
    pub fn new(def: &TableDef) -> Self {
        Self(def.fields.iter().map(|f| f.default.to_string()).collect())
    }

    pub fn get<'a>(&'a self, def: &TableDef, field: &str) -> &'a str {
        def.idx(field).map(|i| self.0[i].as_str()).unwrap_or("")
    }

    pub fn set(&mut self, def: &TableDef, field: &str, value: impl Into<String>) {
        if let Some(i) = def.idx(field) {
            self.0[i] = value.into();
        }
    }

    pub fn sys_id(&self) -> &str {
        // sys_id is the first column of every table (see `tables::sys_fields`).
        &self.0[0]
    }
}

/// Columns looked up by equality often enough to deserve a hash index (correlation lookups,
/// get-by-number, a task's SLAs and journal, a user by name). Only string-valued columns, so an
/// exact string match is the query's equality.
const INDEXED: &[&str] = &[
    "number",
    "correlation_id",
    "task",
    "element_id",
    "user_name",
    "user",
];

#[derive(Debug)]
pub struct Table {
    pub def: &'static TableDef,
    rows: Vec<Record>,
    by_id: HashMap<String, usize>,
    /// column position → value → sys_ids
    indexes: HashMap<usize, HashMap<String, Vec<String>>>,
}

impl Table {
    fn new(def: &'static TableDef) -> Self {
        let indexes = INDEXED
            .iter()
            .filter_map(|f| def.idx(f))
            .map(|i| (i, HashMap::new()))
            .collect();
        Self {
            def,
            rows: Vec::new(),
            by_id: HashMap::new(),
            indexes,
        }
    }

    pub fn rows(&self) -> &[Record] {
        &self.rows
    }

    pub fn get(&self, sys_id: &str) -> Option<&Record> {
        self.by_id.get(sys_id).map(|i| &self.rows[*i])
    }

    /// Changes a record in place, keeping the indexes right.
    pub fn update_with<R>(&mut self, sys_id: &str, f: impl FnOnce(&mut Record) -> R) -> Option<R> {
        let pos = *self.by_id.get(sys_id)?;
        let before: Vec<(usize, String)> = self
            .indexes
            .keys()
            .map(|slot| (*slot, self.rows[pos].0[*slot].clone()))
            .collect();
        let out = f(&mut self.rows[pos]);
        for (slot, old) in before {
            let new = self.rows[pos].0[slot].clone();
            if new != old {
                let index = self.indexes.get_mut(&slot).expect("index exists");
                if let Some(ids) = index.get_mut(&old) {
                    ids.retain(|id| id != sys_id);
                }
                index.entry(new).or_default().push(sys_id.to_string());
            }
        }
        Some(out)
    }

    pub fn find(&self, field: &str, value: &str) -> Option<&Record> {
        let i = self.def.idx(field)?;
        match self.lookup(i, value) {
            Some(rows) => rows.into_iter().next(),
            None => self.rows.iter().find(|r| r.0[i] == value),
        }
    }

    /// Records whose column `slot` equals `value`, in insertion order; `None` when the column has
    /// no index.
    pub fn lookup(&self, slot: usize, value: &str) -> Option<Vec<&Record>> {
        let ids = self.indexes.get(&slot)?.get(value);
        let mut positions: Vec<usize> = ids
            .into_iter()
            .flatten()
            .filter_map(|id| self.by_id.get(id).copied())
            .collect();
        positions.sort_unstable();
        Some(positions.into_iter().map(|p| &self.rows[p]).collect())
    }

    /// Insertion position of a record.
    pub fn position(&self, sys_id: &str) -> Option<usize> {
        self.by_id.get(sys_id).copied()
    }

    pub fn is_indexed(&self, slot: usize) -> bool {
        slot == 0 || self.indexes.contains_key(&slot)
    }

    pub fn insert(&mut self, rec: Record) {
        let id = rec.sys_id().to_string();
        for (slot, index) in self.indexes.iter_mut() {
            index
                .entry(rec.0[*slot].clone())
                .or_default()
                .push(id.clone());
        }
        self.by_id.insert(id, self.rows.len());
        self.rows.push(rec);
    }

    pub fn remove(&mut self, sys_id: &str) -> Option<Record> {
        let removed = self.get(sys_id)?.clone();
        self.retain(|r| r.sys_id() != sys_id);
        Some(removed)
    }

    pub fn retain(&mut self, keep: impl Fn(&Record) -> bool) {
        self.rows.retain(|r| keep(r));
        self.by_id = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.sys_id().to_string(), i))
            .collect();
        for (slot, index) in self.indexes.iter_mut() {
            index.clear();
            for r in &self.rows {
                index
                    .entry(r.0[*slot].clone())
                    .or_default()
                    .push(r.sys_id().to_string());
            }
        }
    }
}

/// A user as authentication and ACL checks need them.
#[derive(Clone, Debug)]
pub struct UserInfo {
    pub sys_id: String,
    pub user_name: String,
    pub name: String,
    pub password: String,
    pub active: bool,
    pub locked_out: bool,
    pub web_service_access_only: bool,
    pub time_zone: String,
    pub roles: HashSet<String>,
}

#[derive(Debug)]
pub struct Db {
    tables: HashMap<&'static str, Table>,
    numbers: HashMap<&'static str, u64>,
    ids: StdRng,
    choices: HashMap<(String, String, String), String>,
    users: HashMap<String, UserInfo>,
    user_names_by_id: HashMap<String, String>,
    /// task sys_id → its task_sla sys_ids, so SLA work per write does not scan the table.
    slas_by_task: HashMap<String, Vec<String>>,
}

impl Db {
    pub fn empty(seed: u64) -> Self {
        let tables = super::schema::schema()
            .tables()
            .map(|d| (d.name, Table::new(table(d.name).expect("own table"))))
            .collect();
        Self {
            tables,
            numbers: HashMap::new(),
            ids: StdRng::seed_from_u64(seed ^ 0x5eed_5eed),
            choices: HashMap::new(),
            users: HashMap::new(),
            user_names_by_id: HashMap::new(),
            slas_by_task: HashMap::new(),
        }
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    pub fn table_mut(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.get_mut(name)
    }

    pub fn rows(&self, name: &str) -> &[Record] {
        self.tables.get(name).map(|t| t.rows()).unwrap_or(&[])
    }

    pub fn new_sys_id(&mut self) -> String {
        let bytes: [u8; 16] = self.ids.random();
        hex::encode(bytes)
    }

    /// Next number for a numbered table: `INC0010001`, `INC0010002`, … (sequential per table).
    pub fn next_number(&mut self, def: &TableDef) -> Option<String> {
        let (prefix, start) = def.number?;
        let n = self.numbers.entry(def.name).or_insert(start);
        let out = format!("{prefix}{:07}", *n);
        *n += 1;
        Some(out)
    }

    /// Finds a record a reference points at. `task` means any task table.
    pub fn resolve_ref(
        &self,
        ref_table: &str,
        sys_id: &str,
    ) -> Option<(&'static TableDef, &Record)> {
        if sys_id.is_empty() {
            return None;
        }
        if ref_table == "task" {
            return ["incident", "change_request"]
                .iter()
                .find_map(|t| self.resolve_ref(t, sys_id));
        }
        let t = self.tables.get(ref_table)?;
        t.get(sys_id).map(|r| (t.def, r))
    }

    /// The record's display value (`number`, `name`, …).
    pub fn display_of(&self, def: &TableDef, rec: &Record) -> String {
        rec.get(def, def.display_field).to_string()
    }

    /// Looks a reference up by display value (`sysparm_input_display_value=true`).
    pub fn find_by_display(&self, ref_table: &str, display: &str) -> Option<String> {
        let tables: &[&str] = if ref_table == "task" {
            &["incident", "change_request"]
        } else {
            &[ref_table]
        };
        tables.iter().find_map(|t| {
            let t = self.tables.get(t)?;
            t.find(t.def.display_field, display)
                .map(|r| r.sys_id().to_string())
        })
    }

    pub fn choice_label(&self, table: &str, element: &str, value: &str) -> Option<&str> {
        self.choices
            .get(&(table.to_string(), element.to_string(), value.to_string()))
            .map(String::as_str)
    }

    pub fn is_choice(&self, table: &str, element: &str, value: &str) -> bool {
        !value.is_empty() && self.choice_label(table, element, value).is_some()
    }

    pub fn choice_value_for_label(
        &self,
        table: &str,
        element: &str,
        label: &str,
    ) -> Option<String> {
        self.choices
            .iter()
            .find(|((t, e, _), l)| t == table && e == element && l.as_str() == label)
            .map(|((_, _, v), _)| v.clone())
    }

    pub fn slas_of(&self, task: &str) -> Vec<&Record> {
        let Some(t) = self.tables.get("task_sla") else {
            return Vec::new();
        };
        self.slas_by_task
            .get(task)
            .map(|ids| ids.iter().filter_map(|id| t.get(id)).collect())
            .unwrap_or_default()
    }

    pub fn index_sla(&mut self, task: &str, sla_id: &str) {
        self.slas_by_task
            .entry(task.to_string())
            .or_default()
            .push(sla_id.to_string());
    }

    /// Removes a task's SLAs (cascade delete).
    pub fn drop_slas(&mut self, task: &str) {
        let ids: std::collections::HashSet<String> = self
            .slas_by_task
            .remove(task)
            .unwrap_or_default()
            .into_iter()
            .collect();
        if let Some(t) = self.tables.get_mut("task_sla") {
            t.retain(|r| !ids.contains(r.sys_id()));
        }
    }

    pub fn user(&self, user_name: &str) -> Option<&UserInfo> {
        self.users.get(user_name)
    }

    pub fn user_by_id(&self, sys_id: &str) -> Option<&UserInfo> {
        self.user_names_by_id
            .get(sys_id)
            .and_then(|n| self.users.get(n))
    }

    /// Rebuilds whatever is derived from `table` after it changed.
    pub fn reindex(&mut self, table: &str) {
        match table {
            "sys_choice" => self.reindex_choices(),
            "sys_user" | "sys_user_role" | "sys_user_has_role" => self.reindex_users(),
            _ => {}
        }
    }

    fn reindex_choices(&mut self) {
        let Some(t) = self.tables.get("sys_choice") else {
            return;
        };
        let d = t.def;
        self.choices = t
            .rows()
            .iter()
            .filter(|r| r.get(d, "inactive") != "true")
            .map(|r| {
                let key = (
                    r.get(d, "name").to_string(),
                    r.get(d, "element").to_string(),
                    r.get(d, "value").to_string(),
                );
                (key, r.get(d, "label").to_string())
            })
            .collect();
    }

    fn reindex_users(&mut self) {
        let (Some(users), Some(roles), Some(links)) = (
            self.tables.get("sys_user"),
            self.tables.get("sys_user_role"),
            self.tables.get("sys_user_has_role"),
        ) else {
            return;
        };
        let (ud, rd, ld) = (users.def, roles.def, links.def);
        let role_names: HashMap<&str, &str> = roles
            .rows()
            .iter()
            .map(|r| (r.sys_id(), r.get(rd, "name")))
            .collect();
        let mut by_user: HashMap<&str, HashSet<String>> = HashMap::new();
        for link in links.rows() {
            if let Some(role) = role_names.get(link.get(ld, "role")) {
                by_user
                    .entry(link.get(ld, "user"))
                    .or_default()
                    .insert((*role).to_string());
            }
        }
        self.users = users
            .rows()
            .iter()
            .map(|u| {
                let info = UserInfo {
                    sys_id: u.sys_id().to_string(),
                    user_name: u.get(ud, "user_name").to_string(),
                    name: u.get(ud, "name").to_string(),
                    password: u.get(ud, "user_password").to_string(),
                    active: u.get(ud, "active") == "true",
                    locked_out: u.get(ud, "locked_out") == "true",
                    web_service_access_only: u.get(ud, "web_service_access_only") == "true",
                    time_zone: u.get(ud, "time_zone").to_string(),
                    roles: by_user.remove(u.sys_id()).unwrap_or_default(),
                };
                (info.user_name.clone(), info)
            })
            .collect();
        self.user_names_by_id = self
            .users
            .values()
            .map(|u| (u.sys_id.clone(), u.user_name.clone()))
            .collect();
    }
}

impl UserInfo {
    pub fn tz(&self) -> time::UtcOffset {
        zone_offset(&self.time_zone)
    }
}
