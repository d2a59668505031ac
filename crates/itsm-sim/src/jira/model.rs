//! The Jira site's data: users, projects, issue types, priorities, statuses, workflows, fields and
//! issues. Everything the REST surface renders is derived from these types; ids are Jira's numeric
//! strings where Jira uses them (`"10000"`), account ids are opaque strings.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    /// IANA-style name; the JQL date literals of this user's searches are read in this zone.
    pub time_zone: String,
    /// Cloud API token (Basic `email:token`).
    pub api_token: String,
    /// Data Center style personal access token (`Authorization: Bearer <pat>`).
    pub pat: Option<String>,
    pub active: bool,
    /// Jira administrator: may manage admin webhooks and see every project.
    pub site_admin: bool,
}

impl Default for User {
    fn default() -> Self {
        Self {
            account_id: String::new(),
            email: String::new(),
            display_name: String::new(),
            time_zone: "UTC".into(),
            api_token: String::new(),
            pat: None,
            active: true,
            site_admin: false,
        }
    }
}

/// Project permissions, reduced to what the REST calls we emulate check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Perm {
    Browse,
    Create,
    Edit,
    Transition,
    Comment,
    Link,
    /// "Delete issues".
    Delete,
}

impl Perm {
    pub const ALL: [Perm; 7] = [
        Perm::Browse,
        Perm::Create,
        Perm::Edit,
        Perm::Transition,
        Perm::Comment,
        Perm::Link,
        Perm::Delete,
    ];
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    pub id: String,
    pub key: String,
    pub name: String,
    /// Name of the workflow every issue type of this project uses.
    pub workflow: String,
    pub issue_types: Vec<String>,
    /// Priority ids the project's priority scheme allows (createmeta `allowedValues`).
    pub priorities: Vec<String>,
    /// Custom field ids on the project's create/edit screen.
    pub custom_fields: Vec<String>,
    /// Field ids that must be given on create (besides project, issuetype, summary).
    pub required_fields: Vec<String>,
    pub components: Vec<String>,
    /// account id (or `*` for every user) → permissions. Site admins have all of them.
    pub grants: BTreeMap<String, BTreeSet<Perm>>,
    #[serde(skip)]
    pub next_number: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IssueType {
    pub id: String,
    pub name: String,
    pub subtask: bool,
    /// 0 for standard types, −1 for sub-tasks (by convention; not stated in the spec text).
    pub hierarchy_level: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    pub id: String,
    pub name: String,
    pub is_default: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    New,
    Indeterminate,
    Done,
}

impl Category {
    /// Real category ids and names (reference A6; `done` = 3 is unconfirmed there).
    pub fn id(self) -> u32 {
        match self {
            Category::New => 2,
            Category::Indeterminate => 4,
            Category::Done => 3,
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            Category::New => "new",
            Category::Indeterminate => "indeterminate",
            Category::Done => "done",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Category::New => "To Do",
            Category::Indeterminate => "In Progress",
            Category::Done => "Done",
        }
    }
    pub fn color(self) -> &'static str {
        match self {
            Category::New => "blue-gray",
            Category::Indeterminate => "yellow",
            Category::Done => "green",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.to_ascii_lowercase();
        [Category::New, Category::Indeterminate, Category::Done]
            .into_iter()
            .find(|c| c.key() == s || c.name().eq_ignore_ascii_case(&s) || c.id().to_string() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub id: String,
    pub name: String,
    pub category: Category,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Transition {
    pub id: String,
    pub name: String,
    /// Statuses it leaves from; a global transition (from anywhere) when empty.
    pub from: Vec<String>,
    pub to: String,
    /// The transition screen demands a resolution.
    pub requires_resolution: bool,
    /// Post-function "set resolution" with this name when none is given.
    pub sets_resolution: Option<String>,
    /// Post-function clearing the resolution (reopen). Without it a stale resolution stays.
    pub clears_resolution: bool,
}

impl Transition {
    pub fn has_screen(&self) -> bool {
        self.requires_resolution
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Workflow {
    pub name: String,
    /// Status new issues start in.
    pub initial: String,
    pub statuses: Vec<String>,
    pub transitions: Vec<Transition>,
}

impl Workflow {
    /// Transitions available from `status`, in definition order.
    pub fn from_status<'a>(&'a self, status: &'a str) -> impl Iterator<Item = &'a Transition> {
        self.transitions
            .iter()
            .filter(move |t| t.from.is_empty() || t.from.iter().any(|f| f == status))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub id: String,
    pub name: String,
    pub custom: bool,
    /// `schema.type`: string, number, option, array, user, priority, …
    pub schema_type: String,
    pub items: Option<String>,
    /// `schema.system` for system fields, `schema.custom` plug-in key for custom ones.
    pub schema_key: String,
    /// Allowed option values of a select custom field.
    pub options: Vec<String>,
}

impl FieldDef {
    pub fn custom_id(&self) -> Option<u64> {
        self.id.strip_prefix("customfield_")?.parse().ok()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub id: String,
    pub author: String,
    /// Stored as ADF; v2 renders plain text.
    pub body: Value,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeItem {
    pub field: String,
    pub field_id: String,
    pub from: Option<String>,
    pub from_string: Option<String>,
    pub to: Option<String>,
    pub to_string: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub id: String,
    pub author: String,
    pub created: OffsetDateTime,
    pub items: Vec<ChangeItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    pub id: u64,
    pub key: String,
    pub project_id: String,
    pub issuetype_id: String,
    pub summary: String,
    pub description: Option<Value>,
    pub priority_id: String,
    pub labels: Vec<String>,
    pub components: Vec<String>,
    pub assignee: Option<String>,
    pub reporter: Option<String>,
    pub creator: String,
    pub status_id: String,
    pub resolution_id: Option<String>,
    pub resolution_date: Option<OffsetDateTime>,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
    pub status_category_changed: OffsetDateTime,
    pub duedate: Option<String>,
    pub parent: Option<u64>,
    pub custom: BTreeMap<String, Value>,
    pub comments: Vec<Comment>,
    pub histories: Vec<History>,
}

impl Issue {
    pub fn number(&self) -> u64 {
        self.key
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkType {
    pub id: String,
    pub name: String,
    pub inward: String,
    pub outward: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub id: String,
    pub type_id: String,
    pub inward: u64,
    pub outward: u64,
}

/// An admin webhook (`/rest/webhooks/1.0/webhook`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdminWebhook {
    pub id: u64,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub jql: Option<String>,
    /// Never rendered back (Jira does not let you read a secret after saving).
    pub secret: Option<String>,
    pub enabled: bool,
    pub exclude_body: bool,
    /// Id of the shared delivery target that carries this webhook's events.
    pub target_id: String,
}
