//! Stored shapes of the ServiceDesk Plus emulator: portals (on-premises or Cloud flavour), their
//! technicians, lookups, statuses, templates, UDF definitions and requests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How a portal is deployed: decides the auth style and the id shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavour {
    /// `authtoken: <technician key>`; small integer ids, `display_id` = id.
    OnPrem,
    /// `Authorization: Zoho-oauthtoken <token>` (or `Bearer`); 18-digit ids and a separate
    /// `display_id` (reference B3).
    Cloud,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Technician {
    pub id: String,
    pub name: String,
    pub email_id: String,
    /// On-premises API key (`authtoken`); `None` for Cloud-only people.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Epoch ms after which the key is refused (the optional expiry of Admin → Generate key).
    #[serde(default)]
    pub key_expires_ms: Option<i64>,
    /// SDAdmin may do anything; others may not write when `read_only` (→ 4002).
    #[serde(default)]
    pub read_only: bool,
    #[serde(default = "yes")]
    pub is_technician: bool,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lookup {
    pub id: String,
    pub name: String,
}

/// A status (Admin → Helpdesk Customizer → Status): In Progress statuses have `in_progress`,
/// On Hold additionally `stop_timer`; Completed statuses have neither.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub internal_name: Option<String>,
    pub in_progress: bool,
    #[serde(default)]
    pub stop_timer: bool,
    #[serde(default = "default_color")]
    pub color: String,
}

fn default_color() -> String {
    "#0066ff".into()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub name: String,
    /// Fields the template makes mandatory on create: top-level names (`impact`) or UDF keys
    /// (`udf_sline_301`).
    #[serde(default)]
    pub mandatory: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UdfType {
    SingleLine,
    Numeric,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UdfDef {
    pub key: String,
    pub display_name: String,
    pub kind: UdfType,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Closure {
    pub closure_code: Option<String>,
    pub closure_comments: String,
    pub requester_ack_resolution: bool,
    pub requester_ack_comments: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub description: String,
    pub show_to_requester: bool,
    pub created_by: String,
    pub created_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub content: String,
    pub submitted_by: String,
    pub submitted_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub request_id: String,
    pub comments: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: String,
    pub display_id: String,
    pub subject: String,
    pub description: String,
    /// Technician or requester id.
    pub requester: Option<String>,
    pub technician: Option<String>,
    pub status: String,
    /// Lookup kind (`priority`, `urgency`, …) → lookup id.
    pub lookups: BTreeMap<String, String>,
    pub udf_fields: Map<String, Value>,
    pub created_ms: i64,
    pub last_updated_ms: i64,
    pub resolved_ms: Option<i64>,
    pub completed_ms: Option<i64>,
    pub due_by_ms: Option<i64>,
    pub is_trashed: bool,
    pub closure: Option<Closure>,
    pub resolution: Option<Resolution>,
    pub notes: Vec<Note>,
    pub links: Vec<Link>,
}

/// An admin-configured webhook (taken through the control API: SDP has no public API for it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SdpWebhook {
    #[serde(default)]
    pub id: u64,
    pub portal: String,
    pub url: String,
    /// `request_create`, `request_update`; both when empty.
    #[serde(default)]
    pub events: Vec<String>,
    /// JSON text with `${…}` variables (see `hooks::VARIABLES`); a default when absent.
    #[serde(default)]
    pub payload_template: Option<String>,
    /// A static header sent with every call, e.g. `("X-Webhook-Token", "s3cret")`.
    #[serde(default)]
    pub header_name: Option<String>,
    #[serde(default)]
    pub header_value: Option<String>,
    #[serde(default)]
    pub target_id: String,
}
