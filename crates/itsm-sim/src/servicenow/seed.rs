//! The state a fresh instance starts in: roles, demo users and groups, the standard choice lists
//! (§3, §4, §5, §6) and the priority-based resolution SLAs. Seeded users' passwords equal their
//! user names (`admin`/`admin`, `beth.anglin`/`beth.anglin`, …).

use time::OffsetDateTime;

use super::db::{Db, Record};
use super::schema::{schema, table};
use crate::clock::{format_duration_value, format_utc};

pub const ADMIN_SYS_ID: &str = "6816f79cc0a8016401c5a33be04be441";

pub const ROLES: &[&str] = &[
    "admin",
    "itil",
    "itil_admin",
    "sn_incident_read",
    "sn_incident_write",
    "sn_change_read",
    "change_manager",
    "list_updater",
    "user_admin",
    "snc_read_only",
    "snc_basic_auth_api_access",
    "sn_problem_read",
];

/// (sys_id, user_name, first, last, roles, web service access only)
type DemoUser = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
);

const USERS: &[DemoUser] = &[
    (
        ADMIN_SYS_ID,
        "admin",
        "System",
        "Administrator",
        &["admin"],
        false,
    ),
    (
        "62826bf03710200044e0bfc8bcbe5df1",
        "abel.tuter",
        "Abel",
        "Tuter",
        &["itil"],
        false,
    ),
    (
        "46d44a23a9fe19810012d100cca80666",
        "beth.anglin",
        "Beth",
        "Anglin",
        &["itil"],
        false,
    ),
    (
        "5137153cc611227c000bbd1bd8cd2005",
        "change.manager",
        "Chad",
        "Manning",
        &["itil", "change_manager"],
        false,
    ),
    (
        "8f2c4e1a9b3d4c5e6f708192a3b4c5d6",
        "lockstep.integration",
        "Lockstep",
        "Integration",
        &["itil", "snc_basic_auth_api_access"],
        true,
    ),
    (
        "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "incident.reader",
        "Ingrid",
        "Reader",
        &["sn_incident_read"],
        false,
    ),
    (
        "b2c3d4e5f60718293a4b5c6d7e8f90a1",
        "read.only",
        "Rita",
        "Only",
        &["snc_read_only"],
        false,
    ),
    (
        "c3d4e5f60718293a4b5c6d7e8f90a1b2",
        "no.roles",
        "Nora",
        "Roles",
        &[],
        false,
    ),
];

const GROUPS: &[&str] = &[
    "Service Desk",
    "Network",
    "Software",
    "Hardware",
    "Database",
    "Security Operations",
];

const ONE_TO_THREE: &[(&str, &str)] = &[("1", "1 - High"), ("2", "2 - Medium"), ("3", "3 - Low")];
const INCIDENT_STATES: &[(&str, &str)] = &[
    ("1", "New"),
    ("2", "In Progress"),
    ("3", "On Hold"),
    ("6", "Resolved"),
    ("7", "Closed"),
    ("8", "Canceled"),
];
/// Australia close codes, measured (§3.4).
pub const INCIDENT_CLOSE_CODES: &[&str] = &[
    "Solution provided",
    "Resolved by caller",
    "Workaround provided",
    "Duplicate",
    "Resolved by change",
    "User error",
    "Known error",
    "Resolved by problem",
    "Resolved by request",
    "No resolution provided",
];
const SUBCATEGORIES: &[(&str, &str, &str)] = &[
    ("inquiry", "antivirus", "Antivirus"),
    ("inquiry", "email", "Email"),
    ("inquiry", "internal application", "Internal Application"),
    ("software", "email", "Email"),
    ("software", "os", "Operating System"),
    ("hardware", "cpu", "CPU"),
    ("hardware", "disk", "Disk"),
    ("hardware", "keyboard", "Keyboard"),
    ("hardware", "memory", "Memory"),
    ("hardware", "monitor", "Monitor"),
    ("hardware", "mouse", "Mouse"),
    ("network", "dhcp", "DHCP"),
    ("network", "dns", "DNS"),
    ("network", "ip address", "IP Address"),
    ("network", "vpn", "VPN"),
    ("network", "wireless", "Wireless"),
    ("database", "db2", "DB2"),
    ("database", "ms sql server", "MS SQL Server"),
    ("database", "oracle", "Oracle"),
];
const CHANGE_CATEGORIES: &[&str] = &[
    "Hardware",
    "Software",
    "Service",
    "System Software",
    "Applications Software",
    "Network",
    "Telecom",
    "Documentation",
    "Other",
];

/// Inserts a row as the platform would, with system fields stamped. Returns the sys_id.
pub fn raw_insert(
    db: &mut Db,
    table_name: &str,
    sys_id: Option<&str>,
    fields: &[(&str, &str)],
    now: OffsetDateTime,
) -> String {
    let def = table(table_name).expect("seeded table exists");
    let mut rec = Record::new(def);
    let id = sys_id
        .map(str::to_string)
        .unwrap_or_else(|| db.new_sys_id());
    let ts = format_utc(now);
    rec.set(def, "sys_id", id.clone());
    rec.set(def, "sys_created_on", ts.clone());
    rec.set(def, "sys_updated_on", ts);
    rec.set(def, "sys_created_by", "system");
    rec.set(def, "sys_updated_by", "system");
    for (k, v) in fields {
        rec.set(def, k, *v);
    }
    db.table_mut(table_name)
        .expect("seeded table exists")
        .insert(rec);
    id
}

fn choices(db: &mut Db, name: &str, element: &str, list: &[(&str, &str)], now: OffsetDateTime) {
    for (seq, (value, label)) in list.iter().enumerate() {
        let seq = ((seq + 1) * 100).to_string();
        raw_insert(
            db,
            "sys_choice",
            None,
            &[
                ("name", name),
                ("element", element),
                ("value", value),
                ("label", label),
                ("sequence", &seq),
                ("language", "en"),
            ],
            now,
        );
    }
}

/// Creates a user with roles (creating unknown roles). Returns the user's sys_id.
pub fn add_user(
    db: &mut Db,
    sys_id: Option<&str>,
    fields: &[(&str, &str)],
    roles: &[String],
    now: OffsetDateTime,
) -> String {
    let user_id = raw_insert(db, "sys_user", sys_id, fields, now);
    for role in roles {
        let role_id = ensure_role(db, role, now);
        raw_insert(
            db,
            "sys_user_has_role",
            None,
            &[("user", &user_id), ("role", &role_id)],
            now,
        );
    }
    user_id
}

pub fn ensure_role(db: &mut Db, role: &str, now: OffsetDateTime) -> String {
    let existing = db
        .table("sys_user_role")
        .and_then(|t| t.find("name", role))
        .map(|r| r.sys_id().to_string());
    existing.unwrap_or_else(|| raw_insert(db, "sys_user_role", None, &[("name", role)], now))
}

pub fn seed(db: &mut Db, now: OffsetDateTime) {
    for role in ROLES {
        ensure_role(db, role, now);
    }
    for (id, user_name, first, last, roles, wsao) in USERS {
        let name = format!("{first} {last}");
        let email = format!("{user_name}@example.com");
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let wsao = if *wsao { "true" } else { "false" };
        let fields = [
            ("user_name", *user_name),
            ("first_name", *first),
            ("last_name", *last),
            ("name", name.as_str()),
            ("email", email.as_str()),
            ("user_password", *user_name),
            ("web_service_access_only", wsao),
            ("time_zone", "GMT"),
        ];
        add_user(db, Some(id), &fields, &roles, now);
    }
    for g in GROUPS {
        raw_insert(db, "sys_user_group", None, &[("name", g)], now);
    }

    for table_name in ["incident", "change_request"] {
        choices(db, table_name, "impact", ONE_TO_THREE, now);
        choices(db, table_name, "urgency", ONE_TO_THREE, now);
    }
    choices(db, "incident", "state", INCIDENT_STATES, now);
    choices(db, "incident", "incident_state", INCIDENT_STATES, now);
    choices(
        db,
        "incident",
        "priority",
        &[
            ("1", "1 - Critical"),
            ("2", "2 - High"),
            ("3", "3 - Moderate"),
            ("4", "4 - Low"),
            ("5", "5 - Planning"),
        ],
        now,
    );
    choices(
        db,
        "incident",
        "category",
        &[
            ("inquiry", "Inquiry / Help"),
            ("software", "Software"),
            ("hardware", "Hardware"),
            ("network", "Network"),
            ("database", "Database"),
        ],
        now,
    );
    for (i, (category, value, label)) in SUBCATEGORIES.iter().enumerate() {
        let seq = ((i + 1) * 100).to_string();
        raw_insert(
            db,
            "sys_choice",
            None,
            &[
                ("name", "incident"),
                ("element", "subcategory"),
                ("value", value),
                ("label", label),
                ("dependent_value", category),
                ("sequence", &seq),
            ],
            now,
        );
    }
    choices(
        db,
        "incident",
        "hold_reason",
        &[
            ("1", "Awaiting Caller"),
            ("3", "Awaiting Problem"),
            ("4", "Awaiting Vendor"),
            ("5", "Awaiting Change"),
        ],
        now,
    );
    let codes: Vec<(&str, &str)> = INCIDENT_CLOSE_CODES.iter().map(|c| (*c, *c)).collect();
    choices(db, "incident", "close_code", &codes, now);
    choices(db, "incident", "severity", ONE_TO_THREE, now);
    choices(
        db,
        "incident",
        "notify",
        &[("1", "Do Not Notify"), ("2", "Send Email")],
        now,
    );
    for t in ["incident", "change_request"] {
        choices(
            db,
            t,
            "contact_type",
            &[
                ("email", "Email"),
                ("phone", "Phone"),
                ("self-service", "Self-service"),
                ("walk-in", "Walk-in"),
                ("virtual_agent", "Virtual Agent"),
            ],
            now,
        );
    }

    choices(
        db,
        "change_request",
        "state",
        &[
            ("-5", "New"),
            ("-4", "Assess"),
            ("-3", "Authorize"),
            ("-2", "Scheduled"),
            ("-1", "Implement"),
            ("0", "Review"),
            ("3", "Closed"),
            ("4", "Canceled"),
        ],
        now,
    );
    choices(
        db,
        "change_request",
        "type",
        &[
            ("standard", "Standard"),
            ("normal", "Normal"),
            ("emergency", "Emergency"),
        ],
        now,
    );
    choices(
        db,
        "change_request",
        "risk",
        &[
            ("1", "Very High"),
            ("2", "High"),
            ("3", "Moderate"),
            ("4", "Low"),
        ],
        now,
    );
    choices(
        db,
        "change_request",
        "priority",
        &[
            ("1", "1 - Critical"),
            ("2", "2 - High"),
            ("3", "3 - Moderate"),
            ("4", "4 - Low"),
        ],
        now,
    );
    choices(
        db,
        "change_request",
        "close_code",
        &[
            ("successful", "Successful"),
            ("successful_issues", "Successful with issues"),
            ("unsuccessful", "Unsuccessful"),
        ],
        now,
    );
    let cats: Vec<(&str, &str)> = CHANGE_CATEGORIES.iter().map(|c| (*c, *c)).collect();
    choices(db, "change_request", "category", &cats, now);
    choices(
        db,
        "task_sla",
        "stage",
        &[
            ("in_progress", "In progress"),
            ("paused", "Paused"),
            ("completed", "Completed"),
            ("cancelled", "Cancelled"),
            ("breached", "Breached"),
        ],
        now,
    );

    for (p, name, hours) in [
        ("1", "Priority 1 resolution (8 hour)", 8),
        ("2", "Priority 2 resolution (24 hour)", 24),
        ("3", "Priority 3 resolution (3 day)", 72),
        ("4", "Priority 4 resolution (5 day)", 120),
    ] {
        let start = format!("priority={p}^active=true");
        let dur = format_duration_value(hours * 3600);
        raw_insert(
            db,
            "contract_sla",
            None,
            &[
                ("name", name),
                ("collection", "incident"),
                ("target", "resolution"),
                ("duration", &dur),
                ("start_condition", &start),
                ("stop_condition", "stateIN6,7"),
            ],
            now,
        );
    }

    let mut objects: Vec<(&str, &str)> = schema().tables().map(|t| (t.name, t.label)).collect();
    objects.push(("task", "Task"));
    objects.sort();
    for (name, label) in objects {
        raw_insert(
            db,
            "sys_db_object",
            None,
            &[("name", name), ("label", label)],
            now,
        );
    }

    for t in ["sys_choice", "sys_user"] {
        db.reindex(t);
    }
}
