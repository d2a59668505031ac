//! The deterministic dataset every Jira site starts with (and returns to on `/_sim/reset`).
//!
//! Users (Basic = `email:api_token`): `admin@example.com` / `admin-token` (site admin, UTC),
//! `lockstep@example.com` / `lockstep-token` (the integration, America/New_York = UTC−5, PAT
//! `lockstep-pat`), `priya@example.com` / `priya-token` (Asia/Kolkata = UTC+5:30),
//! `reader@example.com` / `reader-token` (browse only), `nobody@example.com` / `nobody-token` (no
//! project access). Projects: `SEC` (custom "Security workflow": Done is two transitions away and the
//! closing screen requires a resolution; a required custom field), `OPS` (the default workflow, a
//! narrower priority scheme), `HR` (admins only).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::adf;
use super::db::JiraDb;
use super::model::{
    Category, FieldDef, Issue, IssueType, LinkType, Perm, Priority, Project, Resolution, Status,
    Transition, User, Workflow,
};

pub const ADMIN: &str = "712020:00000000-0000-4000-8000-000000000001";
pub const LOCKSTEP: &str = "712020:00000000-0000-4000-8000-000000000002";
pub const PRIYA: &str = "712020:00000000-0000-4000-8000-000000000003";
pub const READER: &str = "712020:00000000-0000-4000-8000-000000000004";
pub const NOBODY: &str = "712020:00000000-0000-4000-8000-000000000005";

pub const DEFAULT_WORKFLOW: &str = "Default workflow";
pub const SECURITY_WORKFLOW: &str = "Security workflow";

fn user(id: &str, name: &str, email: &str, token: &str, tz: &str) -> User {
    User {
        account_id: id.into(),
        email: email.into(),
        display_name: name.into(),
        time_zone: tz.into(),
        api_token: token.into(),
        ..User::default()
    }
}

fn status(id: &str, name: &str, category: Category) -> Status {
    Status {
        id: id.into(),
        name: name.into(),
        category,
    }
}

fn t(id: &str, name: &str, from: &[&str], to: &str) -> Transition {
    Transition {
        id: id.into(),
        name: name.into(),
        from: from.iter().map(|s| s.to_string()).collect(),
        to: to.into(),
        ..Transition::default()
    }
}

/// Jira Cloud's simplified default: To Do, In Progress, Done, every transition global; reaching
/// Done sets the resolution "Done" and leaving it clears it.
pub fn default_workflow() -> Workflow {
    let mut done = t("31", "Done", &[], "10001");
    done.sets_resolution = Some("Done".into());
    let mut todo = t("11", "To Do", &[], "10000");
    todo.clears_resolution = true;
    let mut progress = t("21", "In Progress", &[], "3");
    progress.clears_resolution = true;
    Workflow {
        name: DEFAULT_WORKFLOW.into(),
        initial: "10000".into(),
        statuses: vec!["10000".into(), "3".into(), "10001".into()],
        transitions: vec![todo, progress, done],
    }
}

/// Open → Triaged → Closed; closing needs a resolution on its screen; Reopen keeps the stale
/// resolution (no clearing post-function), as many real custom workflows do.
pub fn security_workflow() -> Workflow {
    let mut close = t("21", "Resolve", &["10002"], "6");
    close.requires_resolution = true;
    Workflow {
        name: SECURITY_WORKFLOW.into(),
        initial: "1".into(),
        statuses: vec!["1".into(), "10002".into(), "6".into()],
        transitions: vec![
            t("11", "Start triage", &["1"], "10002"),
            close,
            t("31", "Reopen", &["6"], "1"),
            t("41", "Back to open", &["10002"], "1"),
        ],
    }
}

fn field(id: &str, name: &str, ty: &str, key: &str, custom: bool) -> FieldDef {
    FieldDef {
        id: id.into(),
        name: name.into(),
        custom,
        schema_type: ty.into(),
        items: None,
        schema_key: key.into(),
        options: Vec::new(),
    }
}

fn fields() -> Vec<FieldDef> {
    let text = "com.atlassian.jira.plugin.system.customfieldtypes:textfield";
    let select = "com.atlassian.jira.plugin.system.customfieldtypes:select";
    let mut labels = field("labels", "Labels", "array", "labels", false);
    labels.items = Some("string".into());
    let mut components = field("components", "Components", "array", "components", false);
    components.items = Some("component".into());
    let mut severity = field(
        "customfield_10051",
        "Security severity",
        "option",
        select,
        true,
    );
    severity.options = ["Critical", "High", "Medium", "Low"]
        .map(String::from)
        .to_vec();
    vec![
        field("summary", "Summary", "string", "summary", false),
        field("description", "Description", "string", "description", false),
        field("issuetype", "Issue Type", "issuetype", "issuetype", false),
        field("project", "Project", "project", "project", false),
        field("priority", "Priority", "priority", "priority", false),
        labels,
        components,
        field("assignee", "Assignee", "user", "assignee", false),
        field("reporter", "Reporter", "user", "reporter", false),
        field("status", "Status", "status", "status", false),
        field(
            "resolution",
            "Resolution",
            "resolution",
            "resolution",
            false,
        ),
        field(
            "resolutiondate",
            "Resolved",
            "datetime",
            "resolutiondate",
            false,
        ),
        field("created", "Created", "datetime", "created", false),
        field("updated", "Updated", "datetime", "updated", false),
        field("duedate", "Due date", "date", "duedate", false),
        field("parent", "Parent", "issuelink", "parent", false),
        field("issuelinks", "Linked Issues", "array", "issuelinks", false),
        field("comment", "Comment", "comments-page", "comment", false),
        field("customfield_10050", "Affected asset", "string", text, true),
        severity,
    ]
}

fn grants(list: &[(&str, &[Perm])]) -> BTreeMap<String, BTreeSet<Perm>> {
    list.iter()
        .map(|(who, perms)| (who.to_string(), perms.iter().copied().collect()))
        .collect()
}

fn projects() -> Vec<Project> {
    let all = &Perm::ALL[..];
    let browse = &[Perm::Browse][..];
    let standard = vec!["10001".to_string(), "10002".into(), "10003".into()];
    vec![
        Project {
            id: "10000".into(),
            key: "SEC".into(),
            name: "Security".into(),
            workflow: SECURITY_WORKFLOW.into(),
            issue_types: standard.clone(),
            priorities: ["1", "2", "3", "4", "5"].map(String::from).to_vec(),
            custom_fields: vec!["customfield_10050".into(), "customfield_10051".into()],
            required_fields: vec!["customfield_10050".into()],
            components: vec!["Backend".into(), "Frontend".into()],
            grants: grants(&[(LOCKSTEP, all), (PRIYA, all), (READER, browse)]),
            next_number: 1,
        },
        Project {
            id: "10001".into(),
            key: "OPS".into(),
            name: "Operations".into(),
            workflow: DEFAULT_WORKFLOW.into(),
            issue_types: standard,
            priorities: ["2", "3", "4"].map(String::from).to_vec(),
            custom_fields: vec!["customfield_10050".into()],
            required_fields: Vec::new(),
            components: vec!["Infra".into()],
            grants: grants(&[(LOCKSTEP, all), (PRIYA, all), (READER, browse)]),
            next_number: 1,
        },
        Project {
            id: "10002".into(),
            key: "HR".into(),
            name: "Human Resources".into(),
            workflow: DEFAULT_WORKFLOW.into(),
            issue_types: vec!["10001".into()],
            priorities: ["3".into()].to_vec(),
            custom_fields: Vec::new(),
            required_fields: Vec::new(),
            components: Vec::new(),
            grants: BTreeMap::new(),
            next_number: 1,
        },
    ]
}

pub fn seed(now: OffsetDateTime) -> JiraDb {
    let mut admin = user(
        ADMIN,
        "Ada Admin",
        "admin@example.com",
        "admin-token",
        "UTC",
    );
    admin.site_admin = true;
    let mut lockstep = user(
        LOCKSTEP,
        "Lockstep Integration",
        "lockstep@example.com",
        "lockstep-token",
        "America/New_York",
    );
    lockstep.pat = Some("lockstep-pat".into());
    let it = |id: &str, name: &str, subtask: bool| IssueType {
        id: id.into(),
        name: name.into(),
        subtask,
        hierarchy_level: if subtask { -1 } else { 0 },
    };
    let prio = |id: &str, name: &str| Priority {
        id: id.into(),
        name: name.into(),
        is_default: name == "Medium",
    };
    let res = |id: &str, name: &str| Resolution {
        id: id.into(),
        name: name.into(),
    };
    let lt = |id: &str, name: &str, inward: &str, outward: &str| LinkType {
        id: id.into(),
        name: name.into(),
        inward: inward.into(),
        outward: outward.into(),
    };
    let mut db = JiraDb {
        users: vec![
            admin,
            lockstep,
            user(
                PRIYA,
                "Priya Patel",
                "priya@example.com",
                "priya-token",
                "Asia/Kolkata",
            ),
            user(
                READER,
                "Reed Reader",
                "reader@example.com",
                "reader-token",
                "Europe/Berlin",
            ),
            user(
                NOBODY,
                "Nora Nobody",
                "nobody@example.com",
                "nobody-token",
                "UTC",
            ),
        ],
        projects: projects(),
        issue_types: vec![
            it("10001", "Task", false),
            it("10002", "Bug", false),
            it("10003", "Sub-task", true),
        ],
        // Defaults on new Cloud sites (unconfirmed in the spec, which shows "Major"/"Trivial").
        priorities: vec![
            prio("1", "Highest"),
            prio("2", "High"),
            prio("3", "Medium"),
            prio("4", "Low"),
            prio("5", "Lowest"),
        ],
        statuses: vec![
            status("10000", "To Do", Category::New),
            status("3", "In Progress", Category::Indeterminate),
            status("10001", "Done", Category::Done),
            status("1", "Open", Category::New),
            status("10002", "Triaged", Category::Indeterminate),
            status("6", "Closed", Category::Done),
        ],
        resolutions: vec![
            res("10000", "Done"),
            res("10001", "Won't Do"),
            res("10002", "Duplicate"),
            res("10003", "Cannot Reproduce"),
        ],
        workflows: [default_workflow(), security_workflow()]
            .into_iter()
            .map(|w| (w.name.clone(), w))
            .collect(),
        fields: fields(),
        // Relates and Cloners exist on default sites but vary (unconfirmed in the spec).
        link_types: vec![
            lt("10000", "Blocks", "is blocked by", "blocks"),
            lt("10001", "Cloners", "is cloned by", "clones"),
            lt("10002", "Duplicate", "is duplicated by", "duplicates"),
            lt("10003", "Relates", "relates to", "relates to"),
        ],
        next_issue_id: 10000,
        next_comment_id: 10000,
        next_history_id: 10000,
        next_link_id: 10000,
        next_webhook_id: 1,
        next_project_id: 10003,
        ..JiraDb::default()
    };
    seed_issues(&mut db, now);
    db
}

fn seed_issues(db: &mut JiraDb, now: OffsetDateTime) {
    let rows: [(&str, &str, &str, &str, i64); 5] = [
        ("10000", "10002", "TLS 1.0 enabled on edge proxy", "1", 72),
        ("10000", "10001", "Rotate leaked deploy key", "10002", 48),
        (
            "10001",
            "10001",
            "Patch kernel on build agents",
            "10000",
            30,
        ),
        ("10001", "10002", "Disk alerts flap on db-2", "3", 6),
        ("10002", "10001", "Confidential: salary review", "10000", 2),
    ];
    for (project_id, type_id, summary, status_id, hours_ago) in rows {
        let at = now - Duration::hours(hours_ago);
        let Some(p) = db.projects.iter_mut().find(|p| p.id == project_id) else {
            continue;
        };
        let key = format!("{}-{}", p.key, p.next_number);
        p.next_number += 1;
        let mut custom = BTreeMap::new();
        if p.required_fields.iter().any(|f| f == "customfield_10050") {
            custom.insert("customfield_10050".into(), json!("edge-proxy-1"));
        }
        let id = db.next_issue_id;
        db.next_issue_id += 1;
        db.issues.insert(
            id,
            Issue {
                id,
                key,
                project_id: project_id.into(),
                issuetype_id: type_id.into(),
                summary: summary.into(),
                description: Some(adf::from_text(&format!("Seeded issue: {summary}"))),
                priority_id: "3".into(),
                labels: vec!["seeded".into()],
                components: Vec::new(),
                assignee: None,
                reporter: Some(ADMIN.into()),
                creator: ADMIN.into(),
                status_id: status_id.into(),
                resolution_id: None,
                resolution_date: None,
                created: at,
                updated: at,
                status_category_changed: at,
                duedate: None,
                parent: None,
                custom,
                comments: Vec::new(),
                histories: Vec::new(),
            },
        );
    }
}
