//! `GET /requests?input_data={"list_info":{…}}` (reference B4): `row_count` 1..100,
//! `start_index` (1-based) or `page`, `sort_field`/`sort_order`, `search_criteria` (conditions
//! `is`, `is not`, `greater than`, `greater or equal`, `lesser than`, `lesser or equal`,
//! `between`, `not between`, `starts with`, `ends with`, `contains`, `not contains` and their short
//! forms; `value`/`values`; `logical_operator` and nested `children`), `search_fields`,
//! `get_total_count`. The answer's `response_status` is an array, items carry the reduced set.

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::errors::{SResult, SdpError};
use super::render::{self, ok};
use super::{SReq, Sdp};

/// Sortable fields (sdp_cloud `conf/request.py`).
const SORTABLE: &[&str] = &[
    "created_time",
    "due_by_time",
    "first_response_due_by_time",
    "last_updated_time",
    "scheduled_start_time",
    "scheduled_end_time",
    "subject",
    "id",
    "priority",
    "status",
];

fn bad(field: &str, msg: &str) -> SdpError {
    SdpError::field(4001, field, msg.to_string())
}

/// The comparable text of a field of the full request: a time's `value`, a lookup's `name`
/// (`status` = `status.name`), a scalar as text.
fn field_value(full: &Value, path: &str) -> Option<String> {
    let mut v = full;
    for part in path.split('.') {
        v = v.get(part)?;
    }
    let v = match v {
        Value::Object(o) if o.contains_key("value") => &o["value"],
        Value::Object(o) if o.contains_key("name") => &o["name"],
        other => other,
    };
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn operand(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("id"))
            .map(operand)
            .unwrap_or_default(),
        other => other.to_string(),
    }
}

fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

fn condition(full: &Value, c: &Value) -> SResult<bool> {
    let field = c
        .get("field")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("field", "search_criteria needs a field"))?;
    let cond = c
        .get("condition")
        .and_then(Value::as_str)
        .unwrap_or("is")
        .to_lowercase();
    let mut ops: Vec<String> = match (c.get("values"), c.get("value")) {
        (Some(Value::Array(a)), _) => a.iter().map(operand).collect(),
        (_, Some(v)) => vec![operand(v)],
        _ => Vec::new(),
    };
    // An object lookup value compares by id when it has one (reference B4).
    let by_id = c.get("value").and_then(|v| v.get("id")).is_some();
    let path = if by_id {
        format!("{field}.id")
    } else {
        field.to_string()
    };
    let got = field_value(full, &path);
    if by_id {
        ops = vec![
            c["value"]["id"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| c["value"]["id"].to_string()),
        ];
    }
    let Some(got) = got else {
        return Ok(matches!(
            cond.as_str(),
            "is not" | "!=" | "neq" | "not contains" | "not between"
        ));
    };
    let first = ops.first().cloned().unwrap_or_default();
    let eq = |o: &String| compare(&got, o) == Ordering::Equal;
    let lower = got.to_lowercase();
    let between = || -> SResult<bool> {
        match ops.as_slice() {
            [lo, hi] => {
                Ok(compare(&got, lo) != Ordering::Less && compare(&got, hi) != Ordering::Greater)
            }
            _ => Err(bad(field, "between needs two values")),
        }
    };
    Ok(match cond.as_str() {
        "is" | "=" | "eq" => ops.iter().any(eq),
        "is not" | "!=" | "neq" => !ops.iter().any(eq),
        "greater than" | "gt" => compare(&got, &first) == Ordering::Greater,
        "greater or equal" | "gte" => compare(&got, &first) != Ordering::Less,
        "lesser than" | "lt" => compare(&got, &first) == Ordering::Less,
        "lesser or equal" | "lte" => compare(&got, &first) != Ordering::Greater,
        "between" => between()?,
        "not between" => !between()?,
        "starts with" => ops.iter().any(|o| lower.starts_with(&o.to_lowercase())),
        "ends with" => ops.iter().any(|o| lower.ends_with(&o.to_lowercase())),
        "contains" => ops.iter().any(|o| lower.contains(&o.to_lowercase())),
        "not contains" => !ops.iter().any(|o| lower.contains(&o.to_lowercase())),
        other => return Err(bad("condition", &format!("unknown condition '{other}'"))),
    })
}

fn is_or(c: &Value) -> bool {
    c.get("logical_operator")
        .and_then(Value::as_str)
        .is_some_and(|o| o.eq_ignore_ascii_case("or"))
}

/// Left to right: each item joins the result so far with its own `logical_operator` (the first
/// item's is ignored); an item's `children` join the item the same way.
fn criteria(full: &Value, items: &[Value]) -> SResult<bool> {
    let mut acc: Option<bool> = None;
    for c in items {
        let mut v = if c.get("field").is_some() {
            condition(full, c)?
        } else {
            true
        };
        if let Some(children) = c.get("children").and_then(Value::as_array) {
            for child in children {
                let cv = criteria(full, std::slice::from_ref(child))?;
                v = if is_or(child) { v || cv } else { v && cv };
            }
        }
        acc = Some(match acc {
            None => v,
            Some(a) if is_or(c) => a || v,
            Some(a) => a && v,
        });
    }
    Ok(acc.unwrap_or(true))
}

fn int(info: &Value, k: &str, default: i64) -> SResult<i64> {
    match info.get(k) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| bad(k, &format!("{k} must be a number"))),
    }
}

pub fn list(sdp: &Sdp, req: &SReq) -> SResult<Value> {
    let info = req
        .input
        .as_ref()
        .and_then(|v| v.get("list_info"))
        .cloned()
        .unwrap_or(json!({}));
    let row_count = int(&info, "row_count", 10)?;
    // 1..100 (the official collection's range); what SDP answers above 100 is UNCONFIRMED: 4001.
    if !(1..=100).contains(&row_count) {
        return Err(bad("row_count", "row_count must be between 1 and 100"));
    }
    let start = match info.get("page") {
        Some(_) => (int(&info, "page", 1)? - 1) * row_count + 1,
        None => int(&info, "start_index", 1)?,
    };
    if start < 1 {
        return Err(bad("start_index", "start_index must be 1 or more"));
    }
    let sort_field = info
        .get("sort_field")
        .and_then(Value::as_str)
        .unwrap_or("id");
    if !SORTABLE.contains(&sort_field) {
        return Err(bad("sort_field", &format!("{sort_field} is not sortable")));
    }
    let desc = info
        .get("sort_order")
        .and_then(Value::as_str)
        .is_some_and(|o| o.eq_ignore_ascii_case("desc"));
    let mut items: Vec<Value> = match info.get("search_criteria") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(one) => vec![one.clone()],
    };
    if let Some(Value::Object(simple)) = info.get("search_fields") {
        for (k, v) in simple {
            items.push(json!({"field": k, "condition": "is", "value": v}));
        }
    }
    let db = sdp.db.read();
    let p = db
        .portal(&req.portal)
        .ok_or_else(super::errors::SdpError::not_found)?;
    let mut rows: Vec<(Value, &super::model::Request)> = Vec::new();
    for r in p.requests.values().filter(|r| !r.is_trashed) {
        let full = render::request(p, r);
        if criteria(&full, &items)? {
            rows.push((full, r));
        }
    }
    rows.sort_by(|(a, ra), (b, rb)| {
        let ka = field_value(a, sort_field).unwrap_or_default();
        let kb = field_value(b, sort_field).unwrap_or_default();
        let o = compare(&ka, &kb).then_with(|| compare(&ra.id, &rb.id));
        if desc { o.reverse() } else { o }
    });
    let total = rows.len();
    let from = (start - 1) as usize;
    let page: Vec<Value> = rows
        .iter()
        .skip(from)
        .take(row_count as usize)
        .map(|(_, r)| render::request_in_list(p, r))
        .collect();
    let mut list_info = json!({
        "has_more_rows": from + page.len() < total, "start_index": start,
        "row_count": page.len(), "sort_field": sort_field,
        "sort_order": if desc { "desc" } else { "asc" },
    });
    // `total_count` only with `get_total_count: true` (exact key UNCONFIRMED).
    if info
        .get("get_total_count")
        .is_some_and(|v| v == true || v == "true")
    {
        list_info["total_count"] = json!(total);
    }
    Ok(json!({"response_status": [ok()], "list_info": list_info, "requests": page}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_join_left_to_right_with_children() {
        let r = json!({"status": {"name": "Open"}, "subject": "CVE in openssl",
                       "last_updated_time": {"value": "2000"}});
        let c = json!([{"field": "status.name", "condition": "is", "values": ["Open", "On Hold"]},
            {"field": "last_updated_time", "condition": "greater than", "value": "1000",
             "logical_operator": "AND",
             "children": [{"field": "subject", "condition": "contains", "value": "nginx", "logical_operator": "OR"}]}]);
        assert!(criteria(&r, c.as_array().unwrap()).unwrap());
        let miss = json!([{"field": "subject", "condition": "starts with", "value": "XSS"}]);
        assert!(!criteria(&r, miss.as_array().unwrap()).unwrap());
        let between = json!([{"field": "last_updated_time", "condition": "between", "values": ["1000", "3000"]}]);
        assert!(criteria(&r, between.as_array().unwrap()).unwrap());
        let status = json!([{"field": "status", "condition": "is", "value": {"name": "Open"}}]);
        assert!(criteria(&r, status.as_array().unwrap()).unwrap());
    }
}
