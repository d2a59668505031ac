//! The Table API (§1): `/api/now[/v1|/v2]/table/{table}[/{sys_id}]`.

use http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::ServiceNow;
use super::acl::{self, Caller, field_readable};
use super::api::{ApiRequest, ApiResponse, Params};
use super::db::{Db, Record};
use super::errors::SnError;
use super::query::eval::fields_used;
use super::query::parser::{Condition, Op, Query, Term};
use super::query::{bind, candidates, matches, parse, sort_records};
use super::render::{DisplayMode, RenderOpts, render};
use super::schema::{Kind, TableDef, table};
use super::write::{self, Change, WriteCtx};

pub const DEFAULT_LIMIT: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Latest,
    V1,
    V2,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRoute {
    pub version: Version,
    pub table: String,
    pub sys_id: Option<String>,
}

pub fn handle(
    sn: &ServiceNow,
    caller: &Caller,
    req: &ApiRequest,
    route: &TableRoute,
) -> Result<ApiResponse, SnError> {
    let def = table(&route.table).ok_or_else(|| SnError::invalid_table(&route.table))?;
    let p = req.params();
    match (&req.method, route.sys_id.as_deref()) {
        (&Method::GET | &Method::HEAD, None) => list(sn, caller, req, &p, def, route.version),
        (&Method::GET | &Method::HEAD, Some(id)) => get_one(sn, caller, req, &p, def, id),
        (&Method::POST, None) => create(sn, caller, req, &p, def),
        (&Method::PUT | &Method::PATCH, Some(id)) => modify(sn, caller, req, &p, def, id),
        (&Method::DELETE, Some(id)) => remove(sn, caller, def, id),
        _ => Err(SnError::method_not_allowed()),
    }
}

fn render_opts<'a>(
    sn: &'a ServiceNow,
    p: &Params,
    fields: &'a Option<Vec<String>>,
) -> RenderOpts<'a> {
    RenderOpts {
        mode: DisplayMode::parse(p.get("sysparm_display_value")),
        exclude_link: p.flag("sysparm_exclude_reference_link"),
        fields: fields.as_deref(),
        base_url: &sn.base_url,
        field_acls: sn.settings().field_acls,
    }
}

fn requested_fields(p: &Params) -> Option<Vec<String>> {
    p.get("sysparm_fields").map(|f| {
        f.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// `?active=true&state=closed`: the alternative to `sysparm_query`, ignored when that is present.
/// Choice fields accept display values here.
fn name_value_query(db: &Db, def: &'static TableDef, p: &Params) -> Query {
    let group =
        p.0.iter()
            .filter(|(k, _)| !k.starts_with("sysparm_") && def.has(k))
            .map(|(k, v)| {
                let value = match def.field(k).map(|f| f.kind) {
                    Some(Kind::Choice) if db.choice_label(def.name, k, v).is_none() => db
                        .choice_value_for_label(def.name, k, v)
                        .unwrap_or_else(|| v.clone()),
                    _ => v.clone(),
                };
                vec![Term::Cond(Condition {
                    field: k.clone(),
                    op: Op::Eq,
                    value,
                    slot: None,
                })]
            })
            .collect();
    Query {
        groups: vec![group],
        order: Vec::new(),
    }
}

fn list(
    sn: &ServiceNow,
    caller: &Caller,
    req: &ApiRequest,
    p: &Params,
    def: &'static TableDef,
    version: Version,
) -> Result<ApiResponse, SnError> {
    let table_ok = acl::table_readable(def, caller)?;
    let settings = sn.settings();
    let now = sn.clock.now();
    let db = sn.db.read();
    let query = match p.get("sysparm_query") {
        Some(q) => parse(q),
        None => name_value_query(&db, def, p),
    };
    let bound = bind(&query, def, &caller.env(now));
    for name in fields_used(&bound.query) {
        if def
            .field(name)
            .is_some_and(|f| !field_readable(f, caller, settings.field_acls))
        {
            return Err(SnError::field_query_denied());
        }
    }
    let limit = p
        .get("sysparm_limit")
        .and_then(|l| l.trim().parse::<usize>().ok())
        .unwrap_or(DEFAULT_LIMIT);
    // "Don't pass a negative number": the emulator reads a negative offset as 0.
    let offset = p
        .get("sysparm_offset")
        .and_then(|o| o.trim().parse::<i64>().ok())
        .unwrap_or(0)
        .max(0) as usize;
    let mut matched: Vec<&Record> = if bound.dropped && settings.invalid_query_returns_no_rows {
        Vec::new()
    } else {
        let table = db.table(def.name).expect("schema table exists");
        let scan = candidates(&bound, table).unwrap_or_else(|| table.rows().iter().collect());
        scan.into_iter()
            .filter(|r| matches(&bound, &db, def, r))
            .collect()
    };
    let total = matched.len();
    sort_records(
        &db,
        def,
        &bound.query.order,
        &mut matched,
        Some(offset.saturating_add(limit)),
    );
    let fields = requested_fields(p);
    let opts = render_opts(sn, p, &fields);
    // sysparm_limit is applied before row ACLs, so a page can come back short or empty (§1.2),
    // while X-Total-Count counts what the query matched, ACL-blind (§1.8).
    let result: Vec<Value> = matched
        .iter()
        .skip(offset)
        .take(limit)
        .filter(|r| acl::row_visible(def, r, caller, table_ok))
        .map(|r| Value::Object(render(&db, def, r, caller, &opts)))
        .collect();
    drop(db);
    if version == Version::V1 && result.is_empty() {
        return Err(SnError::no_records_v1());
    }
    let mut resp = if req.method == Method::HEAD {
        ApiResponse::empty(StatusCode::OK)
    } else {
        ApiResponse::json(StatusCode::OK, &json!({ "result": result }))
    };
    if !p.flag("sysparm_no_count") {
        resp.set("x-total-count", &total.to_string());
    }
    if !p.flag("sysparm_suppress_pagination_header") && limit > 0 {
        resp.set(
            "link",
            &link_header(&sn.base_url, &req.path, &req.query, offset, limit, total),
        );
    }
    Ok(resp)
}

/// `<…&sysparm_offset=0&sysparm_limit=10>;rel="first",<…>;rel="next",<…>;rel="last"` (§1.5): the
/// original parameters in their original encoding, minus offset and limit, which are appended.
/// `prev` appears only past the first page; `last` = floor((total-1)/limit)*limit.
pub fn link_header(
    base: &str,
    path: &str,
    raw_query: &str,
    offset: usize,
    limit: usize,
    total: usize,
) -> String {
    let kept: Vec<&str> = raw_query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .filter(|kv| {
            !matches!(
                kv.split('=').next(),
                Some("sysparm_offset" | "sysparm_limit")
            )
        })
        .collect();
    let prefix = if kept.is_empty() {
        String::new()
    } else {
        format!("{}&", kept.join("&"))
    };
    let url =
        |off: usize| format!("<{base}{path}?{prefix}sysparm_offset={off}&sysparm_limit={limit}>");
    let last = if total == 0 {
        0
    } else {
        (total - 1) / limit * limit
    };
    let mut links = vec![format!("{};rel=\"first\"", url(0))];
    if offset > 0 {
        links.push(format!(
            "{};rel=\"prev\"",
            url(offset.saturating_sub(limit))
        ));
    }
    if offset + limit < total {
        links.push(format!("{};rel=\"next\"", url(offset + limit)));
    }
    links.push(format!("{};rel=\"last\"", url(last)));
    links.join(",")
}

fn get_one(
    sn: &ServiceNow,
    caller: &Caller,
    req: &ApiRequest,
    p: &Params,
    def: &'static TableDef,
    sys_id: &str,
) -> Result<ApiResponse, SnError> {
    let table_ok = acl::table_readable(def, caller)?;
    let db = sn.db.read();
    let rec = db
        .table(def.name)
        .and_then(|t| t.get(sys_id))
        .filter(|r| acl::row_visible(def, r, caller, table_ok))
        .ok_or_else(SnError::not_found)?;
    let fields = requested_fields(p);
    let body = json!({ "result": render(&db, def, rec, caller, &render_opts(sn, p, &fields)) });
    Ok(if req.method == Method::HEAD {
        ApiResponse::empty(StatusCode::OK)
    } else {
        ApiResponse::json(StatusCode::OK, &body)
    })
}

/// POST/PUT/PATCH take one record; of an array only the first element is processed (§1.1).
fn body_object(req: &ApiRequest) -> Result<Map<String, Value>, SnError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&req.body).map_err(|_| SnError::bad_json())? {
        Value::Object(m) => Ok(m),
        Value::Array(items) => match items.into_iter().next() {
            Some(Value::Object(m)) => Ok(m),
            _ => Err(SnError::bad_json()),
        },
        _ => Err(SnError::bad_json()),
    }
}

fn write_response(
    sn: &ServiceNow,
    caller: &Caller,
    req: &ApiRequest,
    p: &Params,
    def: &'static TableDef,
    sys_id: &str,
    status: StatusCode,
) -> ApiResponse {
    let no_body = req
        .header("x-no-response-body")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut resp = if no_body {
        ApiResponse::empty(status)
    } else {
        let db = sn.db.read();
        let fields = requested_fields(p);
        let result = db
            .table(def.name)
            .and_then(|t| t.get(sys_id))
            .map(|r| Value::Object(render(&db, def, r, caller, &render_opts(sn, p, &fields))))
            .unwrap_or(Value::Null);
        ApiResponse::json(status, &json!({ "result": result }))
    };
    if status == StatusCode::CREATED {
        resp.set(
            "location",
            &format!("{}/api/now/table/{}/{sys_id}", sn.base_url, def.name),
        );
    }
    resp
}

fn create(
    sn: &ServiceNow,
    caller: &Caller,
    req: &ApiRequest,
    p: &Params,
    def: &'static TableDef,
) -> Result<ApiResponse, SnError> {
    if !caller.has_any(def.acl.create) {
        return Err(SnError::acl("Insert"));
    }
    let input = body_object(req)?;
    let ctx = WriteCtx {
        caller,
        now: sn.clock.now(),
        input_display_value: p.flag("sysparm_input_display_value"),
    };
    let written = {
        let mut db = sn.db.write();
        let w = write::insert(&mut db, def, &input, &ctx)?;
        sn.emit(&db, def, &w.sys_id, w.change);
        w
    };
    Ok(write_response(
        sn,
        caller,
        req,
        p,
        def,
        &written.sys_id,
        StatusCode::CREATED,
    ))
}

fn modify(
    sn: &ServiceNow,
    caller: &Caller,
    req: &ApiRequest,
    p: &Params,
    def: &'static TableDef,
    sys_id: &str,
) -> Result<ApiResponse, SnError> {
    let table_ok = acl::table_readable(def, caller)?;
    let input = body_object(req)?;
    let ctx = WriteCtx {
        caller,
        now: sn.clock.now(),
        input_display_value: p.flag("sysparm_input_display_value"),
    };
    {
        let mut db = sn.db.write();
        let visible = db
            .table(def.name)
            .and_then(|t| t.get(sys_id))
            .is_some_and(|r| acl::row_visible(def, r, caller, table_ok));
        if !visible {
            return Err(SnError::not_found());
        }
        if !caller.has_any(def.acl.write) {
            return Err(SnError::acl("Update"));
        }
        let w = write::update(&mut db, def, sys_id, &input, &ctx)?;
        if w.change != Change::Unchanged {
            sn.emit(&db, def, sys_id, w.change);
        }
    }
    Ok(write_response(
        sn,
        caller,
        req,
        p,
        def,
        sys_id,
        StatusCode::OK,
    ))
}

fn remove(
    sn: &ServiceNow,
    caller: &Caller,
    def: &'static TableDef,
    sys_id: &str,
) -> Result<ApiResponse, SnError> {
    let table_ok = acl::table_readable(def, caller)?;
    let mut db = sn.db.write();
    let visible = db
        .table(def.name)
        .and_then(|t| t.get(sys_id))
        .is_some_and(|r| acl::row_visible(def, r, caller, table_ok));
    if !visible {
        return Err(SnError::not_found());
    }
    if !caller.has_any(def.acl.delete) {
        return Err(SnError::acl("Delete"));
    }
    write::delete(&mut db, def, sys_id)?;
    Ok(ApiResponse::empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::link_header;

    #[test]
    fn link_header_pages() {
        let h = link_header(
            "https://x",
            "/api/now/table/t",
            "sysparm_query=a%3D1&sysparm_limit=10&sysparm_offset=10",
            10,
            10,
            35,
        );
        assert_eq!(
            h,
            "<https://x/api/now/table/t?sysparm_query=a%3D1&sysparm_offset=0&sysparm_limit=10>;rel=\"first\",\
             <https://x/api/now/table/t?sysparm_query=a%3D1&sysparm_offset=0&sysparm_limit=10>;rel=\"prev\",\
             <https://x/api/now/table/t?sysparm_query=a%3D1&sysparm_offset=20&sysparm_limit=10>;rel=\"next\",\
             <https://x/api/now/table/t?sysparm_query=a%3D1&sysparm_offset=30&sysparm_limit=10>;rel=\"last\""
        );
        let first_page = link_header("https://x", "/p", "", 0, 10000, 28124);
        assert!(!first_page.contains("prev"));
        assert!(
            first_page
                .ends_with("<https://x/p?sysparm_offset=20000&sysparm_limit=10000>;rel=\"last\"")
        );
        assert!(
            link_header("https://x", "/p", "", 0, 10, 0)
                .contains("sysparm_offset=0&sysparm_limit=10>;rel=\"last\"")
        );
    }
}
