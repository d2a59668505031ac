//! The tables the emulator serves. Column names, defaults and numbering follow §3–§6 and §11 of the
//! reference; roles follow the measured ACL facts (row-level denial on task tables, table-level
//! denial on `sys_db_object`, label-only `sys_choice` for non-admins).

use super::schema::{Acl, Field, Kind, ReadDenial, RowScope, TableDef};

const ANY: &[&str] = &["*"];
const NOBODY: &[&str] = &[];
const INCIDENT_READ: &[&str] = &["itil", "sn_incident_read", "sn_incident_write"];
const INCIDENT_WRITE: &[&str] = &["itil", "sn_incident_write", "list_updater"];
const TASK_READ: &[&str] = &[
    "itil",
    "sn_incident_read",
    "sn_incident_write",
    "sn_change_read",
    "change_manager",
];
const CHANGE_READ: &[&str] = &["itil", "sn_change_read", "change_manager"];
const CHANGE_WRITE: &[&str] = &["itil", "change_manager"];
const USER_ADMIN: &[&str] = &["user_admin"];
const ADMIN_ONLY: &[&str] = &["admin"];

pub const INCIDENT_START: u64 = 10_001;
pub const CHANGE_START: u64 = 30_001;

fn sys_fields() -> Vec<Field> {
    vec![
        Field::new("sys_id", "Sys ID", Kind::Str).ro(),
        Field::new("sys_created_on", "Created", Kind::DateTime).ro(),
        Field::new("sys_created_by", "Created by", Kind::Str).ro(),
        Field::new("sys_updated_on", "Updated", Kind::DateTime).ro(),
        Field::new("sys_updated_by", "Updated by", Kind::Str).ro(),
        Field::new("sys_mod_count", "Updates", Kind::Int)
            .ro()
            .def("0"),
    ]
}

fn with_sys(mut fields: Vec<Field>) -> Vec<Field> {
    let mut all = sys_fields();
    all.append(&mut fields);
    all
}

/// Columns every task (incident, change_request) has.
fn task_fields(state_default: &'static str, priority_default: &'static str) -> Vec<Field> {
    vec![
        Field::new("number", "Number", Kind::Str).ro(),
        Field::new("short_description", "Short description", Kind::Str),
        Field::new("description", "Description", Kind::Str),
        Field::new("state", "State", Kind::Choice).def(state_default),
        Field::new("impact", "Impact", Kind::Choice).def("3"),
        Field::new("urgency", "Urgency", Kind::Choice).def("3"),
        Field::new("priority", "Priority", Kind::Choice).def(priority_default),
        Field::new("active", "Active", Kind::Bool).def("true"),
        Field::new(
            "assignment_group",
            "Assignment group",
            Kind::Ref("sys_user_group"),
        ),
        Field::new("assigned_to", "Assigned to", Kind::Ref("sys_user")),
        Field::new("opened_at", "Opened", Kind::DateTime),
        Field::new("opened_by", "Opened by", Kind::Ref("sys_user")),
        Field::new("closed_at", "Closed", Kind::DateTime),
        Field::new("closed_by", "Closed by", Kind::Ref("sys_user")),
        Field::new("correlation_id", "Correlation ID", Kind::Str),
        Field::new("correlation_display", "Correlation display", Kind::Str),
        Field::new("work_notes", "Work notes", Kind::Journal),
        Field::new("comments", "Additional comments", Kind::Journal),
        Field::new("escalation", "Escalation", Kind::Int).def("0"),
        Field::new("made_sla", "Made SLA", Kind::Bool).def("true"),
        Field::new("sla_due", "SLA due", Kind::DateTime).ro(),
        Field::new("upon_approval", "Upon approval", Kind::Str).def("proceed"),
        Field::new("upon_reject", "Upon reject", Kind::Str).def("cancel"),
        Field::new("contact_type", "Contact type", Kind::Choice),
        Field::new("cmdb_ci", "Configuration item", Kind::Ref("cmdb_ci")),
        Field::new("business_service", "Service", Kind::Ref("cmdb_ci_service")),
        Field::new("reassignment_count", "Reassignment count", Kind::Int).def("0"),
        Field::new("knowledge", "Knowledge", Kind::Bool).def("false"),
        Field::new("work_start", "Actual start", Kind::DateTime),
        Field::new("work_end", "Actual end", Kind::DateTime),
        Field::new("parent", "Parent", Kind::Ref("task")),
        Field::new("sys_class_name", "Task type", Kind::Str).ro(),
        Field::new("sys_domain", "Domain", Kind::Str).def("global"),
    ]
}

fn incident() -> TableDef {
    let mut fields = task_fields("1", "5");
    fields.extend([
        Field::new("incident_state", "Incident state", Kind::Choice).def("1"),
        Field::new("caller_id", "Caller", Kind::Ref("sys_user")),
        Field::new("category", "Category", Kind::Choice).def("inquiry"),
        Field::new("subcategory", "Subcategory", Kind::Choice),
        Field::new("close_code", "Resolution code", Kind::Choice).strict(),
        Field::new("close_notes", "Resolution notes", Kind::Str),
        Field::new("resolved_at", "Resolved", Kind::DateTime),
        Field::new("resolved_by", "Resolved by", Kind::Ref("sys_user")),
        Field::new("hold_reason", "On hold reason", Kind::Choice),
        Field::new("severity", "Severity", Kind::Choice).def("3"),
        Field::new("notify", "Notify", Kind::Choice).def("1"),
        Field::new("approval", "Approval", Kind::Str).def("not requested"),
        Field::new("reopen_count", "Reopen count", Kind::Int).def("0"),
        Field::new("child_incidents", "Child Incidents", Kind::Int).def("0"),
        Field::new("parent_incident", "Parent Incident", Kind::Ref("incident")),
        Field::new("problem_id", "Problem", Kind::Ref("problem")),
        Field::new("rfc", "Change Request", Kind::Ref("change_request")),
    ]);
    TableDef::new(
        "incident",
        "Incident",
        Some(("INC", INCIDENT_START)),
        "number",
        with_sys(fields),
        Acl {
            read: INCIDENT_READ,
            denial: ReadDenial::Rows,
            scope: RowScope::All,
            create: &["itil", "sn_incident_write"],
            write: INCIDENT_WRITE,
            // Deleting incidents is an admin action in the base system.
            delete: NOBODY,
        },
    )
}

fn change_request() -> TableDef {
    let mut fields = task_fields("-5", "4");
    fields.extend([
        Field::new("type", "Type", Kind::Choice).def("normal"),
        Field::new("chg_model", "Model", Kind::Str),
        Field::new("phase", "Phase", Kind::Str).def("requested"),
        Field::new("risk", "Risk", Kind::Choice).def("3"),
        Field::new("category", "Category", Kind::Choice).def("Other"),
        Field::new("start_date", "Planned start date", Kind::DateTime),
        Field::new("end_date", "Planned end date", Kind::DateTime),
        Field::new("justification", "Justification", Kind::Str),
        Field::new("implementation_plan", "Implementation plan", Kind::Str),
        Field::new("backout_plan", "Backout plan", Kind::Str),
        Field::new("test_plan", "Test plan", Kind::Str),
        Field::new(
            "risk_impact_analysis",
            "Risk and impact analysis",
            Kind::Str,
        ),
        Field::new("close_code", "Close code", Kind::Choice).strict(),
        Field::new("close_notes", "Close notes", Kind::Str),
        Field::new("on_hold", "On hold", Kind::Bool).def("false"),
        Field::new("on_hold_reason", "On hold reason", Kind::Str),
        Field::new("requested_by", "Requested by", Kind::Ref("sys_user")),
        Field::new("approval", "Approval", Kind::Str).def("not yet requested"),
        Field::new("conflict_status", "Conflict status", Kind::Str).def("Not Run"),
        Field::new(
            "std_change_producer_version",
            "Standard change template version",
            Kind::Str,
        ),
    ]);
    TableDef::new(
        "change_request",
        "Change Request",
        Some(("CHG", CHANGE_START)),
        "number",
        with_sys(fields),
        Acl {
            read: CHANGE_READ,
            denial: ReadDenial::Rows,
            scope: RowScope::All,
            create: CHANGE_WRITE,
            write: CHANGE_WRITE,
            delete: &["change_manager"],
        },
    )
}

fn sys_choice() -> TableDef {
    // Measured on Australia (§5): non-admin accounts get `label` only, and filtering on the other
    // columns is refused. Switchable with the `field_acls` setting.
    let r = ADMIN_ONLY;
    TableDef::new(
        "sys_choice",
        "Choices",
        None,
        "label",
        with_sys(vec![
            Field::new("name", "Table", Kind::Str).readable_by(r),
            Field::new("element", "Element", Kind::Str).readable_by(r),
            Field::new("value", "Value", Kind::Str).readable_by(r),
            Field::new("label", "Label", Kind::Str),
            Field::new("language", "Language", Kind::Str)
                .def("en")
                .readable_by(r),
            Field::new("inactive", "Inactive", Kind::Bool)
                .def("false")
                .readable_by(r),
            Field::new("sequence", "Sequence", Kind::Int)
                .def("0")
                .readable_by(r),
            Field::new("dependent_value", "Dependent value", Kind::Str).readable_by(r),
            Field::new("hint", "Hint", Kind::Str).readable_by(r),
        ]),
        Acl {
            read: ANY,
            denial: ReadDenial::Rows,
            scope: RowScope::All,
            create: NOBODY,
            write: NOBODY,
            delete: NOBODY,
        },
    )
}

fn task_sla() -> TableDef {
    TableDef::new(
        "task_sla",
        "Task SLA",
        None,
        "sys_id",
        with_sys(vec![
            Field::new("task", "Task", Kind::Ref("task")),
            Field::new("sla", "SLA definition", Kind::Ref("contract_sla")),
            Field::new("stage", "Stage", Kind::Choice).def("in_progress"),
            Field::new("has_breached", "Has breached", Kind::Bool).def("false"),
            Field::new("active", "Active", Kind::Bool).def("true"),
            Field::new("start_time", "Start time", Kind::DateTime),
            Field::new("end_time", "Stop time", Kind::DateTime),
            Field::new("planned_end_time", "Breach time", Kind::DateTime),
            Field::new(
                "original_breach_time",
                "Original breach time",
                Kind::DateTime,
            ),
            Field::new("duration", "Actual elapsed time", Kind::Duration),
            Field::new("percentage", "Actual elapsed percentage", Kind::Str).def("0"),
            Field::new("time_left", "Actual time left", Kind::Duration),
            Field::new("business_duration", "Business elapsed time", Kind::Duration),
            Field::new(
                "business_percentage",
                "Business elapsed percentage",
                Kind::Str,
            )
            .def("0"),
            Field::new("business_time_left", "Business time left", Kind::Duration),
            Field::new(
                "pause_duration",
                "Actual elapsed pause time",
                Kind::Duration,
            ),
            Field::new(
                "business_pause_duration",
                "Business pause duration",
                Kind::Duration,
            ),
            Field::new("pause_time", "Pause time", Kind::DateTime),
            Field::new("schedule", "Schedule", Kind::Str),
            Field::new("timezone", "Timezone", Kind::Str).def("GMT"),
        ]),
        Acl {
            read: TASK_READ,
            denial: ReadDenial::Rows,
            scope: RowScope::All,
            create: NOBODY,
            write: NOBODY,
            delete: NOBODY,
        },
    )
}

fn contract_sla() -> TableDef {
    TableDef::new(
        "contract_sla",
        "SLA Definition",
        None,
        "name",
        with_sys(vec![
            Field::new("name", "Name", Kind::Str),
            Field::new("collection", "Table", Kind::Str),
            Field::new("target", "Target", Kind::Str),
            Field::new("duration", "Duration", Kind::Duration),
            // Encoded queries, evaluated with the emulator's own query engine.
            Field::new("start_condition", "Start condition", Kind::Str),
            Field::new("stop_condition", "Stop condition", Kind::Str),
            Field::new("active", "Active", Kind::Bool).def("true"),
        ]),
        Acl {
            read: TASK_READ,
            denial: ReadDenial::Rows,
            scope: RowScope::All,
            create: NOBODY,
            write: NOBODY,
            delete: NOBODY,
        },
    )
}

fn sys_user() -> TableDef {
    TableDef::new(
        "sys_user",
        "User",
        None,
        "name",
        with_sys(vec![
            Field::new("user_name", "User ID", Kind::Str),
            Field::new("first_name", "First name", Kind::Str),
            Field::new("last_name", "Last name", Kind::Str),
            Field::new("name", "Name", Kind::Str),
            Field::new("email", "Email", Kind::Str),
            Field::new("title", "Title", Kind::Str),
            Field::new("active", "Active", Kind::Bool).def("true"),
            Field::new("locked_out", "Locked out", Kind::Bool).def("false"),
            Field::new(
                "web_service_access_only",
                "Web service access only",
                Kind::Bool,
            )
            .def("false"),
            Field::new("time_zone", "Time zone", Kind::Str),
            Field::new("user_password", "Password", Kind::Password),
        ]),
        Acl {
            read: ANY,
            denial: ReadDenial::Rows,
            scope: RowScope::All,
            create: USER_ADMIN,
            write: USER_ADMIN,
            delete: USER_ADMIN,
        },
    )
}

fn sys_user_role() -> TableDef {
    TableDef::new(
        "sys_user_role",
        "Role",
        None,
        "name",
        with_sys(vec![
            Field::new("name", "Name", Kind::Str),
            Field::new("description", "Description", Kind::Str),
        ]),
        Acl {
            read: ANY,
            denial: ReadDenial::Rows,
            scope: RowScope::All,
            create: NOBODY,
            write: NOBODY,
            delete: NOBODY,
        },
    )
}

fn sys_user_has_role() -> TableDef {
    TableDef::new(
        "sys_user_has_role",
        "User Role",
        None,
        "sys_id",
        with_sys(vec![
            Field::new("user", "User", Kind::Ref("sys_user")),
            Field::new("role", "Role", Kind::Ref("sys_user_role")),
            Field::new("inherited", "Inherited", Kind::Bool).def("false"),
            Field::new("state", "State", Kind::Str).def("active"),
        ]),
        // Readability for non-admins is UNCONFIRMED (§11); the emulator lets a user see their own
        // role rows, which is what the "roles of the connector account" probe needs.
        Acl {
            read: ANY,
            denial: ReadDenial::Rows,
            scope: RowScope::OwnUserRows,
            create: USER_ADMIN,
            write: USER_ADMIN,
            delete: USER_ADMIN,
        },
    )
}

fn sys_user_group() -> TableDef {
    TableDef::new(
        "sys_user_group",
        "Group",
        None,
        "name",
        with_sys(vec![
            Field::new("name", "Name", Kind::Str),
            Field::new("description", "Description", Kind::Str),
            Field::new("active", "Active", Kind::Bool).def("true"),
            Field::new("manager", "Manager", Kind::Ref("sys_user")),
            Field::new("email", "Group email", Kind::Str),
        ]),
        Acl {
            read: ANY,
            denial: ReadDenial::Rows,
            scope: RowScope::All,
            create: USER_ADMIN,
            write: USER_ADMIN,
            delete: USER_ADMIN,
        },
    )
}

fn sys_journal_field() -> TableDef {
    TableDef::new(
        "sys_journal_field",
        "Journal Entry",
        None,
        "value",
        with_sys(vec![
            Field::new("element_id", "Element ID", Kind::Str),
            Field::new("name", "Name", Kind::Str),
            Field::new("element", "Element", Kind::Str),
            Field::new("value", "Value", Kind::Str),
        ]),
        Acl {
            read: TASK_READ,
            denial: ReadDenial::Rows,
            scope: RowScope::All,
            create: NOBODY,
            write: NOBODY,
            delete: NOBODY,
        },
    )
}

fn sys_db_object() -> TableDef {
    TableDef::new(
        "sys_db_object",
        "Table",
        None,
        "label",
        with_sys(vec![
            Field::new("name", "Name", Kind::Str),
            Field::new("label", "Label", Kind::Str),
            Field::new("super_class", "Extends table", Kind::Ref("sys_db_object")),
        ]),
        // 403 below itil (measured, §11).
        Acl {
            read: &["itil"],
            denial: ReadDenial::Table,
            scope: RowScope::All,
            create: NOBODY,
            write: NOBODY,
            delete: NOBODY,
        },
    )
}

pub fn all() -> Vec<TableDef> {
    vec![
        incident(),
        change_request(),
        sys_choice(),
        task_sla(),
        contract_sla(),
        sys_user(),
        sys_user_role(),
        sys_user_has_role(),
        sys_user_group(),
        sys_journal_field(),
        sys_db_object(),
    ]
}
