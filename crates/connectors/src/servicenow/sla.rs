//! SLA of tickets from `task_sla`: when each ticket's SLA is due and whether it is breached.
//!
//! ServiceNow recalculates `has_breached` and the percentages in scheduled jobs, from every
//! minute near the breach down to every few days far from it, so they lag. `planned_end_time`
//! ("Breach time", already shifted by pauses) is the truth: a running SLA is breached once the
//! clock passes it, a finished one if it stopped after it. `has_breached = true` is still believed
//! (the engine never sets it wrongly, it only sets it late).

use std::collections::BTreeMap;

use lockstep_domain::ObservedFields;
use time::OffsetDateTime;

use super::client::ServiceNowClient;
use super::list::{ListQuery, in_list};
use super::record::{SnRecord, parse_sn_datetime};
use crate::error::Result;

/// Ticket sys_ids per task_sla query (keeps the URL well below 2048 characters).
const IDS_PER_QUERY: usize = 40;

pub const SLA_FIELDS: &str =
    "sys_id,task,sla,stage,has_breached,planned_end_time,start_time,end_time,pause_time,active";

/// Where one SLA stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaStage {
    InProgress,
    Paused,
    Completed,
    Cancelled,
    /// The legacy engine's explicit breached stage.
    Breached,
}

impl SlaStage {
    /// From the raw value or label (`in_progress`, `In progress`, …).
    pub fn parse(value: &str) -> Option<Self> {
        let v = value.trim().to_ascii_lowercase().replace(' ', "_");
        Some(match v.as_str() {
            "in_progress" | "inprogress" => Self::InProgress,
            "paused" => Self::Paused,
            "completed" | "achieved" => Self::Completed,
            "cancelled" | "canceled" => Self::Cancelled,
            "breached" => Self::Breached,
            _ => return None,
        })
    }
}

/// One `task_sla` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaRecord {
    pub sys_id: String,
    /// The ticket's sys_id.
    pub task: String,
    /// The SLA definition's name.
    pub name: Option<String>,
    pub stage: Option<SlaStage>,
    pub planned_end: Option<OffsetDateTime>,
    pub end_time: Option<OffsetDateTime>,
    pub pause_time: Option<OffsetDateTime>,
    pub has_breached: bool,
    pub active: bool,
}

impl SlaRecord {
    pub fn from_record(r: &SnRecord) -> Option<Self> {
        let stage = r
            .value("stage")
            .and_then(SlaStage::parse)
            .or_else(|| r.display("stage").and_then(SlaStage::parse));
        Some(Self {
            sys_id: r.value("sys_id")?.to_owned(),
            task: r.value("task")?.to_owned(),
            name: r.display("sla").map(str::to_owned),
            stage,
            planned_end: r.value("planned_end_time").and_then(parse_sn_datetime),
            end_time: r.value("end_time").and_then(parse_sn_datetime),
            pause_time: r.value("pause_time").and_then(parse_sn_datetime),
            has_breached: r.value("has_breached") == Some("true"),
            active: r.value("active") != Some("false"),
        })
    }

    fn cancelled(&self) -> bool {
        self.stage == Some(SlaStage::Cancelled)
    }

    /// Still counting (or paused): not completed, cancelled or otherwise stopped.
    pub fn running(&self) -> bool {
        !self.cancelled()
            && !matches!(self.stage, Some(SlaStage::Completed))
            && self.end_time.is_none()
            && self.active
    }

    /// Breached at `now`, judged from `planned_end_time`.
    pub fn breached(&self, now: OffsetDateTime) -> bool {
        if self.cancelled() {
            return false;
        }
        if self.has_breached || self.stage == Some(SlaStage::Breached) {
            return true;
        }
        let Some(planned) = self.planned_end else {
            return false;
        };
        if let Some(end) = self.end_time {
            return end > planned;
        }
        if self.stage == Some(SlaStage::Paused) {
            // A paused SLA's clock stands still; it breached only if it paused after the breach.
            return self.pause_time.is_some_and(|p| p > planned);
        }
        self.running() && now > planned
    }
}

/// The SLA picture of one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSla {
    pub task: String,
    /// The earliest breach time of the SLAs still running.
    pub due: Option<OffsetDateTime>,
    /// Any SLA breached (cancelled ones do not count).
    pub breached: bool,
    pub slas: Vec<SlaRecord>,
}

impl TicketSla {
    pub fn from_slas(task: String, slas: Vec<SlaRecord>, now: OffsetDateTime) -> Self {
        let due = slas
            .iter()
            .filter(|s| s.running())
            .filter_map(|s| s.planned_end)
            .min();
        let breached = slas.iter().any(|s| s.breached(now));
        Self {
            task,
            due,
            breached,
            slas,
        }
    }

    /// Writes due and breached into an observation's fields.
    pub fn apply_to(&self, fields: &mut ObservedFields) {
        fields.sla_due = self.due;
        fields.sla_breached = Some(self.breached);
    }
}

impl ServiceNowClient {
    /// The SLAs of the given tickets (sys_ids of incidents or change requests), keyed by sys_id,
    /// judged at `now` (normally the current time). Tickets without SLA rows are absent.
    pub async fn read_slas(
        &self,
        task_sys_ids: &[&str],
        now: OffsetDateTime,
    ) -> Result<BTreeMap<String, TicketSla>> {
        let mut by_task: BTreeMap<String, Vec<SlaRecord>> = BTreeMap::new();
        for chunk in task_sys_ids.chunks(IDS_PER_QUERY) {
            let query = ListQuery {
                op: "read_task_sla",
                table: "task_sla".into(),
                query: format!(
                    "taskIN{}^ORDERBYtask^ORDERBYsys_id",
                    in_list(chunk.iter().copied())
                ),
                fields: Some(SLA_FIELDS.into()),
                display_value: "all",
                page_size: 200,
                max_rows: usize::MAX,
            };
            for row in self.list_all(&query).await?.rows {
                match SlaRecord::from_record(&row) {
                    Some(sla) => by_task.entry(sla.task.clone()).or_default().push(sla),
                    None => tracing::warn!(
                        sys_id = row.value("sys_id").unwrap_or("?"),
                        "task_sla row without sys_id or task; skipped"
                    ),
                }
            }
        }
        Ok(by_task
            .into_iter()
            .map(|(task, slas)| (task.clone(), TicketSla::from_slas(task, slas, now)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    fn sla(stage: &str, planned: &str, end: &str, has_breached: &str) -> SlaRecord {
        SlaRecord::from_record(&SnRecord::from_pairs([
            ("sys_id", "s1"),
            ("task", "t1"),
            ("stage", stage),
            ("planned_end_time", planned),
            ("end_time", end),
            ("has_breached", has_breached),
            ("active", "true"),
        ]))
        .unwrap()
    }

    #[test]
    fn breach_is_computed_from_planned_end_not_the_lagging_flag() {
        // Running, breach time passed, flag not yet updated by the scheduled job.
        assert!(sla("in_progress", "2026-03-01 11:59:00", "", "false").breached(NOW));
        assert!(!sla("in_progress", "2026-03-01 12:01:00", "", "false").breached(NOW));
        // Finished: breached only if it stopped after the breach time.
        assert!(
            !sla(
                "completed",
                "2026-03-01 11:00:00",
                "2026-03-01 10:59:00",
                "false"
            )
            .breached(NOW)
        );
        assert!(
            sla(
                "completed",
                "2026-03-01 11:00:00",
                "2026-03-01 11:30:00",
                "false"
            )
            .breached(NOW)
        );
        // Cancelled never counts; a set flag is believed.
        assert!(!sla("cancelled", "2026-03-01 11:00:00", "", "true").breached(NOW));
        assert!(sla("in_progress", "2026-03-01 13:00:00", "", "true").breached(NOW));
        // Paused: the clock stands still.
        let mut paused = sla("paused", "2026-03-01 11:00:00", "", "false");
        assert!(!paused.breached(NOW));
        paused.pause_time = Some(datetime!(2026-03-01 11:10 UTC));
        assert!(paused.breached(NOW));
        assert_eq!(SlaStage::parse("In progress"), Some(SlaStage::InProgress));
    }

    #[test]
    fn due_is_the_earliest_running_breach_time() {
        let slas = vec![
            sla("in_progress", "2026-03-02 09:00:00", "", "false"),
            sla("in_progress", "2026-03-01 18:00:00", "", "false"),
            sla(
                "completed",
                "2026-03-01 10:00:00",
                "2026-03-01 09:00:00",
                "false",
            ),
        ];
        let t = TicketSla::from_slas("t1".into(), slas, NOW);
        assert_eq!(t.due, Some(datetime!(2026-03-01 18:00 UTC)));
        assert!(!t.breached);
        let mut fields = ObservedFields::default();
        t.apply_to(&mut fields);
        assert_eq!(fields.sla_breached, Some(false));
        assert_eq!(fields.sla_due, t.due);
    }
}
