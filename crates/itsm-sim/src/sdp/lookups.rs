//! `GET /requests/_metainfo` (UDF definitions under `metainfo.fields.udf_fields.fields`, reference
//! B3) and the lookup lists a connector validates its mapping against. The lookup endpoint names
//! (`priorities`, `urgencies`, `impacts`, `statuses`, `request_templates`, …) are UNCONFIRMED in
//! the reference; they answer `{<name>: […], "list_info", "response_status": [ … ]}` like lists.

use serde_json::{Map, Value, json};

use super::errors::{SResult, SdpError};
use super::model::UdfType;
use super::render::{self, ok};
use super::{SReq, Sdp};

pub fn metainfo(sdp: &Sdp, req: &SReq) -> SResult<Value> {
    let db = sdp.db.read();
    let p = db.portal(&req.portal).ok_or_else(SdpError::not_found)?;
    let mut udfs = Map::new();
    for d in &p.udfs {
        let (kind, data_type) = match d.kind {
            UdfType::SingleLine => ("Single Line", "string"),
            UdfType::Numeric => ("Numeric Field", "long"),
        };
        udfs.insert(
            d.key.clone(),
            json!({"name": d.key, "display_name": d.display_name, "type": kind,
                   "data_type": data_type, "is_udf": true}),
        );
    }
    let mut fields = Map::new();
    fields.insert(
        "subject".into(),
        json!({"name": "subject", "display_name": "Subject", "type": "string", "mandatory": true}),
    );
    for k in super::db::LOOKUP_KINDS
        .iter()
        .chain(["status", "template"].iter())
    {
        fields.insert((*k).into(), json!({"name": k, "type": "lookup"}));
    }
    fields.insert("udf_fields".into(), json!({"fields": udfs}));
    let templates: Vec<Value> = p
        .templates
        .iter()
        .map(|t| json!({"id": t.id, "name": t.name, "mandatory_fields": t.mandatory}))
        .collect();
    Ok(
        json!({"metainfo": {"name": "request", "fields": fields, "templates": templates},
              "response_status": ok()}),
    )
}

pub fn list(sdp: &Sdp, req: &SReq, kind: &str) -> SResult<Value> {
    let db = sdp.db.read();
    let p = db.portal(&req.portal).ok_or_else(SdpError::not_found)?;
    let items: Vec<Value> = match kind {
        "statuses" => p.statuses.iter().map(render::status).collect(),
        "request_templates" => p
            .templates
            .iter()
            .map(|t| json!({"id": t.id, "name": t.name}))
            .collect(),
        "technicians" => p
            .technicians
            .iter()
            .filter(|t| t.is_technician)
            .map(|t| render::user(p, Some(&t.id)))
            .collect(),
        other => {
            let lookup = match other {
                "priorities" => "priority",
                "urgencies" => "urgency",
                "impacts" => "impact",
                "categories" => "category",
                "groups" => "group",
                "request_types" => "request_type",
                "modes" => "mode",
                "levels" => "level",
                "closure_codes" => "closure_code",
                _ => return Err(SdpError::not_found()),
            };
            p.lookups
                .get(lookup)
                .map(|l| {
                    l.iter()
                        .map(|x| json!({"id": x.id, "name": x.name}))
                        .collect()
                })
                .unwrap_or_default()
        }
    };
    let n = items.len();
    Ok(json!({kind: items, "response_status": [ok()],
              "list_info": {"has_more_rows": false, "start_index": 1, "row_count": n}}))
}
