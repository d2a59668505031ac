//! `GET|POST /rest/api/{2,3}/search/jql` (reference A5): bounded JQL only, `nextPageToken` and
//! `isLast` instead of totals, `fields` defaulting to `id`, `reconcileIssues` (at most 50). The
//! removed `/search` answers 410 with Jira's migration message.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde_json::{Value, json};

use super::auth::Caller;
use super::errors::{JResult, JiraError};
use super::jql::{self, eval::Ctx};
use super::model::{Issue, Perm};
use super::render::{self, FieldSel, IssueView};
use super::{JReq, JResp, Jira};

pub fn removed() -> JiraError {
    JiraError::new(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. \
         A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
    )
}

struct Params {
    jql: String,
    fields: Vec<String>,
    expand: Vec<String>,
    max: Option<usize>,
    token: Option<String>,
    reconcile: usize,
}

fn list_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

fn params(req: &JReq) -> JResult<Params> {
    if req.method == http::Method::POST {
        let b = req.json()?;
        return Ok(Params {
            jql: b
                .get("jql")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            fields: list_of(b.get("fields")),
            expand: list_of(b.get("expand")),
            max: b
                .get("maxResults")
                .and_then(Value::as_u64)
                .map(|m| m as usize),
            token: b
                .get("nextPageToken")
                .and_then(Value::as_str)
                .map(String::from),
            reconcile: b
                .get("reconcileIssues")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
        });
    }
    Ok(Params {
        jql: req.param("jql").unwrap_or("").to_string(),
        fields: req.params("fields"),
        expand: req.params("expand"),
        max: req.param("maxResults").and_then(|m| m.parse().ok()),
        token: req.param("nextPageToken").map(String::from),
        reconcile: req.params("reconcileIssues").len(),
    })
}

/// The token names the offset and a digest of the JQL, so it cannot be replayed on another query.
fn token(offset: usize, digest: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{offset}:{digest:x}"))
}

fn read_token(t: &str, digest: u64) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(t).ok()?).ok()?;
    let (offset, d) = raw.split_once(':')?;
    (u64::from_str_radix(d, 16).ok()? == digest).then_some(())?;
    offset.parse().ok()
}

fn digest(p: &Params) -> u64 {
    // FNV-1a over the query that defines the result set (fields may change between pages).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in p.jql.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// `POST /search/approximate-count`: the same bounded-JQL rule; the emulator's count is exact.
pub fn approximate_count(j: &Jira, caller: &Caller, req: &JReq) -> JResult<JResp> {
    let p = params(req)?;
    let (_, filter) = bounded_query(&p.jql)?;
    let db = j.db.read();
    let tz = render::user_offset(&db, &caller.account_id);
    let ctx = Ctx {
        db: &db,
        account_id: &caller.account_id,
        tz,
        now: j.clock.now(),
    };
    ctx.validate(&filter).map_err(JiraError::bad_request)?;
    let count = db
        .issues
        .values()
        .filter(|i| db.may(&caller.account_id, &i.project_id, Perm::Browse))
        .filter(|i| ctx.matches(&filter, i))
        .count();
    Ok(JResp::ok(json!({"count": count})))
}

/// The parsed JQL and its filter, refused when it does not parse or has no search restriction
/// (Jira's bounded-JQL rule for these endpoints).
fn bounded_query(text: &str) -> JResult<(jql::Query, jql::Expr)> {
    let query = jql::parse(text)
        .map_err(|e| JiraError::bad_request(format!("Error in the JQL Query: {e}")))?;
    let filter = query.filter.clone().ok_or_else(unbounded)?;
    Ok((query, filter))
}

fn unbounded() -> JiraError {
    JiraError::bad_request(
        "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
    )
}

pub fn search(j: &Jira, caller: &Caller, req: &JReq) -> JResult<JResp> {
    let p = params(req)?;
    if p.reconcile > 50 {
        return Err(JiraError::bad_request(
            "At most 50 issues can be reconciled.",
        ));
    }
    let (q, filter) = bounded_query(&p.jql)?;
    let db = j.db.read();
    let tz = render::user_offset(&db, &caller.account_id);
    let ctx = Ctx {
        db: &db,
        account_id: &caller.account_id,
        tz,
        now: j.clock.now(),
    };
    ctx.validate(&filter).map_err(JiraError::bad_request)?;
    let mut hits: Vec<&Issue> = db
        .issues
        .values()
        .filter(|i| db.may(&caller.account_id, &i.project_id, Perm::Browse))
        .filter(|i| ctx.matches(&filter, i))
        .collect();
    ctx.sort(&q, &mut hits).map_err(JiraError::bad_request)?;
    let sel = FieldSel::parse(&p.fields, false);
    // Up to 5000 per page when only ids are asked for; fewer when fields are (reference A5).
    let limit = if sel.ids_only() { 5000 } else { 100 };
    let max = p.max.unwrap_or(50).clamp(1, limit);
    let d = digest(&p);
    let offset = match &p.token {
        Some(t) => read_token(t, d).ok_or_else(|| {
            JiraError::bad_request("The provided next page token is invalid or expired.")
        })?,
        None => 0,
    };
    let view = IssueView {
        version: req.version,
        fields: &sel,
        tz,
        changelog: p.expand.iter().any(|e| e == "changelog"),
    };
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(max)
        .map(|i| render::issue(&db, &j.base_url, i, &view))
        .collect();
    let end = offset + page.len();
    let is_last = end >= hits.len();
    let mut body = json!({"issues": page, "isLast": is_last});
    if !is_last {
        body["nextPageToken"] = json!(token(end, d));
    }
    Ok(JResp::ok(body))
}
