//! `MappingService`: an integration's mapping rules. Reads need any role; replacing them needs
//! admin, and the new rules are checked against the instance's own choice lists first (impact,
//! urgency, category, outbound state and close code), so a typo is caught here rather than by
//! a ServiceNow data policy at ticket time.

use lockstep_connectors::servicenow::InstanceChoices;
use lockstep_domain::{
    BySeverity, KindRules, MappingRules, Priority, ServiceNowFields, ServiceNowTable, Severity,
};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::mapping_service_server::{MappingService, MappingServiceServer};
use lockstep_service_kit::convert::{integration_id, ts};
use lockstep_service_kit::{Access, status};
use lockstep_store::IntegrationRecord;
use tonic::{Request, Response, Status};

use crate::ctx::Ctx;

pub struct Mapping {
    ctx: Ctx,
}

pub(crate) fn service(ctx: Ctx) -> MappingServiceServer<Mapping> {
    MappingServiceServer::new(Mapping { ctx })
}

/// The display rows of a rule set.
pub fn severity_rows(rules: &MappingRules) -> Vec<pb::SeverityMapping> {
    fn servicenow(
        out: &mut Vec<pb::SeverityMapping>,
        kind: &str,
        by: &BySeverity<ServiceNowFields>,
        incident: bool,
    ) {
        for severity in Severity::ALL {
            let f = by.get(*severity);
            out.push(pb::SeverityMapping {
                kind: kind.to_owned(),
                severity: severity.as_str().to_owned(),
                impact: f.impact.to_string(),
                urgency: f.urgency.to_string(),
                priority: if incident {
                    Priority::for_incident(f.impact, f.urgency).to_string()
                } else {
                    "computed by ServiceNow".to_owned()
                },
                category: f
                    .category
                    .as_ref()
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default(),
            });
        }
    }
    fn named(
        out: &mut Vec<pb::SeverityMapping>,
        kind: &str,
        rules: &KindRules<lockstep_domain::Label>,
    ) {
        for severity in Severity::ALL {
            out.push(pb::SeverityMapping {
                kind: kind.to_owned(),
                severity: severity.as_str().to_owned(),
                priority: rules.severity.get(*severity).as_str().to_owned(),
                ..Default::default()
            });
        }
    }
    let mut out = Vec::new();
    match rules {
        MappingRules::ServiceNow {
            incident,
            change_request,
        } => {
            servicenow(&mut out, "incident", &incident.severity, true);
            servicenow(&mut out, "change_request", &change_request.severity, false);
        }
        MappingRules::Jira { issue } => named(&mut out, "issue", issue),
        MappingRules::ManageEngine { request } => named(&mut out, "request", request),
    }
    out
}

/// Values of `rules` for `table` that the instance's choice lists do not contain (errors), and
/// values that could not be confirmed because the lists are partial (warnings).
pub fn unknown_choices(
    table: ServiceNowTable,
    rules: &KindRules<ServiceNowFields>,
    choices: &InstanceChoices,
) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut check = |element: &str, value: &str, context: String| {
        let valid = choices.is_valid(element, value);
        if valid.is_none() {
            warnings.push(format!(
                "{table}.{element} {value:?} ({context}) could not be confirmed: the account cannot                  read sys_choice, and recent tickets do not use it"
            ));
        }
        if valid == Some(false) {
            let valid: Vec<&str> = choices
                .choices(element)
                .iter()
                .map(|c| c.value.as_str())
                .collect();
            problems.push(format!(
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
    (problems, warnings)
}

impl Mapping {
    async fn integration(
        &self,
        tenant: lockstep_domain::TenantId,
        id: &str,
    ) -> Result<IntegrationRecord, Status> {
        let id = integration_id("integration_id", id)?;
        self.ctx
            .store
            .integrations()
            .get(tenant, id)
            .await
            .map_err(status::from_store)
    }

    async fn check_instance(
        &self,
        integration: &IntegrationRecord,
        rules: &MappingRules,
    ) -> Result<Vec<String>, Status> {
        let MappingRules::ServiceNow {
            incident,
            change_request,
        } = rules
        else {
            return Ok(Vec::new());
        };
        let client = self.ctx.vendors.servicenow(integration)?;
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        for (table, kind) in [
            (ServiceNowTable::Incident, incident),
            (ServiceNowTable::ChangeRequest, change_request),
        ] {
            let choices = client.read_choices(table).await.map_err(|e| {
                Status::failed_precondition(format!(
                    "cannot read the {table} choice lists of {} to check the rules ({e}); fix \
                     the connection, or set skip_instance_validation",
                    integration.name
                ))
            })?;
            let (errors, unconfirmed) = unknown_choices(table, kind, &choices);
            problems.extend(errors);
            warnings.extend(unconfirmed);
        }
        if problems.is_empty() {
            return Ok(warnings);
        }
        Err(Status::failed_precondition(format!(
            "the rules use values the instance does not accept: {}",
            problems.join("; ")
        )))
    }
}

fn to_pb(
    integration: &IntegrationRecord,
    rules: &MappingRules,
    stored: Option<&lockstep_store::MappingRulesRecord>,
) -> Result<pb::MappingRules, Status> {
    Ok(pb::MappingRules {
        integration_id: integration.id.to_string(),
        vendor: integration.vendor.as_str().to_owned(),
        rules_json: serde_json::to_string_pretty(rules).map_err(|e| status::internal(&e))?,
        is_default: stored.is_none(),
        severity: severity_rows(rules),
        update_time: stored.and_then(|s| ts(s.updated_at)),
        instance_warnings: Vec::new(),
    })
}

#[tonic::async_trait]
impl MappingService for Mapping {
    async fn get_mapping_rules(
        &self,
        request: Request<pb::GetMappingRulesRequest>,
    ) -> Result<Response<pb::MappingRules>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Read, "reading mapping rules")
            .await?;
        let integration = self
            .integration(caller.tenant, &request.get_ref().integration_id)
            .await?;
        let effective = self
            .ctx
            .store
            .mapping_rules()
            .effective(&integration)
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(to_pb(
            &integration,
            &effective.rules,
            effective.stored.as_ref(),
        )?))
    }

    async fn update_mapping_rules(
        &self,
        request: Request<pb::UpdateMappingRulesRequest>,
    ) -> Result<Response<pb::MappingRules>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Admin, "changing mapping rules")
            .await?;
        let req = request.into_inner();
        let integration = self.integration(caller.tenant, &req.integration_id).await?;
        let rules = MappingRules::from_json(&req.rules_json).map_err(|e| {
            Status::invalid_argument(format!(
                "rules_json is not a valid rule document: {e}. Start from `lockstep mappings show \
                 --output json` and edit it"
            ))
        })?;
        if rules.vendor() != integration.vendor {
            return Err(Status::invalid_argument(format!(
                "rules_json is for {} but integration {} is a {} integration",
                rules.vendor(),
                integration.name,
                integration.vendor
            )));
        }
        let warnings = if req.skip_instance_validation {
            Vec::new()
        } else {
            self.check_instance(&integration, &rules).await?
        };
        let stored = self
            .ctx
            .store
            .mapping_rules()
            .put(caller.tenant, integration.id, &rules)
            .await
            .map_err(status::from_store)?;
        tracing::info!(integration = %integration.id, by = %caller.name, "mapping rules replaced");
        let mut out = to_pb(&integration, &stored.rules, Some(&stored))?;
        out.instance_warnings = warnings;
        Ok(Response::new(out))
    }
}
