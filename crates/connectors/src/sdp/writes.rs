//! Writing requests: create (with the pre-create checks), find one by its correlation marker,
//! link related requests, and push a finding's change (notes, resolution, status, `_close` with a
//! closure code and comments).
//!
//! SDP has no correlation field, so every request Lockstep creates carries its correlation id
//! (`lockstep:<finding id>`) on the last line of its description, and is found again with
//! `search_criteria` `description contains "<correlation id>"`. Whether real builds search the
//! description is UNCONFIRMED in the reference (the emulator does). A create whose answer is
//! lost (timeout, dropped connection, 5xx or an error inside an HTTP 200) is repaired by that
//! search, never by a second create.

use http::Method;
use lockstep_domain::{
    CorrelationId, DraftPriority, FindingId, TicketKey, TicketMode, TicketObservation, TicketRef,
};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::client::{SdpCall, SdpClient};
use super::record::{id_of, observation_from_request};
use crate::connector::{CreatedTicket, OutboundChange, TicketCreate};
use crate::error::{ConnectorError, Result};

/// SDP's subject length (Cloud doc, reference B3).
pub const SUBJECT_MAX: usize = 250;

/// Text as SDP's HTML description: escaped, line breaks kept.
pub fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace("\r\n", "\n")
        .replace('\n', "<br>")
}

fn cut(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A person field: `{"email_id"}` for an address, else `{"name"}`.
fn person(who: &str) -> Value {
    let who = who.trim();
    if who.contains('@') {
        json!({ "email_id": who })
    } else {
        json!({ "name": who })
    }
}

/// The `request` object of a create.
pub fn request_body(create: &TicketCreate) -> Result<Value> {
    let draft = &create.draft;
    let correlation = CorrelationId::for_finding(create.finding_id);
    let mut description = html(&draft.description);
    if !create.labels.is_empty() {
        description.push_str(&format!(
            "<br><br>Labels: {}",
            html(&create.labels.join(", "))
        ));
    }
    description.push_str(&format!(
        "<br><br>{} — correlation id: {correlation}",
        html(&create.reference_label)
    ));
    let mut r = Map::new();
    r.insert(
        "subject".into(),
        json!(cut(&draft.summary.value, SUBJECT_MAX)),
    );
    r.insert("description".into(), json!(description));
    match &draft.priority {
        DraftPriority::Levels {
            priority,
            urgency,
            impact,
        } => {
            r.insert(
                "priority".into(),
                json!({ "name": priority.value.as_str() }),
            );
            if let Some(u) = urgency {
                r.insert("urgency".into(), json!({ "name": u.value.as_str() }));
            }
            if let Some(i) = impact {
                r.insert("impact".into(), json!({ "name": i.value.as_str() }));
            }
        }
        DraftPriority::Named(_) | DraftPriority::ServiceNow { .. } => {
            return Err(ConnectorError::config(
                "the draft was made with another vendor's mapping rules, not ServiceDesk Plus \
                 priority, urgency and impact names",
            ));
        }
    }
    if let Some(c) = &draft.category {
        r.insert("category".into(), json!({ "name": c.value.as_str() }));
    }
    if let Some(g) = &draft.assignment_group {
        r.insert("group".into(), json!({ "name": g.value.as_str() }));
    }
    if let Some(a) = &draft.assignee {
        r.insert("technician".into(), person(a.value.as_str()));
    }
    if let Some(reporter) = create.reporter.as_deref().filter(|r| !r.trim().is_empty()) {
        r.insert("requester".into(), person(reporter));
    }
    Ok(Value::Object(r))
}

/// The lookups a create sets from the mapping, checked against the instance before sending.
const LEVELS: [&str; 3] = ["priority", "urgency", "impact"];

/// What to do about mandatory fields the create leaves empty: urgency and impact can come from
/// the mapping, anything else only from the template.
fn mandatory_remedy(missing: &[String]) -> String {
    let template = "make these fields optional in the request template (Admin → Templates & \
                    Forms → Request Template), or give them default values there";
    if missing.iter().any(|f| f == "urgency" || f == "impact") {
        format!(
            "Map urgency and impact per severity in the integration's mapping rules \
             (request.severity.<severity> = {{\"priority\", \"urgency\", \"impact\"}}), or {template}"
        )
    } else {
        let mut out = template.to_owned();
        out[..1].make_ascii_uppercase();
        out
    }
}

/// Whether SDP may have created the request although we got no usable answer.
pub(crate) fn answer_may_be_lost(e: &ConnectorError) -> bool {
    match e {
        ConnectorError::Timeout { .. } | ConnectorError::Transport { .. } => true,
        ConnectorError::Vendor { status, .. } => *status >= 500,
        _ => false,
    }
}

fn request_of(body: &Value) -> Result<&Value> {
    body.get("request")
        .filter(|r| r.is_object())
        .ok_or_else(|| {
            ConnectorError::invalid_response(
                "the answer has no request (is this ServiceDesk Plus?)",
            )
        })
}

impl SdpClient {
    pub(crate) fn created(&self, observation: TicketObservation, recovered: bool) -> CreatedTicket {
        let url = self
            .portal()
            .request_page(observation.ticket.external_id().as_str());
        CreatedTicket {
            ticket: observation.ticket.clone(),
            observation,
            url,
            recovered,
        }
    }

    /// Checks what SDP would refuse (a priority it does not know, mandatory template fields the
    /// mapping does not fill) BEFORE anything is created, then creates the request, then links it
    /// in link mode.
    pub async fn create_request(&self, create: &TicketCreate) -> Result<CreatedTicket> {
        let related = match &create.mode {
            TicketMode::Standalone => None,
            TicketMode::Subtask { .. } => {
                return Err(ConnectorError::config(
                    "ServiceDesk Plus requests have no subtasks; create it standalone or in link mode",
                ));
            }
            TicketMode::Link { related } => Some(related.clone()),
        };
        let request = request_body(create)?;
        self.precheck(&request).await?;
        let related_id = match &related {
            Some(key) => Some(self.id_of_display(key).await?),
            None => None,
        };
        let created = match self.post_request(&request).await {
            Ok(created) => created,
            Err(e) if answer_may_be_lost(&e) => match self.find_correlated(create.finding_id).await
            {
                Ok(Some(observation)) => {
                    tracing::warn!(error = %e, ticket = %observation.ticket,
                        "create answer lost; found the request by its correlation id");
                    self.created(observation, true)
                }
                _ => return Err(e),
            },
            Err(e) => return Err(e),
        };
        if let (Some(other), Some(key)) = (related_id, related) {
            self.link(&created.ticket, &other, &key).await?;
        }
        Ok(created)
    }

    async fn precheck(&self, request: &Value) -> Result<()> {
        let instance = self.instance().await?;
        for field in LEVELS {
            let pointer = format!("/{field}/name");
            if let Some(name) = request.pointer(&pointer).and_then(Value::as_str)
                && instance.accepts(field, name) == Some(false)
            {
                let valid: Vec<&str> = instance
                    .choices(field)
                    .unwrap_or_default()
                    .iter()
                    .map(|c| c.label.as_str())
                    .collect();
                return Err(ConnectorError::config(format!(
                    "{field} {name:?} is not one of this ServiceDesk Plus instance's {field} \
                     names (valid: {}); fix the integration's mapping rules",
                    valid.join(", ")
                )));
            }
        }
        let missing = instance.missing_mandatory(request);
        if !missing.is_empty() {
            return Err(ConnectorError::DataPolicy {
                message: format!(
                    "the request template{} makes {} mandatory and the mapping does not fill them; \
                     nothing was created",
                    instance
                        .default_template
                        .as_deref()
                        .map(|t| format!(" {t:?}"))
                        .unwrap_or_default(),
                    missing.join(", ")
                ),
                remedy: mandatory_remedy(&missing),
            });
        }
        Ok(())
    }

    async fn post_request(&self, request: &Value) -> Result<CreatedTicket> {
        let call = SdpCall::new("create_request", Method::POST, "requests")
            .input(json!({ "request": request }))
            .idempotent(false);
        let body = self.call(&call).await?;
        let observation = observation_from_request(request_of(&body)?, OffsetDateTime::now_utc())?;
        Ok(self.created(observation, false))
    }

    /// The request of `finding`, found by its correlation marker (the oldest when several).
    pub async fn find_correlated(&self, finding: FindingId) -> Result<Option<TicketObservation>> {
        let correlation = CorrelationId::for_finding(finding).to_string();
        let rows = self
            .search(
                "find_by_correlation",
                json!([{"field": "description", "condition": "contains", "value": correlation}]),
                "created_time",
                2,
            )
            .await?;
        if rows.len() > 1 {
            tracing::warn!(%correlation, "several ServiceDesk Plus requests carry the same correlation id; using the oldest");
        }
        rows.first()
            .map(|r| observation_from_request(r, OffsetDateTime::now_utc()))
            .transpose()
    }

    async fn search(
        &self,
        op: &'static str,
        criteria: Value,
        sort: &str,
        rows: u32,
    ) -> Result<Vec<Value>> {
        let call = SdpCall::new(op, Method::GET, "requests").input(json!({"list_info": {
            "row_count": rows, "start_index": 1, "sort_field": sort, "sort_order": "asc",
            "search_criteria": criteria}}));
        let body = self.call(&call).await?;
        Ok(body
            .get("requests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// The id of the request shown as `key` (Cloud ids differ from display ids).
    async fn id_of_display(&self, key: &TicketKey) -> Result<String> {
        let rows = self
            .search(
                "find_related",
                json!([{"field": "display_id", "condition": "is", "value": key.as_str()}]),
                "id",
                1,
            )
            .await?;
        rows.first()
            .and_then(|r| id_of(r.get("id")))
            .ok_or_else(|| ConnectorError::NotFound {
                message: format!("there is no ServiceDesk Plus request {key} to link to"),
            })
    }

    async fn link(&self, ticket: &TicketRef, other_id: &str, key: &TicketKey) -> Result<()> {
        let call = SdpCall::new(
            "link_requests",
            Method::POST,
            format!("requests/{}/link_requests", ticket.external_id()),
        )
        .input(
            json!({"link_requests": [{"linked_request": {"id": other_id},
            "comments": format!("Related request {key} (linked by Lockstep)")}]}),
        )
        .idempotent(true);
        self.call(&call).await.map(|_| ())
    }

    /// Reads one request.
    pub async fn get_request(&self, ticket: &TicketRef) -> Result<TicketObservation> {
        let call = SdpCall::new(
            "get_request",
            Method::GET,
            format!("requests/{}", ticket.external_id()),
        );
        let body = self.call(&call).await?;
        observation_from_request(request_of(&body)?, OffsetDateTime::now_utc())
    }

    /// Adds a note for technicians (not shown to the requester). The note object's key (`note`)
    /// is UNCONFIRMED in the reference.
    pub async fn add_note(&self, ticket: &TicketRef, text: &str) -> Result<()> {
        let call = SdpCall::new(
            "add_note",
            Method::POST,
            format!("requests/{}/notes", ticket.external_id()),
        )
        .input(json!({"note": {"description": html(text), "show_to_requester": false}}))
        .idempotent(false);
        self.call(&call).await.map(|_| ())
    }

    /// Moves the request to the change's status. Already there: nothing is sent (a redelivered
    /// push adds no second note). Otherwise the note, then the resolution (for a Completed
    /// status), then the status last, so an interrupted push leaves the request out of its
    /// target status and the redelivery does it again. The Closed status goes through `_close`
    /// with the closure code and the close notes as closure comments.
    pub async fn push_change(
        &self,
        ticket: &TicketRef,
        change: &OutboundChange,
    ) -> Result<TicketObservation> {
        let current = self.get_request(ticket).await?;
        let target = change.push.state.as_str().trim();
        if current.vendor_state.eq_ignore_ascii_case(target) {
            return Ok(current);
        }
        let instance = self.instance().await?;
        let status = instance.status(target);
        if status.is_none() && !instance.statuses.is_empty() {
            return Err(ConnectorError::config(format!(
                "status {target:?} is not a status of this ServiceDesk Plus instance; fix the outbound mapping rules"
            )));
        }
        let closing = status.map_or(target.eq_ignore_ascii_case("Closed"), |s| {
            s.internal_name
                .as_deref()
                .unwrap_or(&s.name)
                .eq_ignore_ascii_case("Closed")
        });
        let completed = status.is_some_and(|s| !s.in_progress);
        let id = ticket.external_id().as_str();
        if let Some(note) = change.note.as_deref().filter(|n| !n.trim().is_empty()) {
            self.add_note(ticket, note).await?;
        }
        let notes = change
            .push
            .close_notes
            .as_deref()
            .filter(|n| !n.trim().is_empty());
        let mut update = Map::new();
        if let Some(p) = &change.priority {
            update.insert("priority".into(), json!({"name": p.as_str()}));
        }
        if closing {
            if !update.is_empty() {
                let call = SdpCall::new("update_request", Method::PUT, format!("requests/{id}"))
                    .input(json!({"request": update}));
                self.call(&call).await?;
            }
            let mut info = Map::new();
            if let Some(code) = &change.push.close_code {
                info.insert("closure_code".into(), json!({"name": code.as_str()}));
            }
            info.insert("closure_comments".into(), json!(notes.unwrap_or_default()));
            info.insert("requester_ack_resolution".into(), json!(false));
            let call = SdpCall::new(
                "close_request",
                Method::PUT,
                format!("requests/{id}/_close"),
            )
            .input(json!({"request": {"closure_info": info}}));
            let body = self.call(&call).await?;
            // What `_close` answers besides its status is UNCONFIRMED: read the request back
            // when the answer does not carry it.
            return match body.get("request") {
                Some(r) if r.is_object() => observation_from_request(r, OffsetDateTime::now_utc()),
                _ => self.get_request(ticket).await,
            };
        }
        if completed && let Some(text) = notes {
            let call = SdpCall::new(
                "add_resolution",
                Method::POST,
                format!("requests/{id}/resolutions"),
            )
            .input(json!({"resolution": {"content": html(text)}}))
            .idempotent(true);
            self.call(&call).await?;
        }
        update.insert("status".into(), json!({"name": target}));
        let call = SdpCall::new("update_status", Method::PUT, format!("requests/{id}"))
            .input(json!({"request": update}));
        let body = self.call(&call).await?;
        observation_from_request(request_of(&body)?, OffsetDateTime::now_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_escaped_html() {
        assert_eq!(html("a < b & c\nnext"), "a &lt; b &amp; c<br>next");
        assert_eq!(
            cut(&"x".repeat(300), SUBJECT_MAX).chars().count(),
            SUBJECT_MAX
        );
        assert_eq!(person("a@b.c"), json!({"email_id": "a@b.c"}));
    }
}
