//! `PresetService`: named, tenant-wide ticket field defaults. Reads need any role; writes need
//! analyst or admin. Fields are checked with the domain's parsers before they are stored, so a
//! stored preset always applies cleanly.

use lockstep_domain::{FieldValues, PresetId, TenantId};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::preset_service_server::PresetService;
use lockstep_service_kit::convert::{self, page_size};
use lockstep_service_kit::{Access, status};
use lockstep_store::{PresetRecord, Store, StoreError};
use serde_json::{Map, Value};
use tonic::{Request, Response, Status};

use crate::ctx::{Ctx, id_for_request, offset_page};

pub struct Presets {
    pub(crate) ctx: Ctx,
}

fn stored_fields(fields: Option<&pb::FieldValues>) -> Result<Map<String, Value>, Status> {
    let values: FieldValues = convert::field_values(fields)?;
    match serde_json::to_value(values).map_err(|e| status::internal(&e))? {
        Value::Object(mut map) => {
            map.retain(|_, v| !v.is_null());
            Ok(map)
        }
        _ => Err(status::internal(
            &"field values did not serialize to an object",
        )),
    }
}

fn check_name(name: &str) -> Result<&str, Status> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.contains(['\n', '\r']) {
        return Err(Status::invalid_argument(
            "name is required: one line of at most 100 characters, such as \"network team\"",
        ));
    }
    Ok(name)
}

/// A preset by id, or by name ignoring case.
pub async fn find(
    store: &Store,
    tenant: TenantId,
    id_or_name: &str,
) -> Result<PresetRecord, Status> {
    let key = id_or_name.trim();
    if key.is_empty() {
        return Err(Status::invalid_argument("a preset id or name is required"));
    }
    if let Ok(id) = PresetId::parse(key) {
        return store
            .presets()
            .get(tenant, id)
            .await
            .map_err(status::from_store);
    }
    store
        .presets()
        .list(tenant)
        .await
        .map_err(status::from_store)?
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(key))
        .ok_or_else(|| {
            Status::not_found(format!(
                "preset {key:?} not found; `lockstep presets list` shows them"
            ))
        })
}

#[tonic::async_trait]
impl PresetService for Presets {
    async fn create_preset(
        &self,
        request: Request<pb::CreatePresetRequest>,
    ) -> Result<Response<pb::Preset>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Write, "creating a preset")
            .await?;
        let req = request.into_inner();
        let name = check_name(&req.name)?;
        let fields = stored_fields(req.fields.as_ref())?;
        let store = &self.ctx.store;
        let record = match id_for_request(caller.tenant, "CreatePreset", &req.request_id)? {
            Some(uuid) => {
                let id = PresetId::from_uuid(uuid);
                match store.presets().get(caller.tenant, id).await {
                    Ok(existing) => existing,
                    Err(StoreError::NotFound { .. }) => store
                        .presets()
                        .create_with_id(caller.tenant, id, name, &fields)
                        .await
                        .map_err(status::from_store)?,
                    Err(e) => return Err(status::from_store(e)),
                }
            }
            None => store
                .presets()
                .create(caller.tenant, name, &fields)
                .await
                .map_err(status::from_store)?,
        };
        Ok(Response::new(convert::preset(&record)?))
    }

    async fn get_preset(
        &self,
        request: Request<pb::GetPresetRequest>,
    ) -> Result<Response<pb::Preset>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Read, "reading presets")
            .await?;
        let record = find(&self.ctx.store, caller.tenant, &request.get_ref().id).await?;
        Ok(Response::new(convert::preset(&record)?))
    }

    async fn list_presets(
        &self,
        request: Request<pb::ListPresetsRequest>,
    ) -> Result<Response<pb::ListPresetsResponse>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Read, "listing presets")
            .await?;
        let req = request.get_ref();
        let size = page_size(req.page_size, 50, 200)?;
        let all = self
            .ctx
            .store
            .presets()
            .list(caller.tenant)
            .await
            .map_err(status::from_store)?;
        let (page, next_page_token) = offset_page(&all, size, &req.page_token)?;
        Ok(Response::new(pb::ListPresetsResponse {
            presets: page.iter().map(convert::preset).collect::<Result<_, _>>()?,
            next_page_token,
        }))
    }

    async fn update_preset(
        &self,
        request: Request<pb::UpdatePresetRequest>,
    ) -> Result<Response<pb::Preset>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Write, "updating a preset")
            .await?;
        let req = request.into_inner();
        let existing = find(&self.ctx.store, caller.tenant, &req.id).await?;
        let name = if req.name.trim().is_empty() {
            existing.name.clone()
        } else {
            check_name(&req.name)?.to_owned()
        };
        let fields = stored_fields(req.fields.as_ref())?;
        let record = self
            .ctx
            .store
            .presets()
            .update(caller.tenant, existing.id, &name, &fields)
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(convert::preset(&record)?))
    }

    async fn delete_preset(
        &self,
        request: Request<pb::DeletePresetRequest>,
    ) -> Result<Response<pb::DeletePresetResponse>, Status> {
        let caller = self
            .ctx
            .caller(&request, Access::Write, "deleting a preset")
            .await?;
        let existing = find(&self.ctx.store, caller.tenant, &request.get_ref().id).await?;
        self.ctx
            .store
            .presets()
            .delete(caller.tenant, existing.id)
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(pb::DeletePresetResponse {}))
    }
}
