//! ServiceDesk Plus urgency and impact from the mapping: sent on create, checked against the
//! instance's `urgencies`/`impacts` lookups by the mapping check and before any create, and the
//! remedy when a template makes them mandatory and the mapping leaves them out.

use lockstep_connectors::{CheckStatus, Connector, ErrorClass};
use lockstep_domain::{Label, LevelNames, MappingRules, Severity, Vendor};

use crate::sdp::{LOCKSTEP_KEY, create_for, default_create, onprem, posts, request};
use crate::support::Env;

fn label(s: &str) -> Label {
    Label::parse(s).unwrap()
}

/// The default SDP mapping with urgency and impact names for high findings.
fn with_levels(urgency: &str, impact: &str) -> MappingRules {
    let mut rules = MappingRules::defaults(Vendor::ManageEngine);
    if let MappingRules::ManageEngine { request } = &mut rules {
        request.severity.high = LevelNames {
            priority: label("High"),
            urgency: Some(label(urgency)),
            impact: Some(label(impact)),
        };
    }
    rules
}

#[tokio::test]
async fn a_template_that_needs_urgency_and_impact_is_filled_by_the_mapping() {
    let env = Env::start().await;
    env.sim
        .control()
        .set_sdp_template_mandatory("itdesk", "Default Request", &["urgency", "impact"])
        .await
        .unwrap();
    let client = onprem(&env, LOCKSTEP_KEY);
    let err = Connector::create(&client, &default_create("NES-20", Severity::High))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::FailedPrecondition, "{err}");
    let text = err.to_string();
    assert!(text.contains("impact, urgency"), "{text}");
    assert!(
        text.contains("Map urgency and impact per severity"),
        "{text}"
    );
    assert_eq!(posts(&env).await, 0, "no create was sent");
    // The connection test cannot see the mapping: it warns instead of failing.
    let report = Connector::test_connection(&client).await;
    let check = report
        .checks
        .iter()
        .find(|c| c.id == "mandatory_fields")
        .unwrap();
    assert_eq!(check.status, CheckStatus::Warn, "{check:?}");
    assert!(
        check.remedy.as_deref().unwrap().contains("mapping rules"),
        "{check:?}"
    );

    let rules = with_levels("urgent", "Affects Business");
    assert_eq!(
        client.check_mapping(&rules).await.unwrap(),
        Default::default(),
        "names match the lookups ignoring case"
    );
    let created = Connector::create(&client, &create_for("NES-21", Severity::High, &rules))
        .await
        .unwrap();
    let stored = request(&env, created.ticket.external_id().as_str()).await;
    assert_eq!(stored["priority"]["name"], "High");
    assert_eq!(stored["urgency"]["name"], "Urgent");
    assert_eq!(stored["impact"]["name"], "Affects Business");
    assert_eq!(posts(&env).await, 1);
}

#[tokio::test]
async fn an_unknown_urgency_or_impact_is_refused_by_the_mapping_check_and_before_any_create() {
    let env = Env::start().await;
    let client = onprem(&env, LOCKSTEP_KEY);
    let rules = with_levels("Critical", "Affects Everyone");
    let check = client.check_mapping(&rules).await.unwrap();
    assert_eq!(check.problems.len(), 2, "{check:?}");
    assert!(
        check.problems[0].starts_with("urgency \"Critical\" (severity high)")
            && check.problems[0].contains("Low, Normal, High, Urgent"),
        "{check:?}"
    );
    assert!(
        check.problems[1].starts_with("impact \"Affects Everyone\" (severity high)"),
        "{check:?}"
    );

    let err = Connector::create(&client, &create_for("NES-22", Severity::High, &rules))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidArgument, "{err}");
    assert!(err.to_string().contains("urgency \"Critical\""), "{err}");
    let rules = with_levels("High", "Affects Everyone");
    let err = Connector::create(&client, &create_for("NES-23", Severity::High, &rules))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Affects User, Affects Group"),
        "{err}"
    );
    assert_eq!(posts(&env).await, 0);
    // A severity the mapping gives no urgency or impact sends neither.
    let low = Connector::create(&client, &create_for("NES-24", Severity::Low, &rules))
        .await
        .unwrap();
    let stored = request(&env, low.ticket.external_id().as_str()).await;
    assert!(
        stored["urgency"].is_null() && stored["impact"].is_null(),
        "{stored}"
    );
}
