//! `IntegrationService.GetFieldMetadata`: the fields of one container as the vendor reports them
//! now (required and custom fields, choices), for the escalation form. Any role may read it: the
//! form is shown to viewers too, who cannot submit it. Vendor-neutral: the connector of the
//! integration answers through `Connector::field_metadata`.

use lockstep_connectors::{ConnectorError, FieldMetadata};
use lockstep_proto::v1 as pb;
use lockstep_service_kit::convert::integration_id;
use lockstep_service_kit::{Access, status, vendor};
use tonic::{Request, Response, Status};

use crate::ctx::Ctx;

pub(crate) async fn get(
    ctx: &Ctx,
    request: Request<pb::GetFieldMetadataRequest>,
) -> Result<Response<pb::FieldMetadata>, Status> {
    let caller = ctx
        .caller(&request, Access::Read, "reading a ticket form's fields")
        .await?;
    let req = request.into_inner();
    let id = integration_id("integration_id", &req.integration_id)?;
    let record = ctx
        .store
        .integrations()
        .get(caller.tenant, id)
        .await
        .map_err(status::from_store)?;
    let spec = ctx
        .connectors
        .registry()
        .spec(record.vendor)
        .map_err(|e| status::from_connector(&e))?;
    let asked = req.container.trim();
    let container = if asked.is_empty() {
        record
            .settings
            .default_table_or_project
            .as_deref()
            .or(spec.default_container())
            .ok_or_else(|| {
                Status::invalid_argument(format!(
                    "container is required: integration {} has no default table or project",
                    record.name
                ))
            })?
    } else {
        asked
    };
    let target = spec.parse_container(container).map_err(|e| match e {
        ConnectorError::InvalidConfig { message } => {
            Status::invalid_argument(format!("container {message}"))
        }
        other => Status::invalid_argument(format!("container: {other}")),
    })?;
    let connector = ctx
        .connectors
        .connector(&vendor::access(&record))
        .map_err(|e| status::from_connector(&e))?;
    let meta = connector
        .field_metadata(&target)
        .await
        .map_err(|e| status::from_connector(&e))?;
    Ok(Response::new(to_pb(&req.integration_id, &meta)))
}

fn to_pb(integration_id: &str, meta: &FieldMetadata) -> pb::FieldMetadata {
    pb::FieldMetadata {
        integration_id: integration_id.trim().to_owned(),
        container: meta.target.container().to_owned(),
        fields: meta
            .fields
            .iter()
            .map(|(name, info)| pb::FieldInfo {
                name: name.clone(),
                required: info.required,
                custom: info.custom,
                choices: info
                    .choices
                    .iter()
                    .map(|c| pb::FieldChoice {
                        value: c.value.clone(),
                        label: c.label.clone(),
                    })
                    .collect(),
            })
            .collect(),
        complete: meta.complete,
        partial_reason: meta.partial_reason.clone().unwrap_or_default(),
    }
}
