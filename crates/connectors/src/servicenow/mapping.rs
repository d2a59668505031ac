//! Mapping rules checked against the instance's own choice lists (impact, urgency, category,
//! outbound state and close code), so a typo is caught when the rules are saved rather than by a
//! data policy at ticket time.

use lockstep_domain::{KindRules, MappingRules, ServiceNowFields, ServiceNowTable, Severity};

use super::choices::InstanceChoices;
use super::client::ServiceNowClient;
use crate::connector::MappingCheck;
use crate::error::{ConnectorError, Result};

/// Reads the choices of both tables and checks the rules' values against them. A table whose
/// choices cannot be read is [`ConnectorError::Unusable`] naming it.
pub(crate) async fn check(client: &ServiceNowClient, rules: &MappingRules) -> Result<MappingCheck> {
    let MappingRules::ServiceNow {
        incident,
        change_request,
    } = rules
    else {
        return Err(ConnectorError::config(
            "these mapping rules are not ServiceNow rules",
        ));
    };
    let mut out = MappingCheck::default();
    for (table, kind) in [
        (ServiceNowTable::Incident, incident),
        (ServiceNowTable::ChangeRequest, change_request),
    ] {
        let choices = client.read_choices(table).await.map_err(|e| {
            ConnectorError::unusable(format!("cannot read the {table} choice lists ({e})"))
        })?;
        unknown_choices(table, kind, &choices, &mut out);
    }
    Ok(out)
}

/// Values of `rules` for `table` that the instance's choice lists do not contain (problems), and
/// values that could not be confirmed because the lists are partial (warnings).
pub fn unknown_choices(
    table: ServiceNowTable,
    rules: &KindRules<ServiceNowFields>,
    choices: &InstanceChoices,
    out: &mut MappingCheck,
) {
    let mut check = |element: &str, value: &str, context: String| {
        let valid = choices.is_valid(element, value);
        if valid.is_none() {
            out.warnings.push(format!(
                "{table}.{element} {value:?} ({context}) could not be confirmed: the account cannot \
                 read sys_choice, and recent tickets do not use it"
            ));
        }
        if valid == Some(false) {
            let valid: Vec<&str> = choices
                .choices(element)
                .iter()
                .map(|c| c.value.as_str())
                .collect();
            out.problems.push(format!(
                "{table}.{element} {value:?} ({context}) is not a choice of the instance; valid: {}",
                valid.join(", ")
            ));
        }
    };
    for severity in Severity::ALL {
        let f = rules.severity.get(*severity);
        check("impact", f.impact.wire(), format!("severity {severity}"));
        check("urgency", f.urgency.wire(), format!("severity {severity}"));
        if let Some(category) = &f.category {
            check(
                "category",
                category.as_str(),
                format!("severity {severity}"),
            );
        }
    }
    for rule in rules.outbound.rules() {
        check(
            "state",
            rule.state.as_str(),
            format!("outbound rule for {}", rule.status),
        );
        if let Some(code) = &rule.close_code {
            check(
                "close_code",
                code.as_str(),
                format!("outbound rule for {}", rule.status),
            );
        }
    }
}
