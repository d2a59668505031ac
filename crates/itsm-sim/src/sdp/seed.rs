//! The seeded instance: an on-premises portal `itdesk` (also the one behind `/api/v3/`) and a
//! Cloud portal `secops`, each with technicians, the default statuses, lookups, a plain template
//! and a template whose UDFs and impact are mandatory. Deterministic: no randomness at all.

use super::db::Portal;
use super::model::{Flavour, Status, Technician, Template, UdfDef, UdfType};

pub const ONPREM: &str = "itdesk";
pub const CLOUD: &str = "secops";
/// On-premises technician keys.
pub const ADMIN_KEY: &str = "A1B2C3D4-0000-4000-8000-00000000ADM1";
pub const LOCKSTEP_KEY: &str = "A1B2C3D4-0000-4000-8000-0000000LOCK";
pub const VIEWER_KEY: &str = "A1B2C3D4-0000-4000-8000-0000000VIEW";
/// A key whose expiry lies in the past from the start.
pub const EXPIRED_KEY: &str = "A1B2C3D4-0000-4000-8000-0000000EXPD";
/// Cloud OAuth client and the refresh token its consent produced (for lockstep@secops).
pub const CLIENT_ID: &str = "1000.LOCKSTEPSDP";
pub const CLIENT_SECRET: &str = "lockstep-sdp-secret";
pub const REFRESH_TOKEN: &str = "1000.refresh.lockstep";
pub const VIEWER_REFRESH_TOKEN: &str = "1000.refresh.viewer";
/// The template that makes `udf_sline_301`, `udf_long_302` and `impact` mandatory.
pub const SECURITY_TEMPLATE: &str = "Security Finding";

fn tech(p: &mut Portal, name: &str, email: &str, key: Option<&str>, read_only: bool) {
    let id = p.alloc_id();
    p.technicians.push(Technician {
        id,
        name: name.into(),
        email_id: email.into(),
        api_key: key.map(String::from),
        key_expires_ms: None,
        read_only,
        is_technician: true,
    });
}

fn status(p: &mut Portal, name: &str, internal: &str, in_progress: bool, stop: bool, color: &str) {
    p.add_status(Status {
        id: String::new(),
        name: name.into(),
        internal_name: Some(internal.into()),
        in_progress,
        stop_timer: stop,
        color: color.into(),
    });
}

fn portal(name: &str, flavour: Flavour, default: bool, prefix: u64, domain: &str) -> Portal {
    let mut p = Portal::new(name, flavour, default, prefix);
    let keys = flavour == Flavour::OnPrem;
    tech(
        &mut p,
        "administrator",
        &format!("admin@{domain}"),
        keys.then_some(ADMIN_KEY),
        false,
    );
    tech(
        &mut p,
        "Lockstep Integration",
        &format!("lockstep@{domain}"),
        keys.then_some(LOCKSTEP_KEY),
        false,
    );
    tech(&mut p, "Ravi Tech", &format!("ravi@{domain}"), None, false);
    tech(
        &mut p,
        "View Only",
        &format!("viewer@{domain}"),
        keys.then_some(VIEWER_KEY),
        true,
    );
    if keys {
        tech(
            &mut p,
            "Old Key",
            &format!("old@{domain}"),
            Some(EXPIRED_KEY),
            false,
        );
        if let Some(t) = p.technicians.last_mut() {
            t.key_expires_ms = Some(0);
        }
    }
    let requester = p.alloc_id();
    p.technicians.push(Technician {
        id: requester,
        name: "Sec Ops".into(),
        email_id: format!("secops@{domain}"),
        api_key: None,
        key_expires_ms: None,
        read_only: true,
        is_technician: false,
    });
    // Defaults per reference B5 (help.servicedeskplus.com configuring-status).
    status(&mut p, "Open", "Open", true, false, "#0066ff");
    status(&mut p, "On Hold", "Onhold", true, true, "#ff9900");
    status(&mut p, "Resolved", "Resolved", false, false, "#00cc00");
    status(&mut p, "Closed", "Closed", false, false, "#666666");
    // Priorities Low/Normal/Medium/High and the impact/urgency names are UNCONFIRMED defaults
    // (reference B5); closure codes and levels are our choice.
    let lookups: &[(&str, &[&str])] = &[
        ("priority", &["Low", "Normal", "Medium", "High"]),
        ("urgency", &["Low", "Normal", "High", "Urgent"]),
        (
            "impact",
            &[
                "Affects User",
                "Affects Group",
                "Affects Department",
                "Affects Business",
            ],
        ),
        ("category", &["Security", "Network", "Software"]),
        ("group", &["Network", "Security Operations"]),
        ("request_type", &["Incident", "Service Request"]),
        ("mode", &["E-Mail", "Web Form", "Phone Call"]),
        ("level", &["Tier 1", "Tier 2", "Tier 3"]),
        ("closure_code", &["Success", "Failed", "Cancelled"]),
    ];
    for (kind, names) in lookups {
        for n in *names {
            p.add_lookup(kind, n);
        }
    }
    p.udfs = vec![
        UdfDef {
            key: "udf_sline_301".into(),
            display_name: "Finding ID".into(),
            kind: UdfType::SingleLine,
        },
        UdfDef {
            key: "udf_long_302".into(),
            display_name: "CVSS x10".into(),
            kind: UdfType::Numeric,
        },
    ];
    let default_template = p.alloc_id();
    p.templates.push(Template {
        id: default_template,
        name: "Default Request".into(),
        mandatory: Vec::new(),
    });
    let security = p.alloc_id();
    p.templates.push(Template {
        id: security,
        name: SECURITY_TEMPLATE.into(),
        mandatory: vec![
            "impact".into(),
            "udf_sline_301".into(),
            "udf_long_302".into(),
        ],
    });
    p
}

pub fn seed() -> Vec<Portal> {
    vec![
        portal(ONPREM, Flavour::OnPrem, true, 0, "itdesk.example.com"),
        portal(
            CLOUD,
            Flavour::Cloud,
            false,
            1_236_400_000,
            "secops.example.com",
        ),
    ]
}
