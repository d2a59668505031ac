//! `MappingService`: an integration's mapping rules. Reads need any role; replacing them needs
//! admin, and the new rules are checked against the instance first (`Connector::check_mapping`:
//! the vendor's own choice lists), so a typo is caught here rather than by a vendor rule at
//! ticket time.

use lockstep_connectors::MappingCheck;
use lockstep_domain::MappingRules;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::mapping_service_server::MappingService;
use lockstep_service_kit::convert::{integration_id, ts};
use lockstep_service_kit::{Access, status, vendor};
use lockstep_store::IntegrationRecord;
use tonic::{Request, Response, Status};

use crate::ctx::Ctx;

pub struct Mapping {
    pub(crate) ctx: Ctx,
}

/// The display rows of a rule set.
pub fn severity_rows(rules: &MappingRules) -> Vec<pb::SeverityMapping> {
    rules
        .severity_rows()
        .into_iter()
        .map(|r| pb::SeverityMapping {
            kind: r.kind.to_owned(),
            severity: r.severity.to_owned(),
            impact: r.impact,
            urgency: r.urgency,
            priority: r.priority,
            category: r.category,
        })
        .collect()
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
        let client = vendor::connector(&self.ctx.connectors, integration)?;
        let MappingCheck { problems, warnings } =
            client.check_mapping(rules).await.map_err(|e| {
                Status::failed_precondition(format!(
                    "cannot check the rules against {} ({e}); fix the connection, or set \
                     skip_instance_validation",
                    integration.name
                ))
            })?;
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
